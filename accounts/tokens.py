"""API tokens: one per person, created by its owner, revocable, every change audited.

A token is DRF's ``Token`` (``Authorization: Token <key>``). Its owner creates it from a
signed-in session (which has passed the second factor where one is needed, see
``accounts.twofactor``) and sees the key once. The owner, an admin of the owner's
organisation, or a Django admin may revoke it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from rest_framework.authtoken.models import Token

from accounts.models import AccountEvent
from contracts.access import membership_of
from contracts.models import Role


def token_of(person: Any) -> Token | None:
    return Token.objects.filter(user=person).first()


def issue(person: Any, actor: Any, note: str = "") -> str:
    """A new token for ``person``, replacing any they had; returns its key (shown once)."""
    with transaction.atomic():
        replaced = Token.objects.filter(user=person).delete()[0] > 0
        token = Token.objects.create(user=person)
        if replaced:
            note = " ".join(filter(None, ["Replaced the previous token.", note]))
        AccountEvent.record(AccountEvent.Kind.TOKEN_CREATED, person, actor, note)
    return token.key


def revoke(person: Any, actor: Any, note: str = "") -> bool:
    """Delete ``person``'s token; True if there was one. Requests with it fail from now on."""
    with transaction.atomic():
        deleted = Token.objects.filter(user=person).delete()[0] > 0
        if deleted:
            AccountEvent.record(AccountEvent.Kind.TOKEN_REVOKED, person, actor, note)
    return deleted


def is_organisation_admin(user: Any) -> bool:
    membership = membership_of(user)
    return membership is not None and membership.role == Role.ADMIN


def people_whose_tokens(actor: Any) -> QuerySet:
    """The people whose tokens ``actor`` may revoke besides their own: everyone in the
    organisation of which they are an admin; no one otherwise."""
    User = get_user_model()
    if not is_organisation_admin(actor):
        return User.objects.none()
    return User.objects.filter(membership__organisation_id=actor.membership.organisation_id)
