"""Who may write and publish a committee report, built on ``contracts.access``.

``contracts.access`` has no action for the report yet, so the report's rights are read
from the rights it does decide: the commissioning council's commissioners (who sign
returns off) and admins (who keep targets) write the report's text and review its drafted
commentary; commissioners publish it. Once ``contracts.access.Do`` gains ``EDIT_REPORT``
and ``PUBLISH_REPORT``, these become one-line calls to ``access.may``.
"""

from __future__ import annotations

from contracts import access
from contracts.access import AnyUser, Do
from contracts.models import Contract


def may_edit_report(user: AnyUser, contract: Contract) -> bool:
    rights = access.rights(user, contract)
    return Do.SIGN_OFF in rights or Do.DRAFT_TARGETS in rights


def may_publish_report(user: AnyUser, contract: Contract) -> bool:
    return Do.SIGN_OFF in access.rights(user, contract)


def may_see_retained(user: AnyUser, contract: Contract) -> bool:
    """Retained services are the commissioning council's own: its staff see them, the
    provider never does (``access.retained_council_for``)."""
    return access.retained_council_for(user) == contract.commissioner_id


def may_record_rebase(user: AnyUser, contract: Contract) -> bool:
    """Who may say a measure's process changed, so its limits are recalculated: the
    council's commissioners (who sign the figures off) and admins (who keep the measures),
    the same people who write the report."""
    return may_edit_report(user, contract)
