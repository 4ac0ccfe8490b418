"""From a signed-in person's claims to an account, organisation and role.

The identity provider has already proved who the person is (``identity.backends``
checks the tokens); this module decides whether they may come in, and as whom, by the
sign-in rules an admin keeps (``SignInRule``). A person no active rule covers is
refused and nothing is created. An existing account is found by email; if the rule
now says another organisation or role, the membership follows it, recorded in the
membership's history and as a ``PersonEvent``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from contracts.models import Membership
from identity.models import ExternalAccount, PersonEvent, SignInRule

logger = logging.getLogger(__name__)

User = get_user_model()


class SignInRefused(Exception):
    """The person may not sign in; the message says why, in words for them."""


def groups_from(claims: Mapping[str, Any], claim: str) -> list[str]:
    """The groups claim as a list of strings: providers send a list, or one string."""
    raw = claims.get(claim)
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list | tuple):
        return [str(item) for item in raw if item is not None and str(item)]
    return []


def _email_of(claims: Mapping[str, Any]) -> str:
    email = str(claims.get("email") or "").strip()
    if not email:
        raise SignInRefused(
            "Your organisation's account did not tell us your email address, so we cannot tell "
            "which organisation you work for. Ask your IT team to release the email claim."
        )
    try:
        validate_email(email)
    except ValidationError:
        raise SignInRefused(f"Your organisation's account gave the email address “{email}”, which is not valid.") from None
    if claims.get("email_verified") is False:
        raise SignInRefused(
            f"Your organisation's account says the email address {email} is not verified, so it cannot be used to sign in."
        )
    return email


def _username_for(email: str) -> str:
    base = email.lower()[:140]
    username, n = base, 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


def _account_for(email: str, claims: Mapping[str, Any]) -> AbstractUser:
    users = list(User.objects.filter(email__iexact=email).select_for_update())
    if len(users) > 1:
        raise SignInRefused(
            f"More than one account here has the email address {email}, so we cannot tell which is yours. "
            "Ask your organisation's admin to remove the duplicate."
        )
    if users:
        user = users[0]
        if user.is_superuser:
            # A superuser sees every organisation; such an account is never handed to
            # whoever the identity provider vouches for by email.
            raise SignInRefused(
                f"The account for {email} is a superuser account, which signs in with its own password only."
            )
        if not user.is_active:
            raise SignInRefused(
                f"The account for {email} has been deactivated. Ask your organisation's admin if you need access again."
            )
        return user
    return User.objects.create_user(
        _username_for(email),
        email=email,
        first_name=str(claims.get("given_name") or "")[:150],
        last_name=str(claims.get("family_name") or "")[:150],
    )  # no usable password: this person signs in through their organisation only


@transaction.atomic
def sign_in_from_claims(claims: Mapping[str, Any], groups_claim: str = "groups") -> AbstractUser:
    """The account for these verified claims, its membership set by the first matching
    rule; ``SignInRefused`` if no active rule covers the person or the account may not
    be used. Nothing is created for a refused person."""
    email = _email_of(claims)
    groups = groups_from(claims, groups_claim)
    rule = SignInRule.objects.first_match(email, groups)
    if rule is None:
        logger.warning("Single sign-on refused for %s: no sign-in rule matches (groups %s)", email, groups)
        raise SignInRefused(
            f"No organisation here accepts {email} yet: none of the sign-in rules covers your email "
            "address or your groups. Ask the admin of your organisation on this service to add you."
        )
    user = _account_for(email, claims)
    _apply_rule(user, rule)
    ExternalAccount.objects.update_or_create(
        user=user,
        defaults={
            "issuer": str(claims.get("iss") or "")[:300],
            "subject": str(claims.get("sub") or "")[:300],
            "rule": rule,
            "last_signed_in_at": timezone.now(),
        },
    )
    return user


def _apply_rule(user: AbstractUser, rule: SignInRule) -> None:
    reason = f"Applied {rule.describe()} at sign-in"
    membership = Membership.objects.select_for_update().filter(user=user).first()
    if membership is None:
        membership = Membership(user=user, organisation=rule.organisation, role=rule.role)
        membership._history_user = user  # type: ignore[attr-defined]
        membership._change_reason = reason[:100]  # type: ignore[attr-defined]
        membership.save()
        PersonEvent.objects.create(
            organisation=rule.organisation, person=user, actor=user, rule=rule,
            action=PersonEvent.Action.JOINED_BY_RULE, to_role=rule.role, reason=reason,
        )
        return
    if membership.organisation_id == rule.organisation_id and membership.role == rule.role:
        return
    old_org, old_role = membership.organisation, membership.role
    membership.organisation, membership.role = rule.organisation, rule.role
    membership._history_user = user  # type: ignore[attr-defined]
    membership._change_reason = reason[:100]  # type: ignore[attr-defined]
    membership.save(update_fields=["organisation", "role"])
    moved = f" (moved from {old_org})" if old_org.pk != rule.organisation_id else ""
    PersonEvent.objects.create(
        organisation=rule.organisation, person=user, actor=user, rule=rule,
        action=PersonEvent.Action.CHANGED_BY_RULE, from_role=old_role, to_role=rule.role,
        reason=reason + moved,
    )
    if old_org.pk != rule.organisation_id:
        # The organisation they left keeps a record of their leaving too.
        PersonEvent.objects.create(
            organisation=old_org, person=user, actor=user, rule=rule,
            action=PersonEvent.Action.CHANGED_BY_RULE, from_role=old_role, to_role=rule.role,
            reason=f"{reason}: moved to {rule.organisation}",
        )
