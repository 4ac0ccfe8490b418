"""The month-end cycle: open returns, chase late ones, rate at month end and at the due date.

``daily(today)`` is the whole scheduled job. For every contract, in a transaction of its
own (one contract that fails is reported and the others still run), it:

1. opens the return for the month that has begun, once ``today`` reaches the calendar's
   ``opens_on_day`` (``workflow.open_return`` with no actor: the scheduler);
2. sets each recent return's due date (``due_working_days`` working days after its month
   ends), unless one is already set (an extension stays);
3. reminds the provider ``reminder_working_days`` before the due date, and escalates to
   the commissioners ``escalation_working_days`` after it, while the return has never
   been submitted: one ``ChaseEvent`` of each kind per return, at most;
4. at the month's end and again at the due date, closes the period (``close_period``):
   records a ``RatingRun`` of every verdict with the figures entered so far (R17: it
   freezes nothing), lists the figures still missing, opens a ``NarrativePrompt`` for
   every verdict that owes a narrative (R9) and has none, and notifies the provider;
5. on other days, resolves the prompts whose narrative has since been given.

The job acts on whatever is due rather than on exact dates (Celery's crontab has no
"last day of the month"), so a run missed during downtime is caught up by the next one.
It is safe to repeat: every row it creates is unique by constraint (one return per
month, one rating run per return and stage, one prompt per entry, one chase of each
kind, one notification per person and key), and a second run finds them and does
nothing. A dry run does everything inside the transaction and rolls it back, so it
reports exactly what a real run would do and writes nothing.

Query counts do not grow with the number of measures: rating reads a return's entries
in a fixed number of queries (``workflow.entry_statuses``) and prompts are written in
bulk. (Opening a return is ``workflow.open_return``'s, one entry at a time.)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from contracts import calendar, notifications, workflow
from contracts.models import (
    ChaseEvent,
    Contract,
    MonthlyReturn,
    NarrativePrompt,
    RatingRun,
    ReturnEvent,
    ReturnState,
)
from kpis import periods, rating

logger = logging.getLogger(__name__)

# How many months back (counting this one) the daily job looks at returns. The latest
# act on a return, its escalation, falls in the month after the return's month unless
# a calendar allows more than about twenty working days; three months leaves room to
# catch up after downtime.
LOOKBACK_MONTHS = 3

# Database errors that say nothing about one contract (the database went away, a
# deadlock): they stop the run so that the task retries it, rather than being filed
# as one contract's failure.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)

SCHEDULED_STAGES = (RatingRun.Stage.MONTH_END, RatingRun.Stage.DUE_DATE)
STAGE_WORDS = {
    RatingRun.Stage.MONTH_END: "at month end",
    RatingRun.Stage.DUE_DATE: "at the due date",
    RatingRun.Stage.BY_HAND: "by hand",
}


# --- what a run did (or would do) ------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing done to a contract, in words: ``done`` for a real run, ``would`` for a dry one."""

    contract: str
    done: str
    would: str

    def line(self, dry_run: bool) -> str:
        return f"{self.contract}: {self.would if dry_run else self.done}"


@dataclass(frozen=True)
class Failure:
    contract: str
    error: str

    def line(self) -> str:
        return f"{self.contract}: FAILED: {self.error}"


@dataclass
class Report:
    today: date
    dry_run: bool = False
    contracts: int = 0
    steps: list[Step] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [step.line(self.dry_run) for step in self.steps]
        lines += [failure.line() for failure in self.failures]
        return lines

    def summary(self) -> str:
        verb = "would take" if self.dry_run else "took"
        text = (
            f"{self.today:%a %d %b %Y}: {self.contracts} contract(s) looked at, "
            f"{verb} {len(self.steps)} step(s)"
        )
        if self.failures:
            text += f", {len(self.failures)} contract(s) failed"
        if self.dry_run:
            text += " (dry run: nothing was written)"
        return text + "."


@dataclass(frozen=True)
class CloseResult:
    """What ``close_period`` recorded for one return and stage."""

    monthly_return: MonthlyReturn
    stage: str
    run: RatingRun | None
    measures: int = 0
    owed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    prompts_opened: int = 0
    prompts_resolved: int = 0
    notified: int = 0

    @property
    def already_done(self) -> bool:
        return self.run is None

    def words(self) -> str:
        label = self.monthly_return.period
        if self.already_done:
            return f"the {label} return was already rated {STAGE_WORDS[self.stage]}: nothing to do"
        parts = [f"{self.measures} measure(s)"]
        parts.append(
            f"{len(self.owed)} narrative(s) owed ({', '.join(self.owed)})"
            if self.owed
            else "no narrative owed"
        )
        if self.missing:
            parts.append(f"{len(self.missing)} figure(s) missing ({', '.join(self.missing)})")
        if self.prompts_opened:
            parts.append(f"{self.prompts_opened} prompt(s) opened")
        if self.prompts_resolved:
            parts.append(f"{self.prompts_resolved} prompt(s) resolved")
        if self.notified:
            parts.append(f"{self.notified} person(s) notified")
        return f"the {label} return {STAGE_WORDS[self.stage]}: " + ", ".join(parts)

    def step(self) -> Step:
        slug = self.monthly_return.contract.slug
        if self.already_done:
            return Step(slug, self.words(), self.words())
        return Step(slug, f"rated {self.words()}", f"would rate {self.words()}")


# --- rating a return (the close) -------------------------------------------------------


def _verdict_row(status: workflow.EntryStatus) -> dict[str, Any]:
    verdict = status.verdict
    return {
        "code": status.entry.measure.code,
        "period": status.entry.period,
        # Unrounded (R2), without the column's padding zeros: 92.000000 -> "92".
        "value": None if verdict.value is None else format(verdict.value.normalize(), "f"),
        "status": str(verdict.status),
        "reason": verdict.reason,
    }


def _owes_narrative(status: workflow.EntryStatus) -> bool:
    """R9: the verdict owes a narrative and none is written yet (as ``workflow`` decides)."""
    return any(item.kind == "narrative" for item in status.owed)


@dataclass(frozen=True)
class PromptChanges:
    opened: int = 0
    resolved: int = 0
    still_open: tuple[NarrativePrompt, ...] = ()


def sync_prompts(
    monthly_return: MonthlyReturn,
    statuses: list[workflow.EntryStatus],
    now: datetime,
    *,
    open_new: bool = True,
) -> PromptChanges:
    """Bring a return's narrative prompts in line with its verdicts, in three queries.

    A prompt opens for every verdict that owes a narrative and has none (``open_new``);
    a prompt whose narrative has since been given, or whose verdict no longer owes one,
    is resolved; a resolved prompt whose narrative is owed again reopens.
    """
    existing = {
        prompt.entry_id: prompt
        for prompt in NarrativePrompt.objects.filter(entry__monthly_return=monthly_return)
    }
    new: list[NarrativePrompt] = []
    changed: list[NarrativePrompt] = []
    still_open: list[NarrativePrompt] = []
    opened = resolved = 0
    for status in statuses:
        prompt = existing.get(status.entry.pk)
        if prompt is not None:
            prompt.entry = status.entry  # already loaded: no query per prompt
        owed = _owes_narrative(status)
        if owed and prompt is None:
            if open_new:
                prompt = NarrativePrompt(
                    entry=status.entry, status=str(status.verdict.status), created_at=now
                )
                new.append(prompt)
                still_open.append(prompt)
                opened += 1
        elif owed:
            if open_new and (
                prompt.resolved_at is not None or prompt.status != status.verdict.status
            ):
                if prompt.resolved_at is not None:
                    opened += 1  # owed again: reopened
                prompt.resolved_at = None
                prompt.status = str(status.verdict.status)
                changed.append(prompt)
            if prompt.resolved_at is None:
                still_open.append(prompt)
        elif prompt is not None and prompt.resolved_at is None:
            prompt.resolved_at = now
            changed.append(prompt)
            resolved += 1
    if new:
        NarrativePrompt.objects.bulk_create(new)
    if changed:
        NarrativePrompt.objects.bulk_update(changed, ["status", "resolved_at"])
    return PromptChanges(opened, resolved, tuple(still_open))


def close_period(
    monthly_return: MonthlyReturn,
    stage: str = RatingRun.Stage.BY_HAND,
    *,
    run_by: Any = None,
    now: datetime | None = None,
) -> CloseResult:
    """Rate every measure of a return with the figures entered so far, all or nothing.

    Records the run (R17: it freezes nothing), syncs the narrative prompts (R9) and, while
    the return is with the provider, tells the provider what is owed. One transaction: a
    close interrupted part way leaves nothing behind. A scheduled stage runs once per
    return (the constraint on return and stage); repeating it does nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # The row lock serialises closes of one return; the constraint is the guarantee.
        locked = (
            MonthlyReturn.objects.select_for_update(of=("self",))
            .select_related("contract")
            .get(pk=monthly_return.pk)
        )
        if stage != RatingRun.Stage.BY_HAND and locked.rating_runs.filter(stage=stage).exists():
            return CloseResult(locked, stage, None)
        statuses = workflow.entry_statuses(locked)
        verdicts = [_verdict_row(s) for s in statuses]
        missing = tuple(
            s.entry.measure.code for s in statuses if s.verdict.status == rating.Status.NO_DATA
        )
        try:
            with transaction.atomic():
                run = RatingRun.objects.create(
                    monthly_return=locked,
                    stage=stage,
                    run_at=now,
                    run_by=run_by if run_by is not None and run_by.is_authenticated else None,
                    verdicts=verdicts,
                    missing=list(missing),
                )
        except IntegrityError:
            return CloseResult(locked, stage, None)
        # Only a return still with the provider can take a narrative: a submitted or
        # signed-off one is rated for the record and nobody is asked for anything.
        with_provider = locked.state in (ReturnState.DRAFT, ReturnState.QUERIED)
        changes = sync_prompts(locked, statuses, now, open_new=with_provider)
        owed = tuple(p.entry.measure.code for p in changes.still_open)
        unexplained = [
            s
            for s in statuses
            if s.verdict.status == rating.Status.NO_DATA and not s.entry.no_data_reason.strip()
        ]
        notified = 0
        if with_provider and (owed or unexplained):
            notified = _notify_owed(locked, run, changes.still_open, missing)
    return CloseResult(
        locked,
        stage,
        run,
        measures=len(statuses),
        owed=owed,
        missing=missing,
        prompts_opened=changes.opened,
        prompts_resolved=changes.resolved,
        notified=notified,
    )


def _notify_owed(
    monthly_return: MonthlyReturn,
    run: RatingRun,
    prompts: tuple[NarrativePrompt, ...],
    missing: tuple[str, ...],
) -> int:
    contract = monthly_return.contract
    month = notifications.month_words(monthly_return)
    lines = [
        f"The {month} return for {contract.name} was rated {STAGE_WORDS[run.stage]} "
        "with the figures entered so far."
    ]
    if prompts:
        lines.append("")
        lines.append("A narrative is owed for (give the reason for the variance and an action):")
        lines += [
            f"- {p.entry.measure.code}: {rating.sentence(rating.Status(p.status))}" for p in prompts
        ]
    if missing:
        lines.append("")
        lines.append(f"No figure yet for: {', '.join(missing)}.")
    if monthly_return.due_date:
        lines.append("")
        lines.append(f"The return is due on {monthly_return.due_date:%A %d %B %Y}.")
    owed = f"{len(prompts)} narrative(s) owed" if prompts else f"{len(missing)} figure(s) missing"
    return notifications.notify_many(
        notifications.provider_staff(contract),
        f"return:{monthly_return.pk}:rating:{run.pk}",
        f"{contract.name}: {owed} on the {month} return",
        "\n".join(lines),
        notifications.return_url(monthly_return),
    )


# --- one contract's day ----------------------------------------------------------------


def _active_in(contract: Contract, month: periods.Period) -> bool:
    return contract.start <= month.end and (contract.end is None or contract.end >= month.start)


def _recent_returns(contract: Contract, labels: list[str]) -> list[MonthlyReturn]:
    submitted = ReturnEvent.objects.filter(
        monthly_return=OuterRef("pk"), action=ReturnEvent.Action.SUBMIT
    )
    open_prompts = NarrativePrompt.objects.filter(
        entry__monthly_return=OuterRef("pk"), resolved_at__isnull=True
    )
    return list(
        MonthlyReturn.objects.filter(contract=contract, period__in=labels)
        .annotate(ever_submitted=Exists(submitted), has_open_prompts=Exists(open_prompts))
        .order_by("period_start")
    )


def _chase(
    monthly_return: MonthlyReturn, kind: str, people: Any, subject: str, body: str, now: datetime
) -> int | None:
    """Record a chase once (the constraint) and notify; None if it was already sent."""
    _, created = ChaseEvent.objects.get_or_create(
        monthly_return=monthly_return, kind=kind, defaults={"sent_at": now}
    )
    if not created:
        return None
    return notifications.notify_many(
        people,
        f"return:{monthly_return.pk}:{kind}",
        subject,
        body,
        notifications.return_url(monthly_return),
    )


def process_contract(contract: Contract, today: date, now: datetime | None = None) -> list[Step]:
    """Everything due for one contract on ``today``; the caller holds the transaction."""
    now = now or timezone.now()
    slug = contract.slug
    cal = calendar.calendar_of(contract)
    steps: list[Step] = []
    this_month = periods.month(today.year, today.month)
    months = [periods.add_months(this_month, -back) for back in range(LOOKBACK_MONTHS)]
    returns = _recent_returns(contract, [m.label for m in months])
    have = {r.period for r in returns}

    if (
        this_month.label not in have
        and _active_in(contract, this_month)
        and today >= calendar.opens_on(cal, this_month)
    ):
        opened = workflow.open_return(contract, this_month.label, actor=None)
        opened.ever_submitted = opened.has_open_prompts = False
        returns.append(opened)
        count = opened.entries.count()
        steps.append(
            Step(
                slug,
                f"opened the {opened.period} return ({count} measure(s) due)",
                f"would open the {opened.period} return ({count} measure(s) due)",
            )
        )

    done_runs = set(
        RatingRun.objects.filter(
            monthly_return__in=returns, stage__in=SCHEDULED_STAGES
        ).values_list("monthly_return_id", "stage")
    )
    done_chases = set(
        ChaseEvent.objects.filter(monthly_return__in=returns).values_list(
            "monthly_return_id", "kind"
        )
    )

    for monthly_return in returns:
        label = monthly_return.period
        month = notifications.month_words(monthly_return)
        due = monthly_return.due_date
        if due is None:
            due = calendar.due_date(cal, label)
            MonthlyReturn.objects.filter(pk=monthly_return.pk, due_date__isnull=True).update(
                due_date=due
            )
            monthly_return.due_date = due
            steps.append(
                Step(
                    slug,
                    f"set the {label} return's due date to {due:%a %d %b %Y}",
                    f"would set the {label} return's due date to {due:%a %d %b %Y}",
                )
            )
        never_submitted = (
            monthly_return.state == ReturnState.DRAFT and not monthly_return.ever_submitted
        )

        if (
            never_submitted
            and calendar.reminder_date(cal, due) <= today <= due
            and (monthly_return.pk, ChaseEvent.Kind.REMINDER) not in done_chases
        ):
            count = _chase(
                monthly_return,
                ChaseEvent.Kind.REMINDER,
                notifications.provider_staff(contract),
                f"{contract.name}: the {month} return is due on {due:%d %B %Y}",
                f"The {month} return for {contract.name} is due on {due:%A %d %B %Y} and has "
                "not been submitted yet.",
                now,
            )
            if count is not None:
                steps.append(
                    Step(
                        slug,
                        f"reminded {count} provider person(s) that the {label} return is due on {due:%d %b %Y}",
                        f"would remind {count} provider person(s) that the {label} return is due on {due:%d %b %Y}",
                    )
                )

        if (
            never_submitted
            and today >= calendar.escalation_date(cal, due)
            and (monthly_return.pk, ChaseEvent.Kind.ESCALATION) not in done_chases
        ):
            count = _chase(
                monthly_return,
                ChaseEvent.Kind.ESCALATION,
                notifications.commissioners(contract),
                f"{contract.name}: the {month} return is late",
                f"The {month} return for {contract.name} was due on {due:%A %d %B %Y} and has "
                "not been submitted.",
                now,
            )
            if count is not None:
                steps.append(
                    Step(
                        slug,
                        f"escalated the late {label} return (due {due:%d %b %Y}) to {count} commissioner(s)",
                        f"would escalate the late {label} return (due {due:%d %b %Y}) to {count} commissioner(s)",
                    )
                )

        closed = False
        for stage, on in (
            (RatingRun.Stage.MONTH_END, monthly_return.period_end),
            (RatingRun.Stage.DUE_DATE, due),
        ):
            if today >= on and (monthly_return.pk, stage) not in done_runs:
                result = close_period(monthly_return, stage, now=now)
                closed = True
                if not result.already_done:
                    steps.append(result.step())

        if not closed and monthly_return.has_open_prompts:
            changes = sync_prompts(
                monthly_return, workflow.entry_statuses(monthly_return), now, open_new=False
            )
            if changes.resolved:
                steps.append(
                    Step(
                        slug,
                        f"resolved {changes.resolved} narrative prompt(s) on the {label} return",
                        f"would resolve {changes.resolved} narrative prompt(s) on the {label} return",
                    )
                )
    return steps


# --- the runs --------------------------------------------------------------------------


def contracts_due(today: date, contract_ids: list[int] | None = None) -> list[Contract]:
    """The contracts the daily job looks at: running within the lookback window."""
    contracts = Contract.objects.select_related("calendar").order_by("slug")
    if contract_ids is not None:
        return list(contracts.filter(pk__in=contract_ids))
    earliest = periods.add_months(
        periods.month(today.year, today.month), -(LOOKBACK_MONTHS - 1)
    ).start
    return list(
        contracts.filter(start__lte=today).filter(Q(end__isnull=True) | Q(end__gte=earliest))
    )


def daily(
    today: date, *, contract_ids: list[int] | None = None, dry_run: bool = False, kick: bool = True
) -> Report:
    """The daily job for every contract (or those named), each in its own transaction.

    ``kick``: nudge email delivery at the end (the fanned-out tasks leave that to the
    daily task and to beat's minutely delivery, rather than nudging once per contract).
    """
    report = Report(today=today, dry_run=dry_run)
    now = timezone.now()
    for contract in contracts_due(today, contract_ids):
        report.contracts += 1
        try:
            with transaction.atomic():
                steps = process_contract(contract, today, now)
                if dry_run:
                    transaction.set_rollback(True)
        except TRANSIENT_ERRORS:
            raise
        except Exception as exc:
            logger.exception("Month-end processing failed for contract %s", contract.slug)
            report.failures.append(Failure(contract.slug, f"{type(exc).__name__}: {exc}"))
        else:
            report.steps.extend(steps)
    if report.steps and kick and not dry_run:
        notifications.kick_delivery()
    return report


class CloseError(Exception):
    """A close asked for by hand that cannot be done (no such return, month not begun)."""


def close_contract_period(
    contract: Contract,
    period: str,
    stage: str = RatingRun.Stage.BY_HAND,
    *,
    dry_run: bool = False,
    run_by: Any = None,
    today: date | None = None,
) -> Report:
    """Close one contract's month by hand or from a task; opens the return if the month has begun."""
    today = today or timezone.localdate()
    month = periods.parse_period(period)
    if month.kind != "month":
        raise CloseError(f"A return covers a month (YYYY-MM), not '{period}'.")
    if stage not in RatingRun.Stage.values:
        raise CloseError(f"Unknown stage '{stage}'; one of {', '.join(RatingRun.Stage.values)}.")
    report = Report(today=today, dry_run=dry_run, contracts=1)
    with transaction.atomic():
        monthly_return = MonthlyReturn.objects.filter(contract=contract, period=month.label).first()
        if monthly_return is None:
            if month.start > today:
                raise CloseError(
                    f"{contract.slug} has no {month.label} return and that month has not begun."
                )
            monthly_return = workflow.open_return(contract, month.label, actor=None)
            count = monthly_return.entries.count()
            report.steps.append(
                Step(
                    contract.slug,
                    f"opened the {month.label} return ({count} measure(s) due)",
                    f"would open the {month.label} return ({count} measure(s) due)",
                )
            )
        result = close_period(monthly_return, stage, run_by=run_by)
        report.steps.append(result.step())
        if dry_run:
            transaction.set_rollback(True)
    if result.notified and not dry_run:
        notifications.kick_delivery()
    return report
