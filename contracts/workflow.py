"""The monthly return's life: open, save, submit, query, answer, sign off, reopen.

Every change to a return goes through one function here. Each runs in a
transaction, locks the row it changes (``select_for_update``), checks who may act
(``contracts.access``) and whether the state allows it, saves only the fields it
changes, and records a ``ReturnEvent``: who, when, from which state to which, and
why. Views, the API, admin actions and commands all call these functions.

Rules (rules.md): what a verdict owes (R9), draft and official figures (R14),
reopening (R15), the targets in force (R12, R16).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from contracts import access, notifications
from contracts.access import Do
from contracts.models import (
    Action,
    Contract,
    Entry,
    MonthlyReturn,
    Query,
    ReturnEvent,
    ReturnState,
)
from kpis import periods, rating
from kpis.models import Measure, Observation
from kpis.scorecard import rate_observation

# --- errors ----------------------------------------------------------------------------


class WorkflowError(Exception):
    """A request the return's rules refuse; ``status`` is the HTTP answer the API gives."""

    status = 400

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class StateError(WorkflowError):
    """The return's state does not allow this (HTTP 409)."""

    status = 409


class StaleEntry(WorkflowError):
    """Someone else saved the entry since this edit began (HTTP 409): nothing was saved."""

    status = 409

    def __init__(self, entry: Entry, submitted: dict[str, Any]) -> None:
        super().__init__(
            f"{entry.measure.code} was changed by {entry.updated_by or 'someone else'} while you "
            "were editing it. Compare the saved figure with yours and save again.",
        )
        self.entry = entry
        self.submitted = submitted


class Owed(WorkflowError):
    """Submission refused while anything is owed (R9); ``items`` says exactly what."""

    def __init__(self, items: list[OwedItem], doing: str = "submitted") -> None:
        super().__init__(f"The return cannot be {doing}: {len(items)} thing(s) still owed.")
        self.items = items


# --- what a return owes (R9) -----------------------------------------------------------


@dataclass(frozen=True)
class OwedItem:
    entry_id: int
    code: str
    kind: str  # "narrative" | "actions" | "no_data_reason" | "cannot_rate" | "answer"
    message: str


# What each kind of thing owed asks for, in words (R9).
REQUIREMENT_WORDS = {
    "no_data_reason": "the reason there is no figure",
    "narrative": "the reason for the variance",
    "actions": "at least one assurance or improvement action, with an owner and a due date",
    "cannot_rate": "a corrected definition from an admin",
    "answer": "an answer to the commissioner's query",
}


def requirements(verdict: rating.Verdict) -> list[str]:
    """What a verdict asks of the provider before the return can be submitted (R9)."""
    if verdict.status == rating.Status.CANNOT_RATE:
        return ["cannot_rate"]
    if verdict.status == rating.Status.NO_DATA:
        return ["no_data_reason"]
    if verdict.owes_narrative:
        return ["narrative", "actions"]
    return []


def owed_message(kind: str, code: str, verdict: rating.Verdict) -> str:
    if kind == "cannot_rate":
        return f"{code}: {verdict.reason} An admin must correct it."
    if kind == "narrative":
        return f"{code} is {rating.sentence(verdict.status)}: give the reason for the variance."
    if kind == "actions":
        return f"{code}: add at least one assurance or improvement action with an owner and a due date."
    if kind == "answer":
        return f"{code}: answer the commissioner's query."
    return f"{code}: give {REQUIREMENT_WORDS[kind]}."


@dataclass
class EntryStatus:
    """An entry with the verdict the engine gives its figure now."""

    entry: Entry
    verdict: rating.Verdict
    owed: list[OwedItem] = field(default_factory=list)


def entry_statuses(monthly_return: MonthlyReturn) -> list[EntryStatus]:
    """Every entry of a return with its verdict and what it owes, in a fixed number of queries."""
    entries = list(
        monthly_return.entries.select_related("measure", "observation", "updated_by")
        .prefetch_related("measure__targets", "actions", "queries")
        .order_by("measure__display_order", "measure__code")
    )
    statuses = []
    for entry in entries:
        statuses.append(_status_of(monthly_return, entry))
    return statuses


def _status_of(monthly_return: MonthlyReturn, entry: Entry) -> EntryStatus:
    measure = entry.measure
    _, verdict = rate_observation(
        measure, entry.observation, list(measure.targets.all()), monthly_return.period_end
    )
    owed: list[OwedItem] = []
    code = measure.code
    given = {
        "no_data_reason": bool(entry.no_data_reason.strip()),
        "narrative": bool(entry.variance_reason.strip()),
        "actions": bool(entry.actions.all()),
    }
    for kind in requirements(verdict):
        if not given.get(kind, False):
            owed.append(OwedItem(entry.pk, code, kind, owed_message(kind, code, verdict)))
    for query in entry.queries.all():
        if query.closed_at is None and not query.answer.strip():
            owed.append(OwedItem(entry.pk, code, "answer", owed_message("answer", code, verdict)))
    return EntryStatus(entry, verdict, owed)


def what_is_owed(monthly_return: MonthlyReturn) -> list[OwedItem]:
    return [item for status in entry_statuses(monthly_return) for item in status.owed]


# --- helpers ---------------------------------------------------------------------------


def _record(
    monthly_return: MonthlyReturn,
    action: str,
    actor: Any,
    from_state: str,
    reason: str = "",
    **detail: Any,
) -> ReturnEvent:
    return ReturnEvent.objects.create(
        monthly_return=monthly_return,
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        at=timezone.now(),
        from_state=from_state,
        to_state=monthly_return.state,
        reason=reason,
        detail=detail,
    )


def _locked_return(return_id: int) -> MonthlyReturn:
    # Lock the return only, not its contract: steps on other returns need not queue.
    return MonthlyReturn.objects.select_for_update(of=("self",)).select_related("contract").get(pk=return_id)


def _move(monthly_return: MonthlyReturn, to_state: str) -> str:
    before = monthly_return.state
    monthly_return.state = to_state
    monthly_return.save(update_fields=["state", "updated_at"])
    return before


def _require_state(monthly_return: MonthlyReturn, allowed: Iterable[str], doing: str) -> None:
    allowed = tuple(allowed)
    if monthly_return.state not in allowed:
        words = " or ".join(ReturnState(s).label.lower() for s in allowed)
        raise StateError(
            f"The {monthly_return.period} return is {monthly_return.get_state_display().lower()}: "
            f"it can be {doing} only when {words}."
        )


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


# --- opening ---------------------------------------------------------------------------


def due_measures(contract: Contract, month: periods.Period) -> list[tuple[Measure, periods.Period]]:
    """The measures whose figures belong to this month's return, with the period each covers.

    Monthly measures report the month itself; quarterly, termly and annual measures are
    due in the month their period ends, or ``lag_months`` later (R13).
    """
    due = []
    for measure in contract.measure_set.measures.all():
        period = periods.due_period(measure.frequency, measure.year_type, month, measure.lag_months)
        if period is not None:
            due.append((measure, period))
    return due


def open_return(contract: Contract, period: str, actor: Any = None) -> MonthlyReturn:
    """Open the return for a contract and month, with an entry for each measure due.

    Safe to repeat: an existing return is returned unchanged (the unique constraint on
    contract and period, not just this check, guarantees one). ``actor`` None means
    the scheduler; a person must be allowed to open returns.
    """
    if actor is not None:
        access.require(actor, Do.OPEN_RETURN, contract)
    month = periods.parse_period(period)
    if month.kind != "month":
        raise WorkflowError(f"A return covers a month (YYYY-MM), not '{period}'.", field="period")
    with transaction.atomic():
        monthly_return, created = MonthlyReturn.objects.get_or_create(
            contract=contract,
            period=month.label,
            defaults={"period_start": month.start, "period_end": month.end},
        )
        if created:
            for measure, covered in due_measures(contract, month):
                observation = Observation.objects.filter(measure=measure, period=covered.label).first()
                Entry.objects.create(
                    monthly_return=monthly_return,
                    measure=measure,
                    period=covered.label,
                    observation=observation if observation and not hasattr(observation, "entry") else None,
                )
            _record(monthly_return, ReturnEvent.Action.OPEN, actor, "")
    return monthly_return


# --- entering figures ------------------------------------------------------------------

FIGURE_FIELDS = ("value", "numerator", "denominator", "as_at", "flags", "note", "second_value", "second_source")
NARRATIVE_FIELDS = ("variance_reason", "no_data_reason")


def editable_entry_ids(monthly_return: MonthlyReturn) -> set[int] | None:
    """Which entries the provider may change now: all while draft (None), only the
    queried ones while queried, none once submitted or signed off."""
    if monthly_return.state == ReturnState.DRAFT:
        return None
    if monthly_return.state == ReturnState.QUERIED:
        return set(
            Query.objects.filter(entry__monthly_return=monthly_return, closed_at__isnull=True).values_list(
                "entry_id", flat=True
            )
        )
    return set()


def save_entry(
    entry_id: int,
    actor: Any,
    *,
    version: int,
    figures: dict[str, Any],
    narrative: dict[str, str] | None = None,
    actions: Sequence[dict[str, Any]] = (),
    reason: str = "",
) -> Entry:
    """Save a figure and its narrative, refusing a stale edit (optimistic locking).

    ``figures`` holds the Observation's fields (``FIGURE_FIELDS``); ``narrative`` the
    entry's reasons; ``actions`` new or changed actions (``{"id"?, "description",
    "owner", "due_date", "delete"?}``). Raises ``ValidationError`` (with field names)
    for bad figures, ``StaleEntry`` when someone saved since ``version``, and
    ``StateError`` when the return does not allow the change.
    """
    with transaction.atomic():
        # Lock the entry's row alone, then read it with its relations: PostgreSQL refuses
        # FOR UPDATE across the nullable side of an outer join, and a stale save must
        # see the figure as saved, not as it was before the lock.
        Entry.objects.select_for_update().filter(pk=entry_id).values_list("pk", flat=True).get()
        entry = Entry.objects.select_related("measure", "observation", "updated_by").get(pk=entry_id)
        monthly_return = _locked_return(entry.monthly_return_id)
        access.require(actor, Do.EDIT_ENTRIES, monthly_return.contract)
        editable = editable_entry_ids(monthly_return)
        if editable is not None and entry.pk not in editable:
            if monthly_return.state == ReturnState.QUERIED:
                raise StateError(
                    f"Only queried measures can change while the {monthly_return.period} return is "
                    f"queried; {entry.measure.code} is not queried."
                )
            _require_state(monthly_return, [ReturnState.DRAFT, ReturnState.QUERIED], "changed")
        if entry.version != version:
            raise StaleEntry(entry, {**figures, **(narrative or {})})

        changes: dict[str, list[Any]] = {}
        observation = entry.observation
        sends_figure = any(figures.get(f) not in (None, "") for f in ("value", "numerator", "denominator"))
        if observation is None and sends_figure:
            observation = Observation(measure=entry.measure, period=entry.period)
        if observation is not None:
            for name in FIGURE_FIELDS:
                if name in figures:
                    new = figures[name] if figures[name] is not None or name not in ("flags",) else []
                    if name in ("note", "second_source") and new is None:
                        new = ""
                    old = getattr(observation, name)
                    if old != new:
                        changes[name] = [_json(old), _json(new)]
                        setattr(observation, name, new)
            # A figure is deleted only when the save clears it, not when it leaves it out.
            empty = all(getattr(observation, f) is None for f in ("value", "numerator", "denominator"))
            if empty and observation.pk is not None:
                observation.delete()
                observation = None
            elif not empty:
                observation.is_official = False
                observation.full_clean()  # R6 figure problems, period, flags
                observation.save()
        for name in NARRATIVE_FIELDS:
            if narrative and name in narrative:
                new = (narrative[name] or "").strip()
                if getattr(entry, name) != new:
                    changes[name] = [getattr(entry, name), new]
                    setattr(entry, name, new)
        action_changes = _save_actions(entry, actions)
        if action_changes:
            changes["actions"] = action_changes
        if not changes:
            return entry
        entry.observation = observation
        entry.version = version + 1
        entry.updated_by = actor
        entry.save(update_fields=["observation", *NARRATIVE_FIELDS, "version", "updated_by", "updated_at"])
        _record(
            monthly_return,
            ReturnEvent.Action.SAVE,
            actor,
            monthly_return.state,
            reason,
            code=entry.measure.code,
            changes=changes,
        )
    return entry


def _save_actions(entry: Entry, actions: Sequence[dict[str, Any]]) -> list[str]:
    """Create, change or delete actions; new and changed ones need an owner and a due date."""
    changes: list[str] = []
    errors: list[str] = []
    existing = {a.pk: a for a in entry.actions.all()}
    for number, data in enumerate(actions, start=1):
        action_id = data.get("id")
        current = existing.get(int(action_id)) if action_id else None
        if action_id and current is None:
            errors.append(f"Action {number}: no such action on {entry.measure.code}.")
            continue
        if data.get("delete"):
            if current is not None:
                current.delete()
                changes.append(f"deleted: {current.description}")
            continue
        description = (data.get("description") or "").strip()
        owner = (data.get("owner") or "").strip()
        due = data.get("due_date") or None
        if current is not None and (current.description, current.owner, current.due_date) == (
            description,
            owner,
            due,
        ):
            continue
        if not description and current is None and not owner and not due:
            continue  # an empty row of the form
        missing = [
            what
            for what, value in (("a description", description), ("an owner", owner), ("a due date", due))
            if not value
        ]
        if missing:
            errors.append(f"Action {number} on {entry.measure.code} needs {' and '.join(missing)}.")
            continue
        if current is None:
            Action.objects.create(entry=entry, description=description, owner=owner, due_date=due)
            changes.append(f"added: {description}")
        else:
            current.description, current.owner, current.due_date = description, owner, due
            current.recorded_without_owner = False
            current.save(update_fields=["description", "owner", "due_date", "recorded_without_owner"])
            changes.append(f"changed: {description}")
    if errors:
        raise ValidationError({"actions": errors})
    return changes


# --- transitions -----------------------------------------------------------------------


def submit(return_id: int, actor: Any) -> MonthlyReturn:
    """Draft or queried → submitted, refused while anything is owed (R9)."""
    with transaction.atomic():
        monthly_return = _locked_return(return_id)
        access.require(actor, Do.SUBMIT, monthly_return.contract)
        _require_state(monthly_return, [ReturnState.DRAFT, ReturnState.QUERIED], "submitted")
        owed = what_is_owed(monthly_return)
        if owed:
            raise Owed(owed)
        now = timezone.now()
        answered = Query.objects.filter(entry__monthly_return=monthly_return, closed_at__isnull=True)
        answered.update(closed_at=now)
        before = _move(monthly_return, ReturnState.SUBMITTED)
        _record(monthly_return, ReturnEvent.Action.SUBMIT, actor, before)
        notifications.return_submitted(monthly_return)  # emailed after commit (outbox)
    return monthly_return


def raise_query(return_id: int, actor: Any, queries: Sequence[tuple[int, str]]) -> MonthlyReturn:
    """Submitted → queried: the commissioner challenges one or more measures, each with a comment."""
    with transaction.atomic():
        monthly_return = _locked_return(return_id)
        access.require(actor, Do.QUERY, monthly_return.contract)
        _require_state(monthly_return, [ReturnState.SUBMITTED], "queried")
        if not queries:
            raise WorkflowError("Choose at least one measure to query.", field="queries")
        entries = {e.pk: e for e in monthly_return.entries.select_related("measure")}
        errors = []
        for entry_id, comment in queries:
            if entry_id not in entries:
                errors.append(f"Entry {entry_id} is not in the {monthly_return.period} return.")
            elif not (comment or "").strip():
                errors.append(f"{entries[entry_id].measure.code}: say what the query is.")
        if errors:
            raise WorkflowError(" ".join(errors), field="queries")
        now = timezone.now()
        for entry_id, comment in queries:
            Query.objects.create(entry_id=entry_id, comment=comment.strip(), raised_by=actor, raised_at=now)
        before = _move(monthly_return, ReturnState.QUERIED)
        _record(
            monthly_return,
            ReturnEvent.Action.QUERY,
            actor,
            before,
            queries=[{"code": entries[i].measure.code, "comment": c.strip()} for i, c in queries],
        )
        notifications.return_queried(monthly_return)  # emailed after commit (outbox)
    return monthly_return


def answer_queries(return_id: int, actor: Any, answers: Sequence[tuple[int, str]]) -> MonthlyReturn:
    """The provider answers open queries (by query id); resubmitting closes them."""
    with transaction.atomic():
        monthly_return = _locked_return(return_id)
        access.require(actor, Do.ANSWER, monthly_return.contract)
        _require_state(monthly_return, [ReturnState.QUERIED], "answered")
        open_queries = {
            q.pk: q
            for q in Query.objects.select_for_update()
            .select_related("entry__measure")
            .filter(entry__monthly_return=monthly_return, closed_at__isnull=True)
        }
        errors = []
        for query_id, answer in answers:
            if query_id not in open_queries:
                errors.append(f"Query {query_id} is not open on the {monthly_return.period} return.")
            elif not (answer or "").strip():
                errors.append(f"{open_queries[query_id].entry.measure.code}: the answer is empty.")
        if errors or not answers:
            raise WorkflowError(" ".join(errors) or "Give at least one answer.", field="answers")
        now = timezone.now()
        for query_id, answer in answers:
            query = open_queries[query_id]
            query.answer, query.answered_by, query.answered_at = answer.strip(), actor, now
            query.save(update_fields=["answer", "answered_by", "answered_at"])
        _record(
            monthly_return,
            ReturnEvent.Action.ANSWER,
            actor,
            monthly_return.state,
            answers=[{"code": open_queries[i].entry.measure.code, "answer": a.strip()} for i, a in answers],
        )
    return monthly_return


def sign_off(return_id: int, actor: Any) -> MonthlyReturn:
    """Submitted → signed off: the return freezes and its figures become official (R14, R17)."""
    with transaction.atomic():
        monthly_return = _locked_return(return_id)
        access.require(actor, Do.SIGN_OFF, monthly_return.contract)
        _require_state(monthly_return, [ReturnState.SUBMITTED], "signed off")
        blocked = [i for i in what_is_owed(monthly_return) if i.kind == "cannot_rate"]
        if blocked:
            raise Owed(blocked, "signed off")
        Observation.objects.filter(entry__monthly_return=monthly_return).update(is_official=True)
        before = _move(monthly_return, ReturnState.SIGNED_OFF)
        _record(monthly_return, ReturnEvent.Action.SIGN_OFF, actor, before)
        notifications.return_signed_off(monthly_return)  # emailed after commit (outbox)
    return monthly_return


@dataclass(frozen=True)
class BulkResult:
    return_id: int
    signed_off: bool
    message: str
    owed: tuple[OwedItem, ...] = ()


def bulk_sign_off(return_ids: Iterable[int], actor: Any) -> list[BulkResult]:
    """Sign off several returns, each in its own transaction: one refusal stops no other."""
    results = []
    for return_id in return_ids:
        try:
            signed = sign_off(return_id, actor)
        except (WorkflowError, MonthlyReturn.DoesNotExist) as exc:
            owed = tuple(exc.items) if isinstance(exc, Owed) else ()
            results.append(BulkResult(return_id, False, getattr(exc, "message", str(exc)), owed))
        except access.PermissionDenied as exc:
            results.append(BulkResult(return_id, False, str(exc)))
        else:
            results.append(BulkResult(return_id, True, f"{signed.contract} {signed.period} signed off."))
    return results


def reopen(return_id: int, actor: Any, reason: str) -> MonthlyReturn:
    """Signed off → draft, only with a reason (R15). Its figures are draft again until the
    return is signed off once more; every version stays in the history."""
    with transaction.atomic():
        monthly_return = _locked_return(return_id)
        access.require(actor, Do.REOPEN, monthly_return.contract)
        if not (reason or "").strip():
            raise WorkflowError("Give the reason for reopening the return.", field="reason")
        _require_state(monthly_return, [ReturnState.SIGNED_OFF], "reopened")
        Observation.objects.filter(entry__monthly_return=monthly_return).update(is_official=False)
        before = _move(monthly_return, ReturnState.DRAFT)
        _record(monthly_return, ReturnEvent.Action.REOPEN, actor, before, reason.strip())
    return monthly_return
