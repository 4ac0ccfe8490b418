"""The Django admin of sign-in rules, invitations, people's history and user accounts.

Django's own user admin is replaced by ``AccountAdmin``, which records every change it
makes to an account (username, email, names, active, staff and superuser status,
groups, permissions, dates), from what to what, by whom and, if given, why, as a
``PersonEvent``: the record the People pages keep, so a person's page shows it beside
what their organisation's admin did. Passwords set there are recorded as
``accounts.AccountEvent``, like every other password change.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import AccountEvent
from identity import people
from identity.models import ExternalAccount, Invitation, PersonEvent, SignInRule

User = get_user_model()
IN_THE_ADMIN = "In the Django admin."


def _reason_field() -> forms.CharField:
    return forms.CharField(
        label="Reason for this change",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Optional. Kept with the change in the person's history, shown on their People page.",
    )


class AccountChangeForm(UserChangeForm):
    reason = _reason_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "email" in self.fields:
            self.fields["email"].help_text = (
                "Single sign-on finds an existing account by this address, so no two accounts share one."
            )

    def clean_email(self) -> str:
        email = (self.cleaned_data.get("email") or "").strip()
        if email:
            other = User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).first()
            if other is not None:
                raise forms.ValidationError(
                    f"{email} is the email address of {other.get_username()}: single sign-on finds people "
                    "by email address, so two accounts cannot share one."
                )
        return email


class AccountCreationForm(AdminUserCreationForm):
    reason = _reason_field()


admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
    fieldsets = (*UserAdmin.fieldsets, ("Why", {"fields": ("reason",)}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Why", {"fields": ("reason",)}))
    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_staff")

    # The admin saves the account (save_model), then its groups and permissions
    # (save_related), in one transaction: the state before is read first, the event
    # written last, so it sees every change.
    def save_model(self, request: HttpRequest, obj: Any, form: forms.Form, change: bool) -> None:
        if change:
            form.account_before = people.account_state(User.objects.get(pk=obj.pk))  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: forms.Form, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        user = form.instance  # type: ignore[attr-defined]
        reason = form.cleaned_data.get("reason", "")
        people.record_account_change(request.user, user, getattr(form, "account_before", None), reason)
        if not change and user.has_usable_password():
            AccountEvent.record_password(user, request.user, had_password=False, note=IN_THE_ADMIN)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            people.record_account_change(request.user, obj, None, deleted=True)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            for user in queryset:
                people.record_account_change(request.user, user, None, deleted=True)
            super().delete_queryset(request, queryset)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """Django's page for setting someone's password, recorded when it changes one."""
        with transaction.atomic():
            before = self.get_object(request, unquote(id))
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and before is not None:
                after = User.objects.get(pk=before.pk)
                if after.password != before.password:
                    AccountEvent.record_password(
                        after, request.user, had_password=before.has_usable_password(), note=IN_THE_ADMIN
                    )
        return response


@admin.register(SignInRule)
class SignInRuleAdmin(SimpleHistoryAdmin):
    """Who may sign in through single sign-on, and as whom. Validation (a real domain,
    a role the organisation's side can hold, one active rule per value) is the model's."""

    list_display = ["priority", "match", "value", "organisation", "role", "is_active"]
    list_display_links = ["value"]
    list_filter = ["is_active", "match", "organisation", "role"]
    search_fields = ["value", "note", "organisation__name"]
    list_select_related = ["organisation"]
    fields = ["match", "value", "organisation", "role", "priority", "is_active", "note"]


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(SimpleHistoryAdmin, _ReadOnly):
    """Invitations are made and withdrawn on the people pages, where they are audited."""

    list_display = ["email", "organisation", "role", "invited_by", "created_at", "expires_at", "accepted_at", "withdrawn_at"]
    list_filter = ["organisation", "role"]
    search_fields = ["email"]
    list_select_related = ["organisation", "invited_by"]
    exclude = ["key"]


@admin.register(PersonEvent)
class PersonEventAdmin(_ReadOnly):
    list_display = ["at", "organisation", "person", "action", "from_role", "to_role", "what_changed", "actor", "reason"]
    list_filter = ["action", "organisation"]
    search_fields = ["person__username", "person__email", "reason"]
    list_select_related = ["organisation", "person", "actor"]
    date_hierarchy = "at"

    @admin.display(description="changes")
    def what_changed(self, event: PersonEvent) -> str:
        return "; ".join(event.change_lines())


@admin.register(ExternalAccount)
class ExternalAccountAdmin(_ReadOnly):
    list_display = ["user", "issuer", "subject", "rule", "last_signed_in_at"]
    search_fields = ["user__username", "user__email", "subject"]
    list_select_related = ["user", "rule"]
