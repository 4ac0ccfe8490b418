"""The monthly scorecard: every measure of a set with its latest figure (R13).

The scorecard reads everything it needs in a fixed number of queries (one per
related table, however many measures and periods exist) and leaves rating to the
pure engine in ``kpis.rating``.

Each row also carries the measure's statistical process control chart (``kpis.spc``)
over its figures up to the month shown, one value per period of its frequency (a
period with no figure is a gap), split at its series breaks and rebases. ``spc_series``
is the one place that turns figures, breaks and rebases into the engine's input, so the
scorecard, the API's series endpoint, the pages, the report and the drafted commentary
all read the same chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Max, Prefetch, QuerySet
from django.utils import timezone

from kpis import periods, rating, spc
from kpis.models import (
    DataGap,
    Flag,
    Measure,
    MeasureSet,
    Observation,
    Rebase,
    SeriesBreak,
    Target,
)

# The frequency whose periods a period kind is (periods.period_containing's argument).
_FREQUENCY_OF_KIND = {
    "month": "monthly",
    "quarter": "quarterly",
    "term": "termly",
    "year": "annual",
    "calendar_year": "annual",
}


@dataclass(frozen=True)
class Change:
    """A recorded change that starts new process limits: a series break (the definition
    changed) or a rebase (a person decided the process changed), from a period on."""

    from_date: date
    from_period: str
    kind: spc.BreakKind
    reason: str

    @property
    def words(self) -> str:
        """As the chart labels it: "Rebase from 2019-04: new triage model"."""
        what = "Series break" if self.kind == spc.BreakKind.SERIES_BREAK else "Rebase"
        return f"{what} from {self.from_period}: {self.reason}"


@dataclass(frozen=True)
class SPCSeries:
    """A measure's XmR chart (``kpis.spc.Analysis``) with the period of each value.

    ``periods[i]`` is the period of ``analysis.values[i]`` (None there: no figure for the
    period). ``changes`` are the series breaks and rebases that start a segment, in order
    (those before the first figure or after the latest start nothing and are left out).
    """

    periods: tuple[periods.Period, ...]
    analysis: spc.Analysis
    changes: tuple[Change, ...] = ()

    @property
    def variation(self) -> str:
        return str(self.analysis.variation)

    @property
    def assurance(self) -> str:
        return str(self.analysis.assurance)

    @property
    def tolerance_assurance(self) -> str:
        return str(self.analysis.tolerance_assurance)

    def moving_ranges(self) -> tuple[Decimal | None, ...]:
        """Each value's moving range from the one before: None for the first value of a
        segment and either side of a gap (kpis.spc computes none there either)."""
        values = self.analysis.values
        out: list[Decimal | None] = []
        for i, value in enumerate(values):
            before = values[i - 1] if i > 0 else None
            if (
                value is None
                or before is None
                or self.analysis.segment_at(i) is not self.analysis.segment_at(i - 1)
            ):
                out.append(None)
            else:
                out.append(abs(value - before))
        return tuple(out)

    @property
    def latest_side(self) -> spc.Side | None:
        """Which side the special cause at the latest value lies, high or low (a rising
        trend counts as high), as Making Data Count's icons show it (H or L); None for
        common cause or too little data."""
        analysis = self.analysis
        if analysis.latest is None:
            return None
        for signal in analysis.signals_at(analysis.latest):
            if signal.variation == analysis.variation:
                return spc.Side.HIGH if signal.side in (spc.Side.HIGH, spc.Side.UP) else spc.Side.LOW
        return None


@dataclass(frozen=True)
class ScorecardRow:
    measure: Measure
    observation: Observation | None
    target: Target | None
    verdict: rating.Verdict
    direction_previous: rating.Direction
    direction_year: rating.Direction
    flags: list[str] = field(default_factory=list)
    spc: SPCSeries | None = None

    @property
    def variation(self) -> str | None:
        """The SPC variation verdict (interfaces.md); None for a cumulative measure."""
        return self.spc.variation if self.spc else None

    @property
    def assurance(self) -> str | None:
        return self.spc.assurance if self.spc else None

    @property
    def tolerance_assurance(self) -> str | None:
        return self.spc.tolerance_assurance if self.spc else None

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


def following(period: periods.Period) -> periods.Period:
    """The period of the same kind straight after this one (the inverse of periods.previous)."""
    return periods.period_containing(
        period.end + timedelta(days=1), _FREQUENCY_OF_KIND[period.kind], period.year_type
    )


def spc_series(
    defn: rating.Definition,
    figures: Sequence[tuple[periods.Period, Decimal]],
    *,
    spec: rating.TargetSpec | None,
    changes: Sequence[Change] = (),
    config: spc.SPCConfig | None = None,
) -> SPCSeries | None:
    """The XmR chart of a measure's figures (``kpis.spc.analyse``), or None for a
    cumulative measure.

    ``figures`` are (period, unrounded value as rated, R2), one per period. Every period
    of the measure's frequency from the first figure to the latest is a place in the
    series; one with no figure is a gap, which kpis.spc neither draws a moving range
    across nor lets break a run. ``spec`` is the target in force at the latest figure
    (R12). A change starts a segment at the first period beginning on or after its date;
    a series break and a rebase from the same period make one series break (values either
    side are not comparable, which is the stronger statement), with both reasons.

    Why None for cumulative measures: a figure to date climbs within each year by
    construction, so its chart would signal a rising trend every year (kpis.spc.analyse).
    """
    if defn.cumulative:
        return None
    config = config or spc.SPCConfig()
    by_start = {period.start: value for period, value in figures}
    ordered = sorted(period for period, _ in figures)
    places: list[periods.Period] = []
    if ordered:
        period, last = ordered[0], ordered[-1]
        while period.start <= last.start:
            places.append(period)
            period = following(period)
    values = [by_start.get(p.start) for p in places]

    at: dict[int, list[Change]] = {}
    for change in sorted(changes, key=lambda c: (c.from_date, c.kind != spc.BreakKind.SERIES_BREAK)):
        index = next((i for i, p in enumerate(places) if p.start >= change.from_date), None)
        if index is None or index == 0:
            continue  # before the first figure or after the latest: it splits nothing
        at.setdefault(index, []).append(change)
    breaks = []
    applied: list[Change] = []
    for index, found in sorted(at.items()):
        kind = (
            spc.BreakKind.SERIES_BREAK
            if any(c.kind == spc.BreakKind.SERIES_BREAK for c in found)
            else spc.BreakKind.REBASE
        )
        breaks.append(spc.Break(index, kind, "; ".join(c.words for c in found)))
        applied.extend(found)
    analysis = spc.analyse(values, defn, spec, breaks=breaks, config=config)
    return SPCSeries(periods=tuple(places), analysis=analysis, changes=tuple(applied))


def figure_value(defn: rating.Definition, obs: Observation) -> Decimal | None:
    """The unrounded value rated (R2): from numerator and denominator where both are
    given, else the value as reported (as ``rating.rate`` takes it)."""
    computed = rating.computed_value(defn, obs.as_figure())
    return computed if computed is not None else obs.value


def measure_changes(measure: Measure) -> list[Change]:
    """The measure's series breaks and rebases (prefetched by ``with_history``)."""
    return [
        Change(b.from_date, b.from_period, spc.BreakKind.SERIES_BREAK, b.reason)
        for b in measure.series_breaks.all()
    ] + [
        Change(r.from_date, r.from_period, spc.BreakKind.REBASE, r.reason)
        for r in measure.rebases.all()
    ]


def measure_spc(
    measure: Measure, history: list[Observation], target: Target | None
) -> SPCSeries | None:
    """The measure's XmR chart over ``history`` (figures only, oldest first), with the
    run lengths and point counts of its measure set (``MeasureSet.spc_config``)."""
    defn = measure.as_definition()
    figures = []
    for obs in history:
        value = figure_value(defn, obs)
        if value is not None:
            figures.append((measure.parse_period(obs.period), value))
    return spc_series(
        defn,
        figures,
        spec=target.as_spec() if target else None,
        changes=measure_changes(measure),
        config=measure.measure_set.spc_config(),
    )


@dataclass(frozen=True)
class SPCPoint:
    """One place of a measure's XmR chart, for the API's series: the period, its value as
    rated (None: no figure), its verdict against the target in force for it (R12), the
    segment it belongs to, its moving range, its own reading and the signals covering it
    (indices into ``analysis.signals``)."""

    period: periods.Period
    value: Decimal | None
    status: rating.Status | None
    segment: int
    moving_range: Decimal | None
    variation: spc.Variation | None
    signals: tuple[int, ...]


def spc_points(measure: Measure, history: list[Observation], chart: SPCSeries) -> list[SPCPoint]:
    """Every place of ``chart`` (``measure_spc`` of the same ``history``), with the verdict
    of each figure through the rating engine."""
    targets = list(measure.targets.all())
    by_label = {obs.period: obs for obs in history if has_figure(obs)}
    analysis = chart.analysis
    segment_of = {}
    for k, segment in enumerate(analysis.segments):
        for i in range(segment.start, segment.end + 1):
            segment_of[i] = k
    covering: dict[int, list[int]] = {}
    for n, signal in enumerate(analysis.signals):
        for i in signal.indices:
            covering.setdefault(i, []).append(n)
    out = []
    for i, (period, moving_range) in enumerate(zip(chart.periods, chart.moving_ranges(), strict=True)):
        obs = by_label.get(period.label)
        status = None
        if obs is not None and analysis.values[i] is not None:
            status = rate_observation(measure, obs, targets, obs.period_end)[1].status
        out.append(
            SPCPoint(
                period=period,
                value=analysis.values[i],
                status=status,
                segment=segment_of[i],
                moving_range=moving_range,
                variation=analysis.point_variation[i],
                signals=tuple(covering.get(i, ())),
            )
        )
    return out


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
    chart = measure_spc(measure, history, target)
    if latest is None:
        year_ago = periods.shift_years(month, -1)
        if crosses_break(breaks, year_ago.start, month.end):
            flags.append(Flag.SERIES_BREAK)
        return ScorecardRow(
            measure, None, target, verdict, direction_previous, direction_year, flags, chart
        )

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
    return ScorecardRow(
        measure, latest, target, verdict, direction_previous, direction_year, flags, chart
    )


def with_history(
    measures: QuerySet[Measure], month: periods.Period, *, include_drafts: bool
) -> QuerySet[Measure]:
    """Measures with their measure set (joined), targets, breaks, rebases, gaps and visible
    figures: one query each."""
    observations = Observation.objects.visible(include_drafts).filter(period_end__lte=month.end)
    return measures.select_related("measure_set").prefetch_related(
        Prefetch("targets", queryset=Target.objects.order_by("valid_from")),
        Prefetch("series_breaks", queryset=SeriesBreak.objects.order_by("from_date")),
        Prefetch("rebases", queryset=Rebase.objects.order_by("from_date")),
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
    """Every measure of a set with its history, in six queries."""
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
