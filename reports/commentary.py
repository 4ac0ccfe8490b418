"""Drafted commentary: a factual paragraph about a measure, drafted from its figures.

Pure functions over a ``reports.series.Series``: no database, no dates but those given.
The author of the report edits or accepts the draft (``reports.models.MeasureCommentary``);
until then it is marked as drafted.

Every statement must be checkable against the figures beside it, so:

* values are compared as they are displayed, rounded to the measure's decimals (R2), so a
  reader comparing the printed figures reaches the same conclusion;
* movements are described in neutral words ("up", "down", "increased", "decreased"): the
  verdict, not the commentary, says whether that is good (R10);
* figures either side of a series break are never compared (R8), and a run only counts
  neighbouring periods (a gap ends it);
* a record ("the highest since April 2016") is claimed only within the figures available,
  and says where they begin when it reaches back to the first;
* the caveats a reader must see next to the value are stated: data lag, series break,
  gaps, a second source that disagrees, a draft, provisional or illustrative figure;
* statistical process control (``kpis.spc``, read through ``reports.series.series_spc``)
  says in plain words whether the latest figure is part of a real change ("seven months in
  a row above the average: a real improvement, not chance") or only chance, and whether
  the process limits say the target will be met ("the process limits sit wholly above the
  target: it will be met consistently"). Here, and only here, the commentary says better
  or worse: the measure's polarity decides it, as it decides the verdict (R3). With too
  few figures for process limits it says nothing of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from kpis import periods, rating, spc
from kpis.models import Flag
from reports import spc_text
from reports.series import (
    Point,
    Series,
    consecutive,
    day_words,
    latest_comparators,
    period_words,
    plain_number,
    series_spc,
)

__all__ = ["Statement", "draft", "ordinal", "paragraph"]

_ORDINALS = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth",
)


@dataclass(frozen=True)
class Statement:
    """One sentence of the commentary, with what kind of claim it makes (for tests and
    for the author to see where each sentence comes from)."""

    kind: str  # latest, previous, year, run, record, peak, spc, comparators, caveat
    text: str


def ordinal(n: int) -> str:
    if 1 <= n <= len(_ORDINALS):
        return _ORDINALS[n - 1]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _shown(series: Series, value: Decimal) -> Decimal:
    places = max(series.definition.decimals, 0)
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _fmt(series: Series, value: Decimal) -> str:
    return rating.format_value(series.definition, value)


def _difference(series: Series, a: Decimal, b: Decimal) -> str:
    """How far apart two displayed values are, in the measure's unit of change."""
    diff = abs(_shown(series, a) - _shown(series, b))
    number = format(diff, ",f")
    if series.definition.unit == "percent":
        return f"{number} percentage point{'' if diff == 1 else 's'}"
    return number


def _comparable_points(series: Series) -> list[Point]:
    """The figures since the latest series break at or before the latest figure."""
    latest = series.points[-1]
    starts = [b.from_date for b in series.breaks if b.from_date <= latest.period.start]
    if not starts:
        return list(series.points)
    start = max(starts)
    return [p for p in series.points if p.period.start >= start]


def _latest(series: Series, month: periods.Period) -> Statement:
    latest = series.latest
    assert latest is not None
    counts = ""
    if latest.numerator is not None and latest.denominator is not None:
        counts = f" ({plain_number(latest.numerator)} out of {plain_number(latest.denominator)})"
    if latest.period.end < month.start:
        as_at = f", as at {day_words(latest.as_at)}" if latest.as_at else ""
        text = (
            f"The latest figure, for {period_words(latest.period)}{as_at}, is "
            f"{latest.shown}{counts}."
        )
    else:
        text = f"In {period_words(latest.period)} the figure was {latest.shown}{counts}."
    if series.definition.cumulative and latest.projected is not None:
        text = text[:-1] + (
            f" to date, which projects to {_fmt(series, latest.projected)} by the year end."
        )
    return Statement("latest", text)


def _change(series: Series, earlier: Point, later: Point) -> str:
    a, b = _shown(series, later.value), _shown(series, earlier.value)
    if a == b:
        return "unchanged"
    return f"{'up' if a > b else 'down'} {_difference(series, later.value, earlier.value)}"


def _previous(series: Series, points: list[Point]) -> Statement | None:
    if len(points) < 2:
        return None
    earlier, latest = points[-2], points[-1]
    change = _change(series, earlier, latest)
    what = "on" if change != "unchanged" else "from"
    return Statement(
        "previous",
        f"This is {change} {what} the previous figure, {earlier.shown} in "
        f"{period_words(earlier.period)}.",
    )


def _year(series: Series, points: list[Point]) -> Statement | None:
    latest = points[-1]
    year_ago = periods.shift_years(latest.period, -1)
    earlier = next((p for p in points if p.period == year_ago), None)
    if earlier is None:
        return None
    change = _change(series, earlier, latest)
    if change == "unchanged":
        return Statement(
            "year", f"It is the same as a year earlier ({earlier.shown} in {period_words(year_ago)})."
        )
    return Statement(
        "year",
        f"Compared with {period_words(year_ago)} ({earlier.shown}), it is {change}.",
    )


def run_length(series: Series, points: list[Point]) -> tuple[int, int]:
    """How many steps in a row, ending at the latest figure, moved the same way, and which
    way (+1 up, -1 down, 0 none). Only neighbouring periods count."""
    steps = 0
    sign = 0
    for earlier, later in zip(reversed(points[:-1]), reversed(points[1:]), strict=True):
        if not consecutive(series, earlier, later):
            break
        a, b = _shown(series, later.value), _shown(series, earlier.value)
        step = (a > b) - (a < b)
        if step == 0 or (sign and step != sign):
            break
        sign = step
        steps += 1
    return steps, sign


def _run(series: Series, points: list[Point]) -> Statement | None:
    steps, sign = run_length(series, points)
    if steps < 2:
        return None
    verb = "increased" if sign > 0 else "decreased"
    return Statement("run", f"It has {verb} for the {ordinal(steps)} {series.noun} in a row.")


def _record(series: Series, points: list[Point]) -> Statement | None:
    """The highest (or lowest) since an earlier figure at least as high (low)."""
    if len(points) < 3:
        return None
    latest = points[-1]
    now = _shown(series, latest.value)
    earlier = points[:-1]
    prev = _shown(series, earlier[-1].value)
    for word, beaten in (("highest", lambda v: v >= now), ("lowest", lambda v: v <= now)):
        if (word == "highest" and prev >= now) or (word == "lowest" and prev <= now):
            continue
        match = next((p for p in reversed(earlier) if beaten(_shown(series, p.value))), None)
        if match is None:
            return Statement(
                "record",
                f"This is the {word} of the {len(points)} figures available, which begin in "
                f"{period_words(points[0].period)}.",
            )
        between = points.index(match)
        if len(points) - 2 - between >= 2:  # at least two figures between, all beaten
            return Statement(
                "record",
                f"This is the {word} since {period_words(match.period)} ({match.shown}).",
            )
    return None


def _peak(series: Series, points: list[Point]) -> Statement | None:
    """Down from a peak (or up from a low) within the twelve months before the previous
    figure, when the latest figure moved away from it: the maximum (minimum) of that
    window, higher (lower) than both the previous figure and the latest."""
    if len(points) < 3:
        return None
    latest, prev = points[-1], points[-2]
    since = latest.period.start - timedelta(days=365)
    window = [p for p in points[:-2] if p.period.start >= since]
    if not window:
        return None
    now, before = _shown(series, latest.value), _shown(series, prev.value)
    if before > now:
        # The latest of equal highs: the peak it has fallen from most recently.
        top = max(window, key=lambda p: (_shown(series, p.value), p.period.start))
        if _shown(series, top.value) > before:
            return Statement(
                "peak", f"It is down from a peak of {top.shown} in {period_words(top.period)}."
            )
    if before < now:
        bottom = min(window, key=lambda p: (_shown(series, p.value), -p.period.start.toordinal()))
        if _shown(series, bottom.value) < before:
            return Statement(
                "peak", f"It is up from a low of {bottom.shown} in {period_words(bottom.period)}."
            )
    return None


# Which signal speaks for the latest figure when several cover it.
_RULE_ORDER = (spc.Rule.SHIFT, spc.Rule.TREND, spc.Rule.BEYOND_LIMIT, spc.Rule.TWO_OF_THREE)


def _spc(series: Series) -> list[Statement]:
    """Variation and assurance in plain words, from the series' XmR chart."""
    chart = series_spc(series)
    if chart is None or chart.analysis.limits is None:
        return []
    defn = series.definition
    analysis = chart.analysis
    step = spc_text.noun(chart)
    assert analysis.latest is not None
    out = []
    deciding = sorted(
        (s for s in analysis.signals_at(analysis.latest) if s.variation == analysis.variation),
        key=lambda s: _RULE_ORDER.index(s.rule),
    )
    if deciding:
        out.append(Statement("spc", spc_text.signal_words(chart, defn, deciding[0])))
    else:
        limits = analysis.limits
        out.append(
            Statement(
                "spc",
                f"The figures vary within their process limits ({_fmt(series, limits.lower)} to "
                f"{_fmt(series, limits.upper)}) as chance would make them: no sign of real change.",
            )
        )
    segment = analysis.segment_at(analysis.latest)
    if segment.kind == spc.BreakKind.REBASE:
        first = label_of(chart, segment.start)
        if segment.judged_by != analysis.segments.index(segment):
            out.append(
                Statement(
                    "spc",
                    f"The rebase from {first} has too few figures for limits of its own yet, so "
                    "its figures are still judged against the limits before it.",
                )
            )
        elif segment.versus_previous in (rating.Direction.IMPROVING, rating.Direction.WORSENING):
            better = segment.versus_previous == rating.Direction.IMPROVING
            out.append(
                Statement(
                    "spc",
                    f"Since the rebase from {first} the average is "
                    f"{'better' if better else 'worse'} than before it.",
                )
            )
    if analysis.provisional:
        out.append(
            Statement(
                "spc",
                f"The process limits are provisional, from {analysis.limits.points} figures; "
                f"they are fixed once there are {analysis.config.baseline_points}.",
            )
        )
    if analysis.assurance != spc.Assurance.NOT_APPLICABLE:
        out.append(Statement("spc", spc_text.assurance_text(chart, defn, step)))
    tolerance = analysis.tolerance_assurance
    if tolerance != spc.ToleranceAssurance.NOT_APPLICABLE and not (
        analysis.assurance == spc.Assurance.CONSISTENTLY_PASSING
        and tolerance == spc.ToleranceAssurance.CONSISTENTLY_WITHIN
    ):
        out.append(Statement("spc", spc_text.tolerance_text(chart, defn, step)))
    return out


def label_of(chart, index: int) -> str:
    return spc_text.label(chart.periods[index])


def _comparators(series: Series, month: periods.Period) -> list[Statement]:
    latest = series.latest
    assert latest is not None
    comps = latest_comparators(series, month.end)
    if not comps:
        return []
    now = _shown(series, latest.value)
    groups: dict[str, list[str]] = {"above": [], "below": [], "the same as": []}
    for c in comps:
        them = _shown(series, c.value)
        relation = "above" if now > them else "below" if now < them else "the same as"
        groups[relation].append(f"{c.group} ({_fmt(series, c.value)}, {c.period})")
    clauses = [f"{rel} {_join(items)}" for rel, items in groups.items() if items]
    out = [Statement("comparators", f"It is {_join(clauses)}.")]
    odd = [c.group for c in comps if not c.comparable]
    if odd:
        out.append(
            Statement(
                "caveat",
                f"The figure{'s' if len(odd) > 1 else ''} for {_join(odd)} "
                f"{'are' if len(odd) > 1 else 'is'} not directly comparable with this measure.",
            )
        )
    return out


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _caveats(series: Series, month: periods.Period) -> list[Statement]:
    latest = series.latest
    assert latest is not None
    out = []
    if latest.period.end < month.start:
        out.append(
            Statement(
                "caveat",
                f"The data arrive with a lag: there is no later figure than "
                f"{period_words(latest.period)}.",
            )
        )
    first = series.points[0].period.start
    for brk in series.breaks:
        if first < brk.from_date <= latest.period.start:
            out.append(
                Statement(
                    "caveat",
                    f"There is a series break from {brk.from_period}, so figures before it are "
                    f"not compared with later ones: {_sentence(brk.reason)}",
                )
            )
    for gap in series.gaps:
        if gap.start <= month.end and gap.end >= first:
            out.append(
                Statement(
                    "caveat",
                    f"No figures are available from {day_words(gap.start)} to "
                    f"{day_words(gap.end)}: {_sentence(gap.reason)}",
                )
            )
    if latest.second_value is not None:
        source = latest.second_source or "a second source"
        agrees = _shown(series, latest.second_value) == _shown(series, latest.value)
        out.append(
            Statement(
                "caveat",
                f"A second source, {source}, gives {_fmt(series, latest.second_value)}"
                + (", the same figure." if agrees else ", which disagrees."),
            )
        )
    if not latest.official:
        out.append(Statement("caveat", "The figure is a draft: its return is not yet signed off."))
    if Flag.PROVISIONAL in latest.flags:
        out.append(Statement("caveat", "The figure is provisional."))
    if Flag.ILLUSTRATIVE in latest.flags:
        out.append(Statement("caveat", "The figure is illustrative, not a real figure."))
    return out


def draft(series: Series, month: periods.Period) -> list[Statement]:
    """The statements the figures support, in reading order."""
    if not series.points:
        return [
            Statement("latest", f"There is no figure for {series.code} up to {period_words(month)}.")
        ]
    out = [_latest(series, month)]
    comparable = _comparable_points(series)
    if not series.definition.cumulative:
        # A cumulative figure restarts each year: only the same point a year earlier compares.
        for make in (_previous, _run, _peak):
            statement = make(series, comparable)
            if statement:
                out.append(statement)
    year = _year(series, comparable)
    if year:
        out.append(year)
    if not series.definition.cumulative:
        record = _record(series, comparable)
        if record:
            out.append(record)
    out += _spc(series)
    out += _comparators(series, month)
    out += _caveats(series, month)
    return out


def paragraph(statements: list[Statement]) -> str:
    return " ".join(s.text for s in statements)

