from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from identity.models import ExternalAccount, Invitation, PersonEvent, SignInRule


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
    list_display = ["at", "organisation", "person", "action", "from_role", "to_role", "actor", "reason"]
    list_filter = ["action", "organisation"]
    search_fields = ["person__username", "person__email", "reason"]
    list_select_related = ["organisation", "person", "actor"]
    date_hierarchy = "at"


@admin.register(ExternalAccount)
class ExternalAccountAdmin(_ReadOnly):
    list_display = ["user", "issuer", "subject", "rule", "last_signed_in_at"]
    search_fields = ["user__username", "user__email", "subject"]
    list_select_related = ["user", "rule"]
