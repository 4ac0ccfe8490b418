"""Statistical process control in words: what the pages, the report and the drafted
commentary say about a measure's XmR chart (``kpis.spc`` via ``kpis.scorecard.SPCSeries``).

The verdicts' words repeat interfaces.md's vocabulary ("special_cause_improving" is
"Special cause improving"), so a reader of the page and an integrator reading the API
meet the same names. Each verdict also has a sentence saying what it means in plain
words, and each signal says which periods it covers and what it means, so nothing on a
chart is said by its colour or shape alone (WCAG 1.4.1). ``summary`` is JSON-able: it is
stored in a published report's snapshot with the rest of the report.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kpis import periods, rating, spc
from kpis.scorecard import SPCSeries

Variation = spc.Variation
Assurance = spc.Assurance
ToleranceAssurance = spc.ToleranceAssurance

VARIATION_WORDS: dict[str, str] = {
    Variation.COMMON_CAUSE: "Common cause",
    Variation.SPECIAL_CAUSE_IMPROVING: "Special cause improving",
    Variation.SPECIAL_CAUSE_CONCERNING: "Special cause concerning",
    Variation.SPECIAL_CAUSE_NEITHER: "Special cause neither improving nor concerning",
    Variation.INSUFFICIENT_DATA: "Insufficient data",
}
ASSURANCE_WORDS: dict[str, str] = {
    Assurance.CONSISTENTLY_PASSING: "Consistently passing",
    Assurance.CONSISTENTLY_FAILING: "Consistently failing",
    Assurance.HIT_AND_MISS: "Hit and miss",
    Assurance.NOT_APPLICABLE: "Not applicable",
}
TOLERANCE_WORDS: dict[str, str] = {
    ToleranceAssurance.CONSISTENTLY_WITHIN: "Consistently within tolerance",
    ToleranceAssurance.CONSISTENTLY_OUTSIDE: "Consistently outside tolerance",
    ToleranceAssurance.HIT_AND_MISS: "Hit and miss",
    ToleranceAssurance.NOT_APPLICABLE: "Not applicable",
}
# What a signal means for the measure, by the variation it reads as.
MEANING: dict[str, str] = {
    Variation.SPECIAL_CAUSE_IMPROVING: "a real improvement, not chance",
    Variation.SPECIAL_CAUSE_CONCERNING: "a real deterioration, not chance",
    Variation.SPECIAL_CAUSE_NEITHER: "a real change, not chance",
}
RULE_WORDS: dict[str, str] = {
    spc.Rule.BEYOND_LIMIT: "Beyond a process limit",
    spc.Rule.SHIFT: "Run on one side of the mean",
    spc.Rule.TREND: "Run rising or falling",
    spc.Rule.TWO_OF_THREE: "Two of three close to a limit",
}
CUMULATIVE_WORDS = "Not charted: a figure to date climbs through the year by construction"

# What one step of a series of each period kind is called.
NOUNS = {"month": "month", "quarter": "quarter", "term": "term", "year": "year",
         "calendar_year": "year"}
_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "ten", "eleven", "twelve")


def number_words(n: int) -> str:
    """Small counts in words, as a committee report writes them: "seven", "24"."""
    return _NUMBERS[n] if 0 <= n < len(_NUMBERS) else str(n)


def noun(chart: SPCSeries) -> str:
    """What one step of the series is called: month, quarter, term or year."""
    return NOUNS[chart.periods[0].kind] if chart.periods else "period"


def plural(n: int, word: str) -> str:
    return word if n == 1 else f"{word}s"


def label(period: periods.Period) -> str:
    """A period as a reader writes it: "April 2018", "2017/18 Q2"."""
    return f"{period.start:%B %Y}" if period.kind == "month" else period.label


def _fmt(defn: rating.Definition, value: Decimal) -> str:
    return rating.format_value(defn, value)


def limits_words(defn: rating.Definition, limits: spc.Limits) -> str:
    """ "mean 91.2%, process limits 85.0% to 97.4% (provisional, from 14 figures)" """
    state = (
        f"provisional, from {limits.points} figures"
        if limits.provisional
        else f"fixed on {limits.points} figures"
    )
    return (
        f"mean {_fmt(defn, limits.mean)}, process limits {_fmt(defn, limits.lower)} to "
        f"{_fmt(defn, limits.upper)} ({state})"
    )


def _target_side(defn: rating.Definition, passing: bool) -> str:
    """Where wholly-passing (or wholly-failing) limits sit relative to the target."""
    if defn.polarity == "band":
        return "inside the target range" if passing else "outside the target range"
    above = (defn.polarity == "up") == passing
    return "above the target" if above else "below the target"


def variation_text(chart: SPCSeries, defn: rating.Definition) -> str:
    """What the variation verdict means, in one sentence."""
    variation = chart.analysis.variation
    if variation == Variation.INSUFFICIENT_DATA:
        need = chart.analysis.config.minimum_points
        return (
            f"There are too few comparable figures to tell real change from chance: process "
            f"limits need at least {number_words(need)}."
        )
    if variation == Variation.COMMON_CAUSE:
        return (
            "The latest figure is within the variation chance would give: there is no sign of "
            "real change."
        )
    return f"The latest figure is part of a signal: {MEANING[variation]}."


def assurance_text(chart: SPCSeries, defn: rating.Definition, unit_noun: str) -> str:
    assurance = chart.analysis.assurance
    if assurance == Assurance.CONSISTENTLY_PASSING:
        return f"The process limits sit wholly {_target_side(defn, True)}: it will be met consistently."
    if assurance == Assurance.CONSISTENTLY_FAILING:
        return (
            f"The process limits sit wholly {_target_side(defn, False)}: it will not be met "
            "unless the process changes."
        )
    if assurance == Assurance.HIT_AND_MISS:
        return (
            f"The target lies between the process limits: it will be met in some {unit_noun}s "
            "and missed in others."
        )
    if chart.analysis.limits is None:
        return "There are no process limits yet to compare with the target."
    return "There is no target to compare the process limits with."


def tolerance_text(chart: SPCSeries, defn: rating.Definition, unit_noun: str) -> str:
    tolerance = chart.analysis.tolerance_assurance
    if tolerance == ToleranceAssurance.CONSISTENTLY_WITHIN:
        return "The process limits sit wholly within tolerance: no figure is expected outside it."
    if tolerance == ToleranceAssurance.CONSISTENTLY_OUTSIDE:
        return (
            "The process limits sit wholly outside tolerance: figures will stay outside it "
            "unless the process changes."
        )
    if tolerance == ToleranceAssurance.HIT_AND_MISS:
        return (
            f"The edge of the tolerance lies between the process limits: in some {unit_noun}s "
            "the figure will fall outside tolerance."
        )
    if chart.analysis.limits is None:
        return "There are no process limits yet to compare with the tolerance."
    return "There is no tolerance to compare the process limits with."


def _span(chart: SPCSeries, indices: tuple[int, ...]) -> str:
    first, last = chart.periods[indices[0]], chart.periods[indices[-1]]
    if first == last:
        return label(first)
    return f"{label(first)} to {label(last)}"


def signal_words(chart: SPCSeries, defn: rating.Definition, signal: spc.Signal) -> str:
    """A signal in words: "Eight months in a row above the average (May 2017 to December
    2017): a real improvement, not chance." """
    n = len(signal.indices)
    step = noun(chart)
    limits = chart.analysis.segments[signal.segment].limits
    high = signal.side in (spc.Side.HIGH, spc.Side.UP)
    if signal.rule == spc.Rule.BEYOND_LIMIT:
        edge = "above the upper" if high else "below the lower"
        limit = ""
        if limits is not None:
            limit = f" ({_fmt(defn, limits.upper if high else limits.lower)})"
        what = f"The figure for {_span(chart, signal.indices)} is {edge} process limit{limit}"
    elif signal.rule == spc.Rule.SHIFT:
        side = "above" if high else "below"
        what = (
            f"{number_words(n).capitalize()} {plural(n, step)} in a row {side} the average "
            f"({_span(chart, signal.indices)})"
        )
    elif signal.rule == spc.Rule.TREND:
        way = "higher" if high else "lower"
        what = (
            f"{number_words(n).capitalize()} {plural(n, step)} in a row each {way} than the one "
            f"before ({_span(chart, signal.indices)})"
        )
    else:
        edge = "upper" if high else "lower"
        listed = ", ".join(label(chart.periods[i]) for i in signal.indices)
        what = (
            f"{number_words(n).capitalize()} of three {plural(3, step)} in a row close to the "
            f"{edge} process limit ({listed})"
        )
    return f"{what}: {MEANING[signal.variation]}."


def signal_rows(chart: SPCSeries, defn: rating.Definition) -> list[dict[str, Any]]:
    """Every signal, for a table: rule, periods, what it means, and its words; ``recent``
    when it reaches into the last twelve periods (what the committee report lists)."""
    recent_from = len(chart.periods) - 12
    return [
        {
            "recent": signal.indices[-1] >= recent_from,
            "rule": str(signal.rule),
            "rule_words": RULE_WORDS[signal.rule],
            "periods": _span(chart, signal.indices),
            "count": len(signal.indices),
            "variation": str(signal.variation),
            "variation_words": VARIATION_WORDS[signal.variation],
            "text": signal_words(chart, defn, signal),
        }
        for signal in chart.analysis.signals
    ]


def segment_rows(chart: SPCSeries, defn: rating.Definition) -> list[dict[str, Any]]:
    """Every segment: where it starts and why, its limits or why it has none."""
    rows = []
    for k, segment in enumerate(chart.analysis.segments):
        starts = ""
        if segment.kind != spc.BreakKind.START:
            starts = segment.reason
        limits = segment.limits
        if limits is not None:
            state = "Provisional" if limits.provisional else "Fixed"
            limit_text = limits_words(defn, limits)
        elif segment.judged_by is not None and segment.judged_by != k:
            state = "Judged by the earlier limits"
            earlier = chart.analysis.segments[segment.judged_by].limits
            limit_text = (
                f"too few figures of its own ({segment.points}); judged against the limits "
                f"before it" + (f": {limits_words(defn, earlier)}" if earlier else "")
            )
        else:
            state = "Insufficient data"
            limit_text = f"too few figures for process limits ({segment.points})"
        versus = ""
        if segment.kind == spc.BreakKind.REBASE and segment.versus_previous in (
            rating.Direction.IMPROVING, rating.Direction.WORSENING, rating.Direction.UNCHANGED,
        ):
            versus = {
                rating.Direction.IMPROVING: "The mean is better than before the rebase.",
                rating.Direction.WORSENING: "The mean is worse than before the rebase.",
                rating.Direction.UNCHANGED: "The mean is the same as before the rebase.",
            }[segment.versus_previous]
        rows.append(
            {
                "from": label(chart.periods[segment.start]),
                "to": label(chart.periods[segment.end]),
                "kind": str(segment.kind),
                "starts": starts,
                "state": state,
                "limits": limit_text,
                "mean": _fmt(defn, limits.mean) if limits else "",
                "lower": _fmt(defn, limits.lower) if limits else "",
                "upper": _fmt(defn, limits.upper) if limits else "",
                "versus": versus,
            }
        )
    return rows


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def summary(chart: SPCSeries | None, defn: rating.Definition) -> dict[str, Any]:
    """The verdicts with their words and meaning, the limits in force and the signals:
    JSON-able, for the measure page, the report and a published report's snapshot."""
    if chart is None:
        return {
            "charted": False,
            "variation": None,
            "variation_words": CUMULATIVE_WORDS,
            "variation_side": None,
            "variation_text": CUMULATIVE_WORDS + ".",
            "assurance": None,
            "assurance_words": "Not applicable",
            "assurance_text": "",
            "tolerance_assurance": None,
            "tolerance_words": "Not applicable",
            "tolerance_text": "",
            "limits": "",
            "provisional": False,
            "signals": [],
            "segments": [],
        }
    step = noun(chart)
    analysis = chart.analysis
    limits = analysis.limits
    side = chart.latest_side
    return {
        "charted": True,
        "variation": str(analysis.variation),
        "variation_words": VARIATION_WORDS[analysis.variation],
        "variation_side": str(side) if side else None,
        "variation_text": variation_text(chart, defn),
        "assurance": str(analysis.assurance),
        "assurance_words": ASSURANCE_WORDS[analysis.assurance],
        "assurance_text": assurance_text(chart, defn, step),
        "tolerance_assurance": str(analysis.tolerance_assurance),
        "tolerance_words": TOLERANCE_WORDS[analysis.tolerance_assurance],
        "tolerance_text": tolerance_text(chart, defn, step),
        "limits": _capital(limits_words(defn, limits)) if limits else "",
        "provisional": analysis.provisional,
        "signals": signal_rows(chart, defn),
        "segments": segment_rows(chart, defn),
    }
