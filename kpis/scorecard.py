"""The monthly scorecard: every measure of a set with its latest figure (R13).

The scorecard reads everything it needs in a fixed number of queries (one per
related table, however many measures and periods exist) and leaves rating to the
pure engine in ``kpis.rating``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Max, Prefetch, QuerySet
from django.utils import timezone

from kpis import periods, rating
from kpis.models import DataGap, Flag, Measure, MeasureSet, Observation, SeriesBreak, Target


@dataclass(frozen=True)
class ScorecardRow:
    measure: Measure
    observation: Observation | None
    target: Target | None
    verdict: rating.Verdict
    direction_previous: rating.Direction
    direction_year: rating.Direction
    flags: list[str] = field(default_factory=list)

    @property
    def period(self) -> str | None:
        return self.observation.period if self.observation else None

    @property
    def as_at(self) -> date | None:
        if self.observation is None:
            return None
        return self.observation.as_at or self.observation.period_end

    @property
    def value(self) -> Decimal | None:
        """The figure as reported, or as computed from its numerator and denominator."""
        if self.observation is None:
            return None
        if self.observation.value is not None:
            return self.observation.value
        return self.verdict.value

    @property
    def display_value(self) -> str:
        return rating.display_value(self.measure.as_definition(), self.verdict)

    @property
    def sentence(self) -> str:
        return rating.sentence(self.verdict.status)


def target_in_force(targets: list[Target], day: date) -> Target | None:
    """The target in force on a day (R12); validity never overlaps (Target.clean)."""
    for target in targets:
        if target.covers(day):
            return target
    return None


def crosses_break(breaks: list[SeriesBreak], earlier: date, later: date) -> bool:
    """A series break starting after the earlier period began and by the later one (R8)."""
    return any(earlier < brk.from_date <= later for brk in breaks)


def second_source_disagrees(measure: Measure, obs: Observation) -> bool:
    if obs.second_value is None or obs.value is None:
        return False
    defn = measure.as_definition()
    return rating.format_value(defn, obs.value) != rating.format_value(defn, obs.second_value)


def rate_observation(
    measure: Measure, obs: Observation | None, targets: list[Target], day: date
) -> tuple[Target | None, rating.Verdict]:
    """Rate one figure against the target in force for the period it covers (R12)."""
    when = obs.period_end if obs else day
    target = target_in_force(targets, when)
    share = None
    if obs is not None and measure.cumulative:
        share = periods.months_elapsed_share(measure.parse_period(obs.period), measure.year_type)
    verdict = rating.rate(
        measure.as_definition(),
        target.as_spec() if target else None,
        obs.as_figure() if obs else None,
        year_share=share,
    )
    return target, verdict


def has_figure(obs: Observation) -> bool:
    """A value, or a numerator and denominator to compute one: a count recorded alone
    (January 2018's 521 children on a plan, with no rate) is not a figure to rate."""
    return obs.value is not None or (obs.numerator is not None and obs.denominator is not None)


def build_row(measure: Measure, month: periods.Period, history: list[Observation]) -> ScorecardRow:
    """``history`` is the measure's visible records ending by the month's end, oldest first."""
    history = [obs for obs in history if has_figure(obs)]
    targets = list(measure.targets.all())
    breaks = list(measure.series_breaks.all())
    gaps: list[DataGap] = list(measure.data_gaps.all())
    latest = history[-1] if history else None
    target, verdict = rate_observation(measure, latest, targets, month.end)
    defn = measure.as_definition()
    spec = target.as_spec() if target else None
    flags: list[str] = []
    direction_previous = direction_year = rating.Direction.NOT_COMPARABLE
    if latest is None:
        year_ago = periods.shift_years(month, -1)
        if crosses_break(breaks, year_ago.start, month.end):
            flags.append(Flag.SERIES_BREAK)
        return ScorecardRow(measure, None, target, verdict, direction_previous, direction_year, flags)

    current = verdict.value
    if len(history) > 1:
        earlier = history[-2]
        _, earlier_verdict = rate_observation(measure, earlier, targets, month.end)
        direction_previous = rating.direction(
            defn,
            spec,
            current,
            earlier_verdict.value,
            comparable=not crosses_break(breaks, earlier.period_start, latest.period_start),
        )
        gap_from = earlier.period_end
    else:
        gap_from = latest.period_start
    period = measure.parse_period(latest.period)
    year_label = periods.shift_years(period, -1).label
    year_obs = next((o for o in history if o.period == year_label), None)
    if year_obs is not None:
        _, year_verdict = rate_observation(measure, year_obs, targets, month.end)
        direction_year = rating.direction(
            defn,
            spec,
            current,
            year_verdict.value,
            comparable=not crosses_break(breaks, year_obs.period_start, latest.period_start),
        )

    flags.extend(f for f in latest.flags if f not in flags)
    if latest.period_end < month.start and Flag.LAG not in flags:
        flags.append(Flag.LAG)
    if any(g.start <= latest.period_end and g.end >= gap_from for g in gaps) and Flag.GAP not in flags:
        flags.append(Flag.GAP)
    year_start = periods.shift_years(period, -1).start
    if crosses_break(breaks, year_start, latest.period_start) and Flag.SERIES_BREAK not in flags:
        flags.append(Flag.SERIES_BREAK)
    if second_source_disagrees(measure, latest) and Flag.SECOND_SOURCE_DISAGREES not in flags:
        flags.append(Flag.SECOND_SOURCE_DISAGREES)
    if not latest.is_official:
        flags.append(Flag.DRAFT)
    return ScorecardRow(measure, latest, target, verdict, direction_previous, direction_year, flags)


def with_history(
    measures: QuerySet[Measure], month: periods.Period, *, include_drafts: bool
) -> QuerySet[Measure]:
    """Measures with their targets, breaks, gaps and visible figures: one query each."""
    observations = Observation.objects.visible(include_drafts).filter(period_end__lte=month.end)
    return measures.prefetch_related(
        Prefetch("targets", queryset=Target.objects.order_by("valid_from")),
        Prefetch("series_breaks", queryset=SeriesBreak.objects.order_by("from_date")),
        Prefetch("data_gaps", queryset=DataGap.objects.order_by("start")),
        Prefetch(
            "observations",
            queryset=observations.order_by("period_end", "as_at", "pk"),
            to_attr="visible_history",
        ),
    )


def measures_with_history(
    measure_set: MeasureSet, month: periods.Period, *, include_drafts: bool
) -> list[Measure]:
    """Every measure of a set with its history, in five queries."""
    return list(
        with_history(Measure.objects.filter(measure_set=measure_set), month, include_drafts=include_drafts)
    )


def build_scorecard(
    measure_set: MeasureSet, month: periods.Period, *, include_drafts: bool
) -> list[ScorecardRow]:
    """Every measure with its latest figure covering a period ending by the month's end (R13)."""
    return [
        build_row(measure, month, measure.visible_history)
        for measure in measures_with_history(measure_set, month, include_drafts=include_drafts)
    ]


def latest_month(measure_set: MeasureSet, *, include_drafts: bool) -> periods.Period | None:
    """The month of the latest figure the viewer may see, for a scorecard's default period."""
    last = (
        Observation.objects.visible(include_drafts)
        .filter(measure__measure_set=measure_set, period_end__lte=timezone.localdate())
        .aggregate(last=Max("period_end"))["last"]
    )
    return periods.month(last.year, last.month) if last else None
