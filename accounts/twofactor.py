"""Two-factor authentication (TOTP, django-otp): who needs it, and the steps to pass it.

With ``TWO_FACTOR_REQUIRED`` on (the default unless ``DEBUG``), a person who signs in
with a password must also enter a 6-digit code from an authenticator app when they have
set one up; Django staff and superusers, and commissioners and admins (their
``Membership`` role), must set one up before they reach anything else. A session signed
in through the organisation's identity provider (single sign-on) is exempt: the identity
provider is responsible for its own second factor. With the setting off, no one is
asked for a code (development only; the sign-in page says so).

``accounts.middleware.TwoFactorMiddleware`` enforces this on every request, through
``step_needed`` here; the views call the rest.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import django_otp
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.models import VerifyNotAllowed
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccountEvent
from contracts.access import membership_of
from contracts.models import Role

# How the person signed in, kept in the session. The single sign-on callback sets
# SIGN_IN_METHOD_OIDC; the password sign-in sets SIGN_IN_METHOD_PASSWORD.
SIGN_IN_METHOD_KEY = "sign_in_method"
SIGN_IN_METHOD_OIDC = "oidc"
SIGN_IN_METHOD_PASSWORD = "password"

# Roles whose holders must use a second factor on a local account.
ROLES_REQUIRING_TWO_FACTOR = frozenset({Role.COMMISSIONER, Role.ADMIN})

DEVICE_NAME = "Authenticator app"


class Step(StrEnum):
    NONE = "none"
    VERIFY = "verify"  # has an authenticator: enter its code
    SET_UP = "set_up"  # must have one and has none: set one up


def is_on() -> bool:
    return bool(settings.TWO_FACTOR_REQUIRED)


def is_required_for(user: Any) -> bool:
    """Must this person use a second factor on a local account?"""
    if not is_on() or not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    membership = membership_of(user)
    return membership is not None and membership.role in ROLES_REQUIRING_TWO_FACTOR


def signed_in_through_sso(request: HttpRequest) -> bool:
    return request.session.get(SIGN_IN_METHOD_KEY) == SIGN_IN_METHOD_OIDC


def is_verified(user: Any) -> bool:
    # OTPMiddleware installs is_verified(); a user object made after it ran (just
    # signed in by this request) has not passed a second factor.
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def step_needed(request: HttpRequest) -> Step:
    """What stands between this signed-in person and the rest of the service."""
    user = request.user
    if not is_on() or not user.is_authenticated:
        return Step.NONE
    if signed_in_through_sso(request) or is_verified(user):
        return Step.NONE
    if confirmed_device(user) is not None:
        return Step.VERIFY
    if is_required_for(user):
        return Step.SET_UP
    return Step.NONE


def device_being_set_up(user: Any) -> TOTPDevice:
    """The person's unconfirmed device, made with a new random key on first need.

    The key stays the same across visits to the set-up page, so a person who added it
    to their app and came back still has the right one.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_in_groups(device: TOTPDevice) -> str:
    """The key as an authenticator app takes it (base32), in groups of four for reading."""
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in (raw or "") if ch not in " -\u00a0\t")


def code_problem(device: TOTPDevice, raw: str) -> str | None:
    """Check a code against the device (counting a wrong one towards its throttle);
    None when it is right, else what to tell the person."""
    code = normalise_code(raw)
    if not code:
        return f"Enter the {device.digits}-digit code from your authenticator app"
    if not code.isdigit() or len(code) != device.digits:
        return f"The code must be {device.digits} digits, like {'12345678'[: device.digits]}"
    allowed, why = device.verify_is_allowed()
    if not allowed:
        return _throttled(why)
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        if locked.verify_token(code):
            device.refresh_from_db()
            return None
    return (
        "That code is not right: enter the code your authenticator app shows now "
        "(each code works once, for about 30 seconds)"
    )


def _throttled(why: dict[str, Any] | None) -> str:
    if why and why.get("reason") == VerifyNotAllowed.N_FAILED_ATTEMPTS and why.get("locked_until"):
        until = timezone.localtime(why["locked_until"]).strftime("%H:%M:%S")
        return (
            f"Too many wrong codes in a row: wait until {until}, then enter the code your "
            "authenticator app shows"
        )
    return "Codes cannot be checked just now: wait a minute and try again"


def mark_verified(request: HttpRequest, device: TOTPDevice) -> None:
    """The session has passed the second factor with ``device``."""
    # A new session key for the raised trust, as Django does at sign-in.
    request.session.cycle_key()
    django_otp.login(request, device)


def confirm(request: HttpRequest, device: TOTPDevice) -> None:
    """The person proved they hold the key: the device is theirs from now on."""
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=device.user, confirmed=False).exclude(pk=device.pk).delete()
        AccountEvent.record(AccountEvent.Kind.TWO_FACTOR_ENROLLED, device.user, request.user)
    mark_verified(request, device)


def remove(person: Any, actor: Any, note: str = "") -> bool:
    """Remove the person's authenticator (and any half set up); True if they had one."""
    with transaction.atomic():
        removed = [remove_device(device, actor, note) for device in TOTPDevice.objects.filter(user=person)]
    return any(removed)


def remove_device(device: TOTPDevice, actor: Any, note: str = "") -> bool:
    """Delete one device, recording the removal of a confirmed one (a half-finished set-up
    was never in use). Sessions it verified lose that at their next request."""
    with transaction.atomic():
        was_in_use = device.confirmed
        person = device.user
        device.delete()
        if was_in_use:
            AccountEvent.record(AccountEvent.Kind.TWO_FACTOR_REMOVED, person, actor, note)
    return was_in_use
