"""Who may see which contract: decided here and nowhere else.

Every view and API endpoint filters through these functions, so a permission
rule is written once.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from contracts.models import DRAFT_VIEWERS, Contract, Membership

AnyUser = AbstractBaseUser | AnonymousUser


def membership_of(user: AnyUser) -> Membership | None:
    if not user.is_authenticated:
        return None
    try:
        return user.membership  # type: ignore[union-attr]
    except Membership.DoesNotExist:
        return None


def contracts_for(user: AnyUser) -> QuerySet[Contract]:
    """The contracts a user's organisation is party to (all of them for a superuser)."""
    contracts = Contract.objects.select_related("commissioner", "provider", "measure_set")
    if user.is_authenticated and user.is_superuser:
        return contracts
    membership = membership_of(user)
    if membership is None:
        return contracts.none()
    org = membership.organisation_id
    return contracts.filter(Q(commissioner_id=org) | Q(provider_id=org))


def contract_for(user: AnyUser, slug: str) -> Contract:
    """One contract the user may see, or 404 (never a hint that it exists)."""
    try:
        return contracts_for(user).get(slug=slug)
    except Contract.DoesNotExist:
        raise Http404("No such contract.") from None


def may_see_drafts(user: AnyUser) -> bool:
    """Provider staff, commissioners and admins see draft figures, flagged (R13)."""
    if user.is_authenticated and user.is_superuser:
        return True
    membership = membership_of(user)
    return membership is not None and membership.role in DRAFT_VIEWERS
