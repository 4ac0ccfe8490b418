"""The rating engine: the verdict a figure gets against the target in force (R1-R10).

Why a pure module: the verdict appears in the API (``status``), on the scorecard, in the
committee report, in exports and in the month-end run's record (R17). They must all give
the same answer for the same figure, and the rules must be testable without a database,
so the rules live here once, using only the standard library, and everything else calls
in. Values are ``Decimal`` throughout (never ``float``): the boundaries are inclusive
(R2), and a binary float would put 85 a hair either side of the tolerance floor.

Order of judgement in ``rate`` (first match wins):

1. the definition in force contradicts itself -> ``cannot_rate`` (R6, R9)
2. the figure contradicts itself (value vs numerator/denominator) -> ``cannot_rate`` (R6)
3. no value and no numerator with denominator -> ``no_data`` (R1)
4. no target in force, or no polarity (management information) -> ``not_rated`` (R1)
5. cumulative measure -> ``on_track`` / ``off_track`` by projection (R7)
6. otherwise ``on_target`` / ``within_tolerance`` / ``outside_tolerance`` (R3, R4, R5)

The value rated is the unrounded value (R2): computed from numerator and denominator when
both are given, otherwise the value as entered.

How a band measure is rated (polarity ``band``: a value inside a range is wanted). This
is the one documented place (domain.md asks for one):

* The target range is ``target_low``-``target_high``; a point ``target`` alone counts as
  the range [target, target], so only a value exactly at it is on target (R2) and
  otherwise the best verdict is within tolerance (R5).
* The tolerance band is ``tolerance_low``-``tolerance_high`` as written, or the target
  range widened on both sides by the relative tolerance (points, or percent of the target
  range's end). A missing end of the written band means no tolerance on that side (R3's
  "a blank tolerance means none"): that side's edge is the target range's edge.
* On target inside the target range, within tolerance inside the tolerance band,
  outside beyond it; all edges inclusive (R2).
* The target range is optional (R5): a band measure with a complete tolerance band and
  no target range is rated, and within tolerance is then its best verdict. A band measure
  with neither a target range nor a complete tolerance band has no target in force and
  is not rated.
* A cumulative band measure is a contradiction: R7 defines on track only for higher or
  lower is better.
* Direction of travel (R8): closer to the centre (the point target, else the middle of
  the target range, else the middle of the tolerance band) is improving.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from fractions import Fraction

__all__ = [
    "NARRATIVE_OWED",
    "POLARITIES",
    "TOLERANCE_UNITS",
    "UNITS",
    "Bounds",
    "Definition",
    "Direction",
    "Figure",
    "Status",
    "TargetSpec",
    "Verdict",
    "computed_value",
    "definition_problems",
    "direction",
    "display_value",
    "figure_problems",
    "format_value",
    "rate",
    "resolve_bounds",
    "sentence",
]

POLARITIES = ("up", "down", "band")
UNITS = ("percent", "rate", "count", "days", "fte", "other")
TOLERANCE_UNITS = ("points", "percent")

_HUNDRED = Decimal(100)
_TWO = Decimal(2)


class Status(StrEnum):
    """The verdict vocabulary, the same everywhere (R1)."""

    ON_TARGET = "on_target"
    WITHIN_TOLERANCE = "within_tolerance"
    OUTSIDE_TOLERANCE = "outside_tolerance"
    ON_TRACK = "on_track"
    OFF_TRACK = "off_track"
    NOT_RATED = "not_rated"
    NO_DATA = "no_data"
    CANNOT_RATE = "cannot_rate"


class Direction(StrEnum):
    """Direction of travel against an earlier figure (R8)."""

    IMPROVING = "improving"
    WORSENING = "worsening"
    UNCHANGED = "unchanged"
    NOT_COMPARABLE = "not_comparable"


# R9: the verdicts that owe an exception narrative. (no_data owes a reason instead, and
# cannot_rate blocks submission; both are handled by the return, not by a narrative.)
NARRATIVE_OWED: frozenset[Status] = frozenset(
    {Status.WITHIN_TOLERANCE, Status.OUTSIDE_TOLERANCE, Status.OFF_TRACK}
)

# The verdicts that say the figure missed (R2's extra decimal applies beside these).
_MISSED = NARRATIVE_OWED

# R10, word for word.
_SENTENCES: dict[Status, str] = {
    Status.ON_TARGET: "meeting target",
    Status.WITHIN_TOLERANCE: "not meeting target but within tolerance",
    Status.OUTSIDE_TOLERANCE: "not meeting target and outside tolerance",
    Status.ON_TRACK: "on track to meet the annual target",
    Status.OFF_TRACK: "not on track to meet the annual target",
    Status.NOT_RATED: "not rated: no target is set",
    Status.NO_DATA: "no figure for this period",
    Status.CANNOT_RATE: "cannot be rated: the definition contradicts itself",
}


@dataclass(frozen=True)
class Definition:
    """The measure, as far as rating needs it.

    ``polarity`` None means no polarity (management information, never rated). ``per`` is
    the population base of a ``rate`` (e.g. 10000 for "per 10,000"). ``decimals`` is the
    measure's rounding, used for display (R2), for "unchanged" (R8) and for the tolerance
    allowed between a value and its numerator/denominator (R6).
    """

    code: str
    polarity: str | None
    unit: str = "other"
    per: Decimal | None = None
    decimals: int = 1
    cumulative: bool = False


@dataclass(frozen=True)
class TargetSpec:
    """The target and tolerance in force for the period (R12), as written by the admin.

    Tolerance is either absolute (``tolerance_low``-``tolerance_high``, as written, e.g.
    85-100) or relative (``tolerance_relative`` in ``tolerance_unit`` "points" or
    "percent" of the target, R4), never both (R6). ``target_low``/``target_high`` are for
    band measures (R5). ``profiled_target`` is a cumulative measure's target profiled to
    this period, when one is given (R7).
    """

    target: Decimal | None = None
    target_low: Decimal | None = None
    target_high: Decimal | None = None
    tolerance_low: Decimal | None = None
    tolerance_high: Decimal | None = None
    tolerance_relative: Decimal | None = None
    tolerance_unit: str | None = None
    profiled_target: Decimal | None = None


@dataclass(frozen=True)
class Figure:
    """A figure as entered: a value and/or its numerator and denominator."""

    value: Decimal | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None


@dataclass(frozen=True)
class Bounds:
    """The effective bounds the API reports (R4).

    Resolved from what was written: only the worse side of a tolerance counts (R3), a
    relative tolerance becomes a number (R4), and the better side is open (None).
    """

    target: Decimal | None
    target_low: Decimal | None
    target_high: Decimal | None
    tolerance_low: Decimal | None
    tolerance_high: Decimal | None


@dataclass(frozen=True)
class Verdict:
    """The outcome of rating one figure.

    ``value`` is the unrounded value actually rated (R2): computed from numerator and
    denominator where both are given. ``reason`` is one sentence with the R10 words and
    the numbers, fit to show a reader. ``projected`` is set for cumulative measures (R7).
    """

    status: Status
    reason: str
    value: Decimal | None
    bounds: Bounds | None
    projected: Decimal | None = None

    @property
    def owes_narrative(self) -> bool:
        """Whether the provider owes an exception narrative for this verdict (R9)."""
        return self.status in NARRATIVE_OWED


# --- number formatting -----------------------------------------------------------------


def _plain(d: Decimal) -> str:
    """A number as written, without exponent or trailing zeros: 85, 92.8, 10,000.

    Used for targets and bounds in messages, which read as the admin wrote them.
    """
    n = d.normalize()
    if n == 0:
        n = abs(n)  # no "-0"
    return format(n, ",f")


def _quantize(value: Decimal, decimals: int) -> Decimal:
    """Round half up to ``decimals`` places (R2), with precision enough for any size."""
    with localcontext() as ctx:
        ctx.prec = max(ctx.prec, value.adjusted() + decimals + 3)
        q = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return abs(q) if q == 0 else q


def _bound_text(defn: Definition, d: Decimal) -> str:
    """A target or tolerance edge in a sentence: "95%" for a percentage, "79" otherwise."""
    return f"{_plain(d)}%" if defn.unit == "percent" else _plain(d)


def format_value(defn: Definition, value: Decimal | None, decimals: int | None = None) -> str:
    """A figure for display, rounded half up to the measure's decimals (R2).

    "92.1%" for a percentage, "91.2 per 10,000" for a rate, otherwise the number with
    thousands separators; "—" when there is no figure. ``decimals`` overrides the
    measure's rounding (``display_value`` uses it for R2's extra decimal).
    """
    if value is None:
        return "—"
    places = defn.decimals if decimals is None else decimals
    text = format(_quantize(Decimal(value), max(places, 0)), ",f")
    if defn.unit == "percent":
        return f"{text}%"
    if defn.unit == "rate" and defn.per is not None:
        return f"{text} per {_plain(defn.per)}"
    return text


def sentence(status: Status) -> str:
    """The polarity-neutral verdict words of R10, exactly."""
    return _SENTENCES[Status(status)]


# --- bounds and problems ---------------------------------------------------------------


def _relative_amount(base: Decimal, spec: TargetSpec) -> Decimal | None:
    """How far a relative tolerance reaches from ``base`` (R4): points, or percent of it."""
    if spec.tolerance_relative is None:
        return None
    if spec.tolerance_unit == "points":
        return spec.tolerance_relative
    if spec.tolerance_unit == "percent":
        return abs(base) * spec.tolerance_relative / _HUNDRED
    return None


def _target_range(spec: TargetSpec) -> tuple[Decimal | None, Decimal | None]:
    """A band's target range (R5): the written range, else the point target as [t, t]."""
    if spec.target_low is not None and spec.target_high is not None:
        return spec.target_low, spec.target_high
    return spec.target, spec.target


def resolve_bounds(defn: Definition, spec: TargetSpec) -> Bounds:
    """The effective bounds of a target spec, as the API reports them (R3, R4, R5).

    Up: the tolerance floor is ``tolerance_low`` as written, or the target less the
    relative tolerance; the ceiling is open. Down: mirrored. Only the worse side of a
    written band counts (R3): "target 95, tolerance 85-100" reports floor 85 and no
    ceiling. Band: the tolerance band as written, or the target range widened by the
    relative tolerance on both sides (R5). No polarity: the absolute values as written.
    """
    if defn.polarity == "up":
        floor = spec.tolerance_low
        if spec.tolerance_relative is not None and spec.target is not None:
            amount = _relative_amount(spec.target, spec)
            floor = None if amount is None else spec.target - amount
        return Bounds(spec.target, None, None, floor, None)
    if defn.polarity == "down":
        ceiling = spec.tolerance_high
        if spec.tolerance_relative is not None and spec.target is not None:
            amount = _relative_amount(spec.target, spec)
            ceiling = None if amount is None else spec.target + amount
        return Bounds(spec.target, None, None, None, ceiling)
    if defn.polarity == "band":
        low, high = spec.tolerance_low, spec.tolerance_high
        if spec.tolerance_relative is not None:
            range_low, range_high = _target_range(spec)
            low = high = None
            if range_low is not None and range_high is not None:
                below = _relative_amount(range_low, spec)
                above = _relative_amount(range_high, spec)
                if below is not None and above is not None:
                    low, high = range_low - below, range_high + above
        return Bounds(spec.target, spec.target_low, spec.target_high, low, high)
    return Bounds(
        spec.target, spec.target_low, spec.target_high, spec.tolerance_low, spec.tolerance_high
    )


def definition_problems(defn: Definition, spec: TargetSpec) -> list[str]:
    """Every way the measure and target in force contradict themselves (R6), in words.

    Why: such a definition must never be rated silently (R6 -> cannot_rate, R9 blocks
    submission), and the admin form refuses to save it; each message names the measure
    and the numbers, e.g. "KPI 2: the tolerance floor 85 is above the target 70, but
    higher is better (R6)". An empty list means the definition can be rated.
    """
    code = defn.code
    problems: list[str] = []
    # The measure itself: rating cannot interpret an unknown polarity or unit.
    if defn.polarity is not None and defn.polarity not in POLARITIES:
        problems.append(f"{code}: the polarity {defn.polarity!r} is not one of up, down, band")
    if defn.unit not in UNITS:
        problems.append(f"{code}: the unit {defn.unit!r} is not one of {', '.join(UNITS)}")
    if defn.unit == "rate" and (defn.per is None or defn.per <= 0):
        problems.append(f"{code}: a rate needs a positive population base (per), e.g. 10,000")
    if defn.decimals < 0:
        problems.append(f"{code}: the number of decimals {defn.decimals} is negative")
    if defn.cumulative and defn.polarity == "band":
        problems.append(
            f"{code}: a cumulative measure is judged by projection to an annual target, "
            "which needs higher or lower is better, not a band (R7)"
        )

    # R4: the tolerance is either absolute or relative, and a relative one has a unit.
    absolute = spec.tolerance_low is not None or spec.tolerance_high is not None
    if spec.tolerance_relative is not None:
        if absolute:
            problems.append(
                f"{code}: both a tolerance band ({_band_words(spec)}) and a relative "
                f"tolerance ({_plain(spec.tolerance_relative)}) are given; choose one (R4)"
            )
        if spec.tolerance_unit not in TOLERANCE_UNITS:
            problems.append(
                f"{code}: the relative tolerance {_plain(spec.tolerance_relative)} needs its "
                f"unit, points or percent of the target, not {spec.tolerance_unit!r} (R4)"
            )
        if spec.tolerance_relative < 0:
            problems.append(
                f"{code}: the relative tolerance {_plain(spec.tolerance_relative)} is negative; "
                "it always lies on the worse side of the target (R4)"
            )
    if (
        spec.tolerance_low is not None
        and spec.tolerance_high is not None
        and spec.tolerance_low > spec.tolerance_high
    ):
        problems.append(
            f"{code}: the tolerance band is written from {_plain(spec.tolerance_low)} to "
            f"{_plain(spec.tolerance_high)}, which runs backwards (R6)"
        )

    # R6: tolerance on the better side of the target.
    if defn.polarity == "up" and spec.target is not None and spec.tolerance_low is not None:
        if spec.tolerance_low > spec.target:
            problems.append(
                f"{code}: the tolerance floor {_plain(spec.tolerance_low)} is above the target "
                f"{_plain(spec.target)}, but higher is better (R6)"
            )
    if defn.polarity == "down" and spec.target is not None and spec.tolerance_high is not None:
        if spec.tolerance_high < spec.target:
            problems.append(
                f"{code}: the tolerance ceiling {_plain(spec.tolerance_high)} is below the "
                f"target {_plain(spec.target)}, but lower is better (R6)"
            )

    # R5/R6: a band's target range must be a range, and inside its tolerance band.
    if defn.polarity == "band":
        problems.extend(_band_problems(code, spec))

    # R6: a percentage target or band outside 0-100.
    if defn.unit == "percent":
        for name, written in (
            ("target", spec.target),
            ("target range from", spec.target_low),
            ("target range to", spec.target_high),
            ("tolerance from", spec.tolerance_low),
            ("tolerance to", spec.tolerance_high),
            ("profiled target", spec.profiled_target),
        ):
            if written is not None and not 0 <= written <= _HUNDRED:
                problems.append(
                    f"{code}: the {name} {_plain(written)}% is outside 0 to 100, but the measure "
                    "is a percentage (R6)"
                )
    return problems


def _band_words(spec: TargetSpec) -> str:
    low = "…" if spec.tolerance_low is None else _plain(spec.tolerance_low)
    high = "…" if spec.tolerance_high is None else _plain(spec.tolerance_high)
    return f"{low} to {high}"


def _band_problems(code: str, spec: TargetSpec) -> list[str]:
    """R5/R6 for band measures: a real target range, inside the tolerance band."""
    problems: list[str] = []
    low, high = spec.target_low, spec.target_high
    if (low is None) != (high is None):
        given = low if low is not None else high
        assert given is not None
        problems.append(
            f"{code}: the target range has only one end ({_plain(given)}); a band needs both "
            "ends, or a point target (R5)"
        )
    if low is not None and high is not None:
        if low > high:
            problems.append(
                f"{code}: the target range runs backwards, from {_plain(low)} to "
                f"{_plain(high)} (R6)"
            )
        elif spec.target is not None and not low <= spec.target <= high:
            problems.append(
                f"{code}: the target {_plain(spec.target)} is outside its own target range "
                f"{_plain(low)} to {_plain(high)} (R6)"
            )
    range_low, range_high = _target_range(spec)
    if range_low is None or range_high is None:
        return problems
    what = (
        f"the target {_plain(range_low)}"
        if range_low == range_high and (low is None or high is None)
        else f"the target range {_plain(range_low)} to {_plain(range_high)}"
    )
    if spec.tolerance_low is not None and min(range_low, range_high) < spec.tolerance_low:
        problems.append(
            f"{code}: {what} is outside the tolerance band {_band_words(spec)}: it goes below "
            f"{_plain(spec.tolerance_low)} (R6)"
        )
    if spec.tolerance_high is not None and max(range_low, range_high) > spec.tolerance_high:
        problems.append(
            f"{code}: {what} is outside the tolerance band {_band_words(spec)}: it goes above "
            f"{_plain(spec.tolerance_high)} (R6)"
        )
    return problems


def computed_value(defn: Definition, figure: Figure) -> Decimal | None:
    """The value a numerator and denominator make, unrounded (R2).

    Percent: 100 x n / d; rate: n / d x per; any other unit: n / d. None unless both are
    given (and the denominator is not zero, which ``figure_problems`` reports).
    """
    n, d = figure.numerator, figure.denominator
    if n is None or d is None or d == 0:
        return None
    if defn.unit == "percent":
        return n * _HUNDRED / d
    if defn.unit == "rate" and defn.per is not None:
        return n * defn.per / d
    return n / d


def _half_unit(defn: Definition) -> Decimal:
    """Half a unit of the measure's last decimal place: the rounding R6 allows."""
    return Decimal(5).scaleb(-(max(defn.decimals, 0) + 1))


def figure_problems(defn: Definition, figure: Figure) -> list[str]:
    """Every way a figure contradicts itself (R6), in words naming measure and numbers.

    Why: a value that disagrees with its own numerator and denominator is a data error;
    rating either number would hide it, so the figure cannot be rated until it is
    corrected. The value may differ from the computed one by the measure's rounding
    (half a unit of its last decimal place) and no more.
    """
    code = defn.code
    problems: list[str] = []
    n, d = figure.numerator, figure.denominator
    if d is not None:
        if d == 0:
            problems.append(f"{code}: the denominator is zero (R6)")
        elif d < 0:
            problems.append(f"{code}: the denominator {_plain(d)} is negative (R6)")
    if defn.unit == "percent" and n is not None and d is not None and d > 0:
        if n > d:
            problems.append(
                f"{code}: the numerator {_plain(n)} is larger than the denominator {_plain(d)}, "
                "but the measure is a percentage (R6)"
            )
        elif n < 0:
            problems.append(f"{code}: the numerator {_plain(n)} is negative (R6)")
    computed = computed_value(defn, figure)
    if computed is not None and figure.value is not None:
        if abs(figure.value - computed) > _half_unit(defn):
            shown = format_value(defn, computed, max(defn.decimals, 0) + 2)
            problems.append(
                f"{code}: the value {_plain(figure.value)} disagrees with its numerator and "
                f"denominator ({_plain(n)} / {_plain(d)} gives {shown}) by more than the "
                "measure's rounding (R6)"
            )
    return problems


# --- rating ----------------------------------------------------------------------------


def _value_of(defn: Definition, figure: Figure | None) -> Decimal | None:
    """The unrounded value to rate (R2): computed from n/d where both given, else the value."""
    if figure is None:
        return None
    computed = computed_value(defn, figure)
    return computed if computed is not None else figure.value


def _has_target(defn: Definition, spec: TargetSpec | None) -> bool:
    """Whether a target is in force for the polarity (R1's not_rated otherwise)."""
    if spec is None or defn.polarity is None:
        return False
    if defn.polarity in ("up", "down"):
        return spec.target is not None
    low, high = _target_range(spec)
    if low is not None and high is not None:
        return True
    bounds = resolve_bounds(defn, spec)
    return bounds.tolerance_low is not None and bounds.tolerance_high is not None


def _band_status(value: Decimal, spec: TargetSpec, bounds: Bounds) -> Status:
    """R5, as described in the module docstring."""
    range_low, range_high = _target_range(spec)
    if range_low is not None and range_high is not None and range_low <= value <= range_high:
        return Status.ON_TARGET
    # A missing end of the tolerance band is no tolerance on that side (R3): the edge is
    # the target range's edge there.
    low = bounds.tolerance_low if bounds.tolerance_low is not None else range_low
    high = bounds.tolerance_high if bounds.tolerance_high is not None else range_high
    if low is not None and high is not None and low <= value <= high:
        return Status.WITHIN_TOLERANCE
    return Status.OUTSIDE_TOLERANCE


def _status(defn: Definition, value: Decimal, spec: TargetSpec, bounds: Bounds) -> Status:
    """R3 (with R4's resolved bounds) and R5; every boundary inclusive (R2)."""
    if defn.polarity == "band":
        return _band_status(value, spec, bounds)
    target = bounds.target
    assert target is not None  # _has_target checked it
    if defn.polarity == "up":
        if value >= target:
            return Status.ON_TARGET
        if bounds.tolerance_low is not None and bounds.tolerance_low <= value:
            return Status.WITHIN_TOLERANCE
        return Status.OUTSIDE_TOLERANCE
    if value <= target:
        return Status.ON_TARGET
    if bounds.tolerance_high is not None and value <= bounds.tolerance_high:
        return Status.WITHIN_TOLERANCE
    return Status.OUTSIDE_TOLERANCE


def target_words(defn: Definition, spec: TargetSpec | None) -> str:
    """The target and tolerance in force, in words: "95%, tolerance from 85%" (R3-R5).

    From the resolved bounds, so a relative tolerance reads as the number it comes to
    (R4) and only the worse side of a written band shows (R3). Pages, reports and the
    reason sentences all word targets through this one function.
    """
    if spec is None or defn.polarity is None:
        return "No target"
    bounds = resolve_bounds(defn, spec)

    def b(d: Decimal) -> str:
        return _bound_text(defn, d)

    if defn.polarity == "band":
        range_low, range_high = _target_range(spec)
        if range_low is None or range_high is None:
            target = "No target range"
        elif range_low == range_high:
            target = b(range_low)
        else:
            target = f"{b(range_low)} to {b(range_high)}"
        low, high = bounds.tolerance_low, bounds.tolerance_high
        if low is not None and high is not None:
            tolerance = f"tolerance {b(low)} to {b(high)}"
        elif low is not None:
            tolerance = f"tolerance from {b(low)}"
        elif high is not None:
            tolerance = f"tolerance up to {b(high)}"
        else:
            tolerance = "no tolerance"
        return f"{target}, {tolerance}"
    if bounds.target is None:
        return "No target"
    target = b(bounds.target)
    if defn.cumulative:
        target = f"{target} by the year end"
    # A tolerance edge at the target is no tolerance at all (R3: "target 3.9, tolerance
    # 0-3.9" for lower is better).
    if defn.polarity == "up" and bounds.tolerance_low not in (None, bounds.target):
        assert bounds.tolerance_low is not None
        return f"{target}, tolerance from {b(bounds.tolerance_low)}"
    if defn.polarity == "down" and bounds.tolerance_high not in (None, bounds.target):
        assert bounds.tolerance_high is not None
        return f"{target}, tolerance up to {b(bounds.tolerance_high)}"
    return f"{target}, no tolerance"


def _bounds_words(defn: Definition, spec: TargetSpec) -> str:
    """``target_words`` inside a reason sentence: "target 95%, tolerance from 85%"."""
    words = target_words(defn, spec)
    return words[0].lower() + words[1:] if words.startswith("No target") else f"target {words}"


def _project(value: Decimal, year_share: Decimal) -> Decimal:
    """R7's projection, value / share, exact when the share is a simple fraction.

    ``months_elapsed_share`` gives e.g. Decimal(1) / Decimal(12), which is not exactly
    1/12; dividing by it would give 431.99...  instead of 432 and could tip a projection
    that exactly reaches its target to off track. So a share that is, to the context's
    precision, a fraction with a small denominator is divided as that fraction.
    """
    fraction = Fraction(year_share).limit_denominator(1000)
    if Decimal(fraction.numerator) / Decimal(fraction.denominator) == year_share:
        return value * fraction.denominator / fraction.numerator
    return value / year_share


def _rate_cumulative(
    defn: Definition, spec: TargetSpec, value: Decimal, bounds: Bounds, year_share: Decimal
) -> tuple[Status, Decimal, str]:
    """R7: on track when the figure to date, projected to the year end (or compared with
    the profiled target for the period, where given), reaches the annual target."""
    target = spec.target
    assert target is not None
    projected = _project(value, year_share)
    if spec.profiled_target is not None:
        compared, goal = value, spec.profiled_target
    else:
        compared, goal = projected, target
    reached = compared >= goal if defn.polarity == "up" else compared <= goal
    status = Status.ON_TRACK if reached else Status.OFF_TRACK
    shown = format_value(defn, value)
    annual = _bound_text(defn, target)
    if spec.profiled_target is not None:
        reason = (
            f"{shown} to date against a profiled target of "
            f"{_bound_text(defn, spec.profiled_target)} for this period (projecting to "
            f"{format_value(defn, projected)} by the year end): {sentence(status)} of {annual}."
        )
    else:
        reason = (
            f"{shown} to date projects to {format_value(defn, projected)} by the year end: "
            f"{sentence(status)} of {annual}."
        )
    return status, projected, reason


def _cannot(what: str, problems: list[str]) -> str:
    return f"Cannot be rated: the {what} contradicts itself: {'; '.join(problems)}."


def rate(
    defn: Definition,
    spec: TargetSpec | None,
    figure: Figure | None,
    *,
    year_share: Decimal | None = None,
) -> Verdict:
    """Rate one figure against the target in force for its period (R1-R7, R10).

    ``spec`` is the target in force for the period the figure covers (R12), None when
    there is none; ``year_share`` is ``periods.months_elapsed_share`` of the figure's
    period, needed only for cumulative measures (R7; None or 0 counts as the whole year).
    The order of judgement is in the module docstring.
    """
    bounds = resolve_bounds(defn, spec) if spec is not None else None
    value = _value_of(defn, figure)
    problems = definition_problems(defn, spec if spec is not None else TargetSpec())
    if problems:  # R6: never rate a self-contradictory definition silently
        return Verdict(Status.CANNOT_RATE, _cannot("definition", problems), value, bounds)
    problems = figure_problems(defn, figure) if figure is not None else []
    if problems:  # R6: nor a figure that disagrees with itself
        return Verdict(Status.CANNOT_RATE, _cannot("figure", problems), value, bounds)
    if value is None:  # R1
        return Verdict(Status.NO_DATA, "No figure for this period.", None, bounds)
    if spec is None or bounds is None or not _has_target(defn, spec):  # R1
        return Verdict(Status.NOT_RATED, "Not rated: no target is set.", value, bounds)

    if defn.cumulative:  # R7
        share = Decimal(1) if year_share is None or year_share == 0 else year_share
        if not 0 < share <= 1:
            raise ValueError(f"{defn.code}: the share of the year elapsed {share} is not in (0, 1]")
        status, projected, reason = _rate_cumulative(defn, spec, value, bounds, share)
        return Verdict(status, reason, value, bounds, projected)

    status = _status(defn, value, spec, bounds)  # R3, R4, R5
    verdict = Verdict(status, "", value, bounds)
    reason = (
        f"{display_value(defn, verdict)} is {sentence(status)} "
        f"({_bounds_words(defn, spec)})."
    )
    return replace(verdict, reason=reason)


def display_value(defn: Definition, verdict: Verdict) -> str:
    """The rated value as shown beside its verdict (R2).

    Rounded to the measure's decimals, except that where the rounded figure would equal
    the target (or an end of the target range) beside a verdict that says it missed, one
    more decimal is shown: 94.96% is within tolerance of a 95% target and must not read
    "95.0%".
    """
    value = verdict.value
    if value is None:
        return format_value(defn, None)
    places = max(defn.decimals, 0)
    if verdict.status in _MISSED and verdict.bounds is not None:
        rounded = _quantize(value, places)
        b = verdict.bounds
        if any(t is not None and rounded == t for t in (b.target, b.target_low, b.target_high)):
            return format_value(defn, value, places + 1)
    return format_value(defn, value, places)


def _centre(defn: Definition, spec: TargetSpec | None) -> Decimal | None:
    """A band's centre for direction of travel (R8): point target, range middle, band middle."""
    if spec is None:
        return None
    if spec.target is not None:
        return spec.target
    if spec.target_low is not None and spec.target_high is not None:
        return (spec.target_low + spec.target_high) / _TWO
    bounds = resolve_bounds(defn, spec)
    if bounds.tolerance_low is not None and bounds.tolerance_high is not None:
        return (bounds.tolerance_low + bounds.tolerance_high) / _TWO
    return None


def direction(
    defn: Definition,
    spec: TargetSpec | None,
    current: Decimal | None,
    earlier: Decimal | None,
    *,
    comparable: bool = True,
) -> Direction:
    """Direction of travel from an earlier figure to the current one (R8).

    ``comparable`` is False across a series break. Values equal at the measure's decimals
    are unchanged, so noise below the published rounding never reads as a trend. A band
    measure improves by moving closer to its centre (the point target, else the middle of
    the target range, else of the tolerance band); equally far on either side is
    unchanged. With no polarity there is no better or worse: equal is unchanged, anything
    else not comparable.
    """
    if current is None or earlier is None or not comparable:
        return Direction.NOT_COMPARABLE
    places = max(defn.decimals, 0)
    now, then = _quantize(current, places), _quantize(earlier, places)
    if now == then:
        return Direction.UNCHANGED
    if defn.polarity == "up":
        return Direction.IMPROVING if now > then else Direction.WORSENING
    if defn.polarity == "down":
        return Direction.IMPROVING if now < then else Direction.WORSENING
    if defn.polarity == "band":
        centre = _centre(defn, spec)
        if centre is None:
            return Direction.NOT_COMPARABLE
        gap_now, gap_then = abs(now - centre), abs(then - centre)
        if gap_now == gap_then:
            return Direction.UNCHANGED
        return Direction.IMPROVING if gap_now < gap_then else Direction.WORSENING
    return Direction.NOT_COMPARABLE
