"""Admin for people's credentials: every removal is recorded as an ``AccountEvent``.

An admin may remove a person's authenticator (a lost phone: the person sets up a new one
at their next sign-in) or revoke their API token, and may not create either: a secret
made by someone else would be known to them. Sign-in successes, failures and lockouts are
django-axes' own admin pages (Access attempts, Access logs, Access failures).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from accounts import tokens, twofactor
from accounts.models import AccountEvent

IN_THE_ADMIN = "In the Django admin."


@admin.register(AccountEvent)
class AccountEventAdmin(admin.ModelAdmin):
    list_display = ["at", "kind", "username", "actor_username", "note"]
    list_filter = ["kind", "at"]
    search_fields = ["username", "actor_username"]
    date_hierarchy = "at"

    # The record of what happened is never written or changed by hand.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class AuthenticatorAdmin(TOTPDeviceAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: TOTPDevice) -> None:
        twofactor.remove_device(obj, request.user, IN_THE_ADMIN)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            for device in queryset.select_related("user"):
                twofactor.remove_device(device, request.user, IN_THE_ADMIN)


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class APITokenAdmin(TokenAdmin):
    # The key is a password: it is shown once, to its owner, when made.
    list_display = ("user", "created")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: TokenProxy) -> None:
        tokens.revoke(obj.user, request.user, IN_THE_ADMIN)
