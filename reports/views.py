"""The pages people read: their contracts, and a contract's monthly scorecard (R13).

Views stay thin: who may see what is decided by ``contracts.access`` and nowhere else,
the scorecard and its verdicts come from ``kpis.scorecard`` and ``kpis.rating``. What
lives here is only how those answers are put into words on a page.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from contracts import access
from contracts.models import Contract
from kpis import periods, rating
from kpis.models import Flag, Observation
from kpis.scorecard import ScorecardRow, build_scorecard, latest_month
from kpis.words import DIRECTION_WORDS, FLAG_WORDS, VERDICT_COLOURS, VERDICT_WORDS

Status = rating.Status

@dataclass(frozen=True)
class ContractLine:
    contract: Contract
    latest: periods.Period | None


@dataclass(frozen=True)
class VerdictCount:
    status: str
    words: str
    colour: str
    count: int


@dataclass(frozen=True)
class Line:
    """One scorecard row as the page shows it."""

    row: ScorecardRow
    verdict_words: str
    verdict_colour: str
    target_words: str
    direction_previous: str
    direction_year: str
    flags: list[str]
    show_as_at: bool


def target_words(row: ScorecardRow) -> str:
    """The target and tolerance in force for the row, worded by the engine."""
    return rating.target_words(row.measure.as_definition(), row.target.as_spec() if row.target else None)


def line_for(row: ScorecardRow) -> Line:
    status = row.verdict.status
    return Line(
        row=row,
        verdict_words=VERDICT_WORDS[status],
        verdict_colour=VERDICT_COLOURS[status],
        target_words=target_words(row),
        direction_previous=DIRECTION_WORDS[row.direction_previous],
        direction_year=DIRECTION_WORDS[row.direction_year],
        flags=[FLAG_WORDS.get(f, str(f).replace("_", " ").capitalize()) for f in row.flags],
        show_as_at=row.observation is not None
        and (Flag.LAG in row.flags or row.observation.as_at is not None),
    )


def verdict_counts(rows: list[ScorecardRow]) -> list[VerdictCount]:
    """How many measures got each verdict, in R1's order, leaving out zeros."""
    counts = Counter(str(row.verdict.status) for row in rows)
    return [
        VerdictCount(str(status), words, VERDICT_COLOURS[status], counts[status])
        for status, words in VERDICT_WORDS.items()
        if counts[status]
    ]


def latest_months(
    contracts: list[Contract], *, include_drafts: bool
) -> dict[int, periods.Period | None]:
    """``scorecard.latest_month`` for many contracts in one query (measure set id -> month)."""
    ids = [c.measure_set_id for c in contracts]
    found = (
        Observation.objects.visible(include_drafts)
        .filter(measure__measure_set__in=ids, period_end__lte=timezone.localdate())
        .values("measure__measure_set")
        .annotate(last=Max("period_end"))
    )
    months = {r["measure__measure_set"]: periods.month(r["last"].year, r["last"].month) for r in found}
    return {i: months.get(i) for i in ids}


class BadMonth(ValueError):
    pass


def parse_month(label: str) -> periods.Period:
    """A scorecard month from ``?period=``: only a month (YYYY-MM) will do (R13)."""
    try:
        period = periods.parse_period(label)
    except periods.PeriodError as exc:
        raise BadMonth(
            f"‘{label}’ is not a month. Enter the month as YYYY-MM, for example 2018-04."
        ) from exc
    if period.kind != "month":
        raise BadMonth(
            f"‘{label}’ is a {period.kind.replace('_', ' ')}, not a month. "
            "Enter the month as YYYY-MM, for example 2018-04."
        )
    return period


@login_required
def home(request: HttpRequest) -> HttpResponse:
    contracts = list(access.contracts_for(request.user))
    months = latest_months(contracts, include_drafts=access.may_see_drafts(request.user))
    lines = [ContractLine(c, months[c.measure_set_id]) for c in contracts]
    return render(request, "reports/home.html", {"lines": lines})


@login_required
def scorecard(request: HttpRequest, slug: str) -> HttpResponse:
    contract = access.contract_for(request.user, slug)
    include_drafts = access.may_see_drafts(request.user)
    context: dict[str, object] = {"contract": contract}
    label = request.GET.get("period", "").strip()
    if label:
        try:
            month = parse_month(label)
        except BadMonth as exc:
            context.update(error=str(exc), period_value=label)
            return render(request, "reports/scorecard.html", context, status=400)
        has_figures = True
    else:
        latest = latest_month(contract.measure_set, include_drafts=include_drafts)
        has_figures = latest is not None
        today = timezone.localdate()
        month = latest or periods.month(today.year, today.month)

    rows = build_scorecard(contract.measure_set, month, include_drafts=include_drafts)
    lines = [line_for(row) for row in rows]
    context.update(
        month=month,
        period_value=month.label,
        lines=lines,
        counts=verdict_counts(rows),
        has_figures=has_figures,
        shows_drafts=any(Flag.DRAFT in row.flags for row in rows),
    )
    return render(request, "reports/scorecard.html", context)
