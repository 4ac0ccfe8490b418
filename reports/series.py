"""A measure's history as plain values: every figure rated, with its breaks, gaps,
comparators and targets.

Why a module of its own: the dashboard's sparkline, the measure page's chart and table,
the drafted commentary and the committee report all read the same history, and must all
see the same figures with the same verdicts. ``series_for`` builds it from a measure
prefetched by ``kpis.scorecard.measures_with_history`` (no query of its own), rating each
figure through the engine against the target in force for the period it covers (R12).
Everything after that (``segments``, ``series_spc``, ``chart_spec``, ``reports.commentary``)
is pure. ``series_spc`` reads the series' statistical process control chart through
``kpis.scorecard.spc_series``, the function the scorecard's rows use, so the chart, the
icons and the drafted commentary agree with the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from kpis import periods, rating, spc
from kpis.models import Comparator, Measure
from kpis.scorecard import Change, SPCSeries, has_figure, rate_observation, spc_series
from reports import spc_text

UNIT_LABELS = {
    "percent": "Percentage (%)",
    "count": "Number",
    "days": "Days",
    "fte": "Full-time equivalents",
    "other": "Value",
}


@dataclass(frozen=True)
class Point:
    """One figure of the measure, rated against the target in force for its period."""

    period: periods.Period
    value: Decimal  # the unrounded value rated (R2)
    shown: str  # as displayed beside its verdict (R2's extra decimal where needed)
    status: str
    reason: str
    as_at: date | None
    flags: tuple[str, ...]
    official: bool
    note: str
    numerator: Decimal | None
    denominator: Decimal | None
    second_value: Decimal | None
    second_source: str
    projected: Decimal | None = None


@dataclass(frozen=True)
class Break:
    from_date: date
    from_period: str
    reason: str


@dataclass(frozen=True)
class Gap:
    start: date
    end: date
    reason: str


@dataclass(frozen=True)
class ComparatorValue:
    group: str
    period: str
    period_end: date
    value: Decimal
    comparable: bool
    note: str


@dataclass(frozen=True)
class TargetSpan:
    valid_from: date
    valid_to: date | None
    spec: rating.TargetSpec
    bounds: rating.Bounds
    words: str
    note: str


@dataclass(frozen=True)
class Series:
    code: str
    slug: str
    title: str
    kind: str
    definition: rating.Definition
    period_kind: str
    points: tuple[Point, ...]
    breaks: tuple[Break, ...] = ()
    gaps: tuple[Gap, ...] = ()
    comparators: tuple[ComparatorValue, ...] = ()
    targets: tuple[TargetSpan, ...] = ()
    comparability_note: str = ""
    rebases: tuple[Break, ...] = ()
    spc_config: spc.SPCConfig = spc.SPCConfig()

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    @property
    def noun(self) -> str:
        """What one step of the series is called: month, quarter, term or year."""
        return spc_text.NOUNS[self.period_kind]


def series_for(measure: Measure, comparators: list[Comparator] | None = None) -> Series:
    """The measure's visible history, rated (``measure`` prefetched by measures_with_history)."""
    defn = measure.as_definition()
    targets = list(measure.targets.all())
    points = []
    for obs in measure.visible_history:
        if not has_figure(obs):
            continue
        target, verdict = rate_observation(measure, obs, targets, obs.period_end)
        if verdict.value is None:
            continue
        points.append(
            Point(
                period=measure.parse_period(obs.period),
                value=verdict.value,
                shown=rating.display_value(defn, verdict),
                status=str(verdict.status),
                reason=verdict.reason,
                as_at=obs.as_at,
                flags=tuple(obs.flags or ()),
                official=obs.is_official,
                note=obs.note,
                numerator=obs.numerator,
                denominator=obs.denominator,
                second_value=obs.second_value,
                second_source=obs.second_source,
                projected=verdict.projected,
            )
        )
    spans = tuple(
        TargetSpan(
            valid_from=t.valid_from,
            valid_to=t.valid_to,
            spec=t.as_spec(),
            bounds=rating.resolve_bounds(defn, t.as_spec()),
            words=rating.target_words(defn, t.as_spec()),
            note=t.note,
        )
        for t in targets
    )
    return Series(
        code=measure.code,
        slug=measure.slug,
        title=measure.title,
        kind=measure.kind,
        definition=defn,
        period_kind=periods.period_kind_for(measure.frequency, measure.year_type),
        points=tuple(points),
        breaks=tuple(
            Break(b.from_date, b.from_period, b.reason) for b in measure.series_breaks.all()
        ),
        gaps=tuple(Gap(g.start, g.end, g.reason) for g in measure.data_gaps.all()),
        comparators=tuple(
            ComparatorValue(c.group, c.period, c.period_end, c.value, c.comparable, c.note)
            for c in (comparators or [])
        ),
        targets=spans,
        comparability_note=measure.comparability_note,
        rebases=tuple(Break(r.from_date, r.from_period, r.reason) for r in measure.rebases.all()),
        spc_config=measure.measure_set.spc_config(),
    )


# --- pure helpers ----------------------------------------------------------------------


def series_spc(series: Series) -> SPCSeries | None:
    """The series' XmR chart, judged against the target in force at its latest figure
    (R12); None for a cumulative measure (``kpis.scorecard.spc_series``)."""
    latest = series.latest
    span = target_in_force(series, latest.period.end) if latest else None
    changes = [
        Change(b.from_date, b.from_period, spc.BreakKind.SERIES_BREAK, b.reason)
        for b in series.breaks
    ] + [Change(r.from_date, r.from_period, spc.BreakKind.REBASE, r.reason) for r in series.rebases]
    return spc_series(
        series.definition,
        [(p.period, p.value) for p in series.points],
        spec=span.spec if span else None,
        changes=changes,
        config=series.spc_config,
    )


def period_words(period: periods.Period) -> str:
    """A period for a reader: "April 2018"; "2017/18 Q2, July to September 2017"."""
    if period.kind == "month":
        return f"{period.start:%B %Y}"
    if period.kind == "quarter":
        return f"{period.label}, {period.start:%B} to {period.end:%B %Y}"
    return period.label


def day_words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def plain_number(value: Decimal | None) -> str:
    """A numerator or denominator as written: 495, 151.8, 10,000 (never 495.000000)."""
    if value is None:
        return ""
    n = value.normalize()
    return format(n if n != 0 else abs(n), ",f")


def crosses_break(series: Series, earlier: Point, later: Point) -> bool:
    return any(earlier.period.start < b.from_date <= later.period.start for b in series.breaks)


def consecutive(series: Series, earlier: Point, later: Point) -> bool:
    """Whether two figures are neighbours: adjacent periods, no gap or break between them."""
    if periods.previous(later.period) != earlier.period:
        return False
    if crosses_break(series, earlier, later):
        return False
    return not any(g.start < later.period.start and g.end > earlier.period.end for g in series.gaps)


def segments(series: Series, points: tuple[Point, ...] | None = None) -> list[list[Point]]:
    """Runs of neighbouring figures: a line is drawn within a run, never across a gap."""
    runs: list[list[Point]] = []
    for point in series.points if points is None else points:
        if runs and consecutive(series, runs[-1][-1], point):
            runs[-1].append(point)
        else:
            runs.append([point])
    return runs


def target_in_force(series: Series, day: date) -> TargetSpan | None:
    for span in series.targets:
        if span.valid_from <= day and (span.valid_to is None or day <= span.valid_to):
            return span
    return None


def latest_comparators(series: Series, by: date) -> list[ComparatorValue]:
    """Each comparator group's latest value published for a period ending by ``by``."""
    latest: dict[str, ComparatorValue] = {}
    # Sorted fully, so the order (and the drafted text) never depends on the query's order.
    for comp in sorted(series.comparators, key=lambda c: (c.period_end, c.group)):
        if comp.period_end <= by:
            latest[comp.group] = comp
    return list(latest.values())


def _mid(period: periods.Period) -> date:
    return period.start + (period.end - period.start) / 2


def _num(value: Decimal, decimals: int) -> float:
    return round(float(value), max(decimals, 0) + 2)


def _band(series: Series, span: TargetSpan) -> tuple[Decimal | None, Decimal | None, list[Decimal]]:
    """The within-tolerance zone to shade, and the target line(s), for one target span."""
    polarity, b, spec = series.definition.polarity, span.bounds, span.spec
    if polarity == "up" and b.target is not None:
        low = b.tolerance_low if b.tolerance_low not in (None, b.target) else None
        return low, (b.target if low is not None else None), [b.target]
    if polarity == "down" and b.target is not None:
        high = b.tolerance_high if b.tolerance_high not in (None, b.target) else None
        return (b.target if high is not None else None), high, [b.target]
    if polarity == "band":
        lines = [v for v in (spec.target_low, spec.target_high) if v is not None]
        if not lines and spec.target is not None:
            lines = [spec.target]
        return b.tolerance_low, b.tolerance_high, sorted(set(lines))
    return None, None, []


def _spc_spec(
    series: Series, chart: SPCSeries | None, x_start: date, x_end: date
) -> dict | None:
    """The XmR chart's lines and marks, for ``reports.charts``: each segment's mean and
    process limits over its own periods (so earlier limits stay where they were after a
    series break or rebase), the limits a rebase replaced continued faintly across it, the
    limits a short rebase is still judged by, special-cause points by their reading, and
    the rebases with their reasons."""
    if chart is None or chart.analysis.latest is None:
        return None
    d = series.definition.decimals
    analysis = chart.analysis

    def span(segment: spc.Segment) -> tuple[date, date] | None:
        start = max(chart.periods[segment.start].start, x_start)
        end = min(chart.periods[segment.end].end, x_end)
        return (start, end) if start < end else None

    def line(limits: spc.Limits, when: tuple[date, date], role: str) -> dict:
        return {
            "from": when[0].isoformat(),
            "to": when[1].isoformat(),
            "mean": _num(limits.mean, d),
            "upper": _num(limits.upper, d),
            "lower": _num(limits.lower, d),
            "provisional": limits.provisional,
            "role": role,  # own, carried (a short rebase judged by earlier limits), replaced
        }

    lines = []
    for k, segment in enumerate(analysis.segments):
        when = span(segment)
        if when is None or segment.judged_by is None:
            continue
        limits = analysis.segments[segment.judged_by].limits
        if limits is None:
            continue
        lines.append(line(limits, when, "own" if segment.judged_by == k else "carried"))
        if segment.kind == spc.BreakKind.REBASE and segment.judged_by == k and k > 0:
            before = analysis.segments[k - 1].judged_by
            replaced = analysis.segments[before].limits if before is not None else None
            if replaced is not None:
                lines.append(line(replaced, when, "replaced"))
    special = (
        spc.Variation.SPECIAL_CAUSE_IMPROVING,
        spc.Variation.SPECIAL_CAUSE_CONCERNING,
        spc.Variation.SPECIAL_CAUSE_NEITHER,
    )
    signals = [
        {"x": _mid(chart.periods[i]).isoformat(), "y": _num(analysis.values[i], d), "variation": str(v)}
        for i, v in enumerate(analysis.point_variation)
        if v in special and analysis.values[i] is not None
    ]
    rebases = [
        {"x": c.from_date.isoformat(), "label": f"Rebase: {c.reason}"}
        for c in chart.changes
        if c.kind == spc.BreakKind.REBASE and x_start <= c.from_date <= x_end
    ]
    return {"lines": lines, "signals": signals, "rebases": rebases}


def _spc_desc(series: Series, chart: SPCSeries | None) -> list[str]:
    """The XmR chart in the chart's text alternative; every signal is also in the table
    beside the chart."""
    if chart is None:
        return []
    defn = series.definition
    analysis = chart.analysis
    out = []
    if analysis.limits is not None:
        out.append(f"Statistical process control: {spc_text.limits_words(defn, analysis.limits)}.")
    out.append(f"Variation: {spc_text.VARIATION_WORDS[analysis.variation]}.")
    if analysis.limits is not None:
        out.append(
            f"Assurance against the target: {spc_text.ASSURANCE_WORDS[analysis.assurance]}; "
            f"against the tolerance: {spc_text.TOLERANCE_WORDS[analysis.tolerance_assurance]}."
        )
    if analysis.signals:
        out.append(
            f"{len(analysis.signals)} special-cause signal{'s' if len(analysis.signals) != 1 else ''}"
            ", marked with triangles (up: improving, down: concerning) or diamonds (neither)."
        )
    for change in chart.changes:
        if change.kind == spc.BreakKind.REBASE:
            out.append(f"{change.words}.")
    return out


def chart_spec(
    series: Series,
    month: periods.Period,
    *,
    chart_id: str,
    spc_chart: SPCSeries | None = None,
) -> dict:
    """The JSON-able description ``reports.charts`` draws the history chart from.

    ``spc_chart`` is the series' XmR chart when the caller has it (a scorecard row's);
    otherwise it is read from the series."""
    if spc_chart is None:
        spc_chart = series_spc(series)
    defn = series.definition
    d = defn.decimals
    first = series.points[0].period.start if series.points else month.start
    x_start = min(first, periods.add_months(month, -11).start)
    comps = latest_comparators(series, month.end)
    for comp in comps:
        x_start = min(x_start, comp.period_end - timedelta(days=15))
    x_end = month.end

    runs = segments(series)
    spans = []
    for span in series.targets:
        end = span.valid_to or x_end
        if end < x_start or span.valid_from > x_end:
            continue
        low, high, lines = _band(series, span)
        spans.append(
            {
                "from": max(span.valid_from, x_start).isoformat(),
                "to": min(end, x_end).isoformat(),
                "band_low": _num(low, d) if low is not None else None,
                "band_high": _num(high, d) if high is not None else None,
                "target_lines": [_num(v, d) for v in lines],
            }
        )
    latest = series.latest
    as_at = None
    if latest is not None and (latest.as_at or latest.period.end < month.start):
        as_at = f"as at {day_words(latest.as_at or latest.period.end)}"

    unit = defn.unit
    y_label = (
        f"Rate per {int(defn.per):,}" if unit == "rate" and defn.per else UNIT_LABELS.get(unit, "Value")
    )
    target_now = target_in_force(series, month.end)
    desc = [
        f"Line chart of {len(series.points)} figure{'s' if len(series.points) != 1 else ''}"
        + (
            f" from {period_words(series.points[0].period)} to {period_words(latest.period)}."
            if latest
            else "; there are no figures yet."
        )
    ]
    if latest:
        desc.append(f"Latest: {latest.shown} for {period_words(latest.period)}" + (f", {as_at}." if as_at else "."))
    desc.append(f"Target: {target_now.words}." if target_now else "No target is set.")
    if comps:
        desc.append(
            "Comparators: "
            + "; ".join(
                f"{c.group} {rating.format_value(defn, c.value)} ({c.period}"
                + (", not directly comparable)" if not c.comparable else ")")
                for c in comps
            )
            + "."
        )
    for b in series.breaks:
        desc.append(f"Series break from {b.from_period}.")
    for g in series.gaps:
        desc.append(f"No data from {day_words(g.start)} to {day_words(g.end)}.")
    if len(runs) > 1:
        desc.append("The line is broken where figures are missing or not comparable.")
    desc += _spc_desc(series, spc_chart)
    desc.append("The figures are also given in the table.")

    return {
        "id": chart_id,
        "title": f"{series.code}: {series.title}",
        "desc": " ".join(desc),
        "y_label": y_label,
        "x_label": "Period",
        "percent": unit == "percent",
        "non_negative": all(p.value >= 0 for p in series.points),
        "x_start": x_start.isoformat(),
        "x_end": x_end.isoformat(),
        "series_label": series.code,
        "target_label": "Annual target" if defn.cumulative else "Target",
        "segments": [
            [{"x": _mid(p.period).isoformat(), "y": _num(p.value, d)} for p in run] for run in runs
        ],
        "latest": (
            {
                "x": _mid(latest.period).isoformat(),
                "y": _num(latest.value, d),
                "shown": latest.shown,
                "as_at": as_at,
            }
            if latest
            else None
        ),
        "targets": spans,
        "comparators": [
            {
                "x": c.period_end.isoformat(),
                "y": _num(c.value, d),
                "comparable": c.comparable,
                "label": f"{c.group} ({c.period})" + ("" if c.comparable else ", not comparable"),
            }
            for c in comps
        ],
        "breaks": [
            {"x": b.from_date.isoformat(), "label": f"Series break from {b.from_period}"}
            for b in series.breaks
        ],
        "gaps": [
            {"from": max(g.start, x_start).isoformat(), "to": min(g.end, x_end).isoformat()}
            for g in series.gaps
            if g.end >= x_start and g.start <= x_end
        ],
        "spc": _spc_spec(series, spc_chart, x_start, x_end),
    }


def sparkline_values(series: Series, last: int = 13) -> list[list[float]]:
    """The last few figures, in runs of neighbours, for the dashboard's trend line."""
    d = series.definition.decimals
    return [[_num(p.value, d) for p in run] for run in segments(series, series.points[-last:])]

