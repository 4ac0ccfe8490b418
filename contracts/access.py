"""Who may see and do what: decided here and nowhere else.

Every view, API endpoint, admin action and command filters through these
functions, so a permission rule is written once. A user works for one
organisation in one role (``Membership``); what a role may do depends on whether
its organisation is the contract's provider or its commissioner.
"""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from contracts.models import (
    DRAFT_VIEWERS,
    Contract,
    Membership,
    MonthlyReturn,
    ReturnState,
    Role,
    TargetRevision,
)

AnyUser = AbstractBaseUser | AnonymousUser


class Do(StrEnum):
    """Actions on a contract: its returns, its targets and its definitions."""

    VIEW = "view"
    VIEW_DRAFTS = "view_drafts"
    EDIT_ENTRIES = "edit_entries"
    ANSWER = "answer"
    SUBMIT = "submit"
    QUERY = "query"
    SIGN_OFF = "sign_off"
    REOPEN = "reopen"
    OPEN_RETURN = "open_return"
    DRAFT_TARGETS = "draft_targets"
    APPROVE_TARGETS = "approve_targets"
    # Create and change the contract itself, its measures and its targets (the API).
    KEEP_DEFINITIONS = "keep_definitions"


# What each role may do on a contract its organisation is party to, by side.
PROVIDER_RIGHTS: dict[str, frozenset[Do]] = {
    Role.PROVIDER_EDITOR: frozenset({Do.VIEW, Do.VIEW_DRAFTS, Do.EDIT_ENTRIES, Do.ANSWER}),
    Role.PROVIDER_LEAD: frozenset({Do.VIEW, Do.VIEW_DRAFTS, Do.EDIT_ENTRIES, Do.ANSWER, Do.SUBMIT}),
}
COUNCIL_RIGHTS: dict[str, frozenset[Do]] = {
    Role.COMMISSIONER: frozenset(
        {Do.VIEW, Do.VIEW_DRAFTS, Do.QUERY, Do.SIGN_OFF, Do.REOPEN, Do.OPEN_RETURN, Do.APPROVE_TARGETS}
    ),
    Role.ADMIN: frozenset(
        {Do.VIEW, Do.VIEW_DRAFTS, Do.OPEN_RETURN, Do.DRAFT_TARGETS, Do.KEEP_DEFINITIONS}
    ),
    Role.READER: frozenset({Do.VIEW}),
    Role.OFFICER: frozenset({Do.VIEW}),
}
# What a superuser may do on every contract whatever their membership: keep its
# definitions, as the Django admin lets them. Their other rights are their role's.
SUPERUSER_RIGHTS: frozenset[Do] = frozenset({Do.KEEP_DEFINITIONS})
# A refusal in words for the person refused, where the action's name would not say it.
REFUSALS: dict[Do, str] = {
    Do.KEEP_DEFINITIONS: "Only the council's admins create and change contracts, measures "
    "and targets.",
}


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


def may_see_drafts(user: AnyUser, contract: Contract | None = None) -> bool:
    """Provider staff, commissioners and admins see draft figures, flagged (R13).

    With a contract, the user's organisation must also be party to it on the side
    whose role allows drafts (a provider role at the council sees none).
    """
    if contract is not None:
        return Do.VIEW_DRAFTS in rights(user, contract)
    if user.is_authenticated and user.is_superuser:
        return True
    membership = membership_of(user)
    return membership is not None and membership.role in DRAFT_VIEWERS


def rights(user: AnyUser, contract: Contract | None) -> frozenset[Do]:
    """Everything a user may do on a contract: nothing on another organisation's.

    ``None`` is a contract not yet made, which the user's own organisation would
    commission: its council rights (an admin may create one, ``Do.KEEP_DEFINITIONS``).
    """
    superuser = user.is_authenticated and user.is_superuser
    membership = membership_of(user)
    if membership is None:
        own = frozenset({Do.VIEW, Do.VIEW_DRAFTS}) if superuser else frozenset()
    elif contract is None:
        own = COUNCIL_RIGHTS.get(membership.role, frozenset())
    elif membership.organisation_id == contract.provider_id:
        own = PROVIDER_RIGHTS.get(membership.role, frozenset())
    elif membership.organisation_id == contract.commissioner_id:
        own = COUNCIL_RIGHTS.get(membership.role, frozenset())
    else:
        own = frozenset()
    return own | SUPERUSER_RIGHTS if superuser else own


def may(user: AnyUser, action: Do, contract: Contract | None) -> bool:
    return action in rights(user, contract)


def require(user: AnyUser, action: Do, contract: Contract | None) -> None:
    """Raise PermissionDenied unless the user may act; callers that hide existence 404 first."""
    if not may(user, action, contract):
        on = contract if contract is not None else "a new contract"
        raise PermissionDenied(
            REFUSALS.get(action) or f"You may not {action.value.replace('_', ' ')} on {on}."
        )


def returns_for(user: AnyUser) -> QuerySet[MonthlyReturn]:
    """The returns a user may see: drafts only for those who see draft figures (R13)."""
    returns = MonthlyReturn.objects.select_related("contract").filter(contract__in=contracts_for(user))
    if not may_see_drafts(user):
        returns = returns.filter(state=ReturnState.SIGNED_OFF)
    return returns


def return_for(user: AnyUser, pk: int) -> MonthlyReturn:
    """One return the user may see, or 404."""
    try:
        return returns_for(user).get(pk=pk)
    except (MonthlyReturn.DoesNotExist, ValueError, TypeError):
        raise Http404("No such return.") from None


# --- Retained services: the council's own datasets ---------------------------------------

RETAINED_EDITORS = {Role.OFFICER}
RETAINED_READERS = {Role.OFFICER, Role.COMMISSIONER, Role.ADMIN, Role.READER}


def retained_council_for(user: AnyUser) -> int | None:
    """The council whose retained datasets the user may see: its own, for council staff.
    Providers never see them."""
    membership = membership_of(user)
    if membership is None or membership.role not in RETAINED_READERS:
        return None
    if membership.organisation.kind != "council":
        return None
    return membership.organisation_id


def may_edit_retained(user: AnyUser) -> bool:
    membership = membership_of(user)
    return membership is not None and membership.role in RETAINED_EDITORS


def revision_for(user: AnyUser, pk: int) -> TargetRevision:
    """A target revision of a contract the user may see, or 404."""
    try:
        revision = (
            TargetRevision.objects.select_related(
                "contract__commissioner", "contract__provider", "contract__measure_set", "drafted_by", "approved_by"
            )
            .filter(contract__in=contracts_for(user))
            .get(pk=pk)
        )
    except (TargetRevision.DoesNotExist, ValueError, TypeError):
        raise Http404("No such revision.") from None
    if not may(user, Do.VIEW, revision.contract):
        raise Http404("No such revision.")
    return revision
