"""Statistical process control: NHS England's "Making Data Count" beside the verdicts.

Why: a verdict (``rating.rate``) says whether this month met its target. It cannot say
whether performance has really changed or whether the target will be met reliably. Making
Data Count (MDC) answers both with an XmR (individuals) chart, and this module computes
one for a measure's series: pure, standard library only, ``Decimal`` in and out, like
``rating``, so the measure page, the dashboard icons, the committee report, the drafted
commentary and the API all give the same answer. The contract-level configuration, the
pages and the API come later and call in here.

Sources. MDC is NHS England's programme ("Making Data Count: getting started", "Making
Data Count: strengthening your decisions"; its Excel "plot the dots" tools). The open
NHS-R Community package NHSRplotthedots (MIT; https://github.com/nhs-r-community/
NHSRplotthedots) states that it mimics the MDC Excel tools and documents where it
deviates (vignette "Deviations from Excel defaults"); every number below was checked
against its source code and tests:

* ``R/ptd_spc_standard.R``: ``limit <- 2.66``, ``limitclose <- 2 * (limit / 3)``, the
  mean and mean moving range per rebase group, optional outlier screening at 3.267.
* ``R/ptd_calculate_point_type.R`` and ``tests/testthat/test-ptd_calculate_point_type.R``:
  the shift (``ptd_seven_point_one_side_mean``), the trend (``ptd_seven_point_trend``),
  two-in-three (``ptd_two_in_three``) rules.
* ``R/ptd_calculate_assurance_type.R``: assurance from the limits and the target.
* ``R/ptd_add_short_group_warnings.R`` (``warning_threshold = 12``) and the vignette
  "Number of points required" (trial limits below 12 points, 20-30 recommended by The
  Health Care Data Guide p155).

The chart, per segment (see "Segments" below):

* mean x̄ of the values; moving ranges |xᵢ − xᵢ₋₁| between neighbouring values; their
  mean MR̄;
* process limits x̄ ± 2.66 × MR̄ (2.66 = 3 / d₂, d₂ = 1.128 for ranges of two, so the
  limits sit at three estimated sigma);
* the "two sigma" lines x̄ ± (2/3) × 2.66 × MR̄, which bound the outer third between the
  mean and each limit.

Arithmetic is exact (``fractions.Fraction`` inside, ``Decimal`` at the edges, as rating
does for R7's projection): a point exactly on a limit or on the mean is classed by the
rule, never by a rounding error, and shifting or scaling a series moves the chart exactly.

Defaults (``SPCConfig``) and where they come from:

* ``shift_points = 7``: seven or more consecutive points on the same side of the mean.
  MDC's shift rule as NHSRplotthedots implements it, ``ptd_seven_point_one_side_mean``
  (its tests: six equal signs give nothing, seven flag). A point exactly on the mean has no side and
  breaks the run (NHSRplotthedots: ``sign(y - mean)`` of 0 never matches).
* ``trend_points = 7``: seven or more consecutive points each higher (or each lower)
  than the one before, that is six consecutive increases (decreases). MDC's trend rule
  as NHSRplotthedots implements it, ``ptd_seven_point_trend`` (its tests: ``1:7`` flags,
  ``1:6`` does not, ``c(1:3, 3:6)`` does not: an equal neighbour breaks a trend). Nelson's
  "six points in a row increasing" counts five increases; MDC's trend is one longer.
* ``minimum_points = 12``: fewer values in a segment give ``insufficient_data`` rather
  than a signal. NHSRplotthedots warns on groups of fewer than 12
  (``ptd_add_short_group_warnings``) and will not fix limits on fewer than 12.
* ``baseline_points = 20``: from 12 up to 19 values the limits are provisional ("trial
  limits", recomputed as each value arrives); at 20 they are locked on the segment's
  first 20 values (The Health Care Data Guide p155, quoted by that vignette: "the most
  recent 20 to 30 measurements"). Locking is what the issue asks for ("limits are
  recalculated only at a series break or a rebase"), and what the vignette describes
  ("we 'lock' the initial period"): a slow decline can never drag the centre line down
  with it. ``lock_limits=False`` recomputes from every value instead (NHSRplotthedots'
  default, without ``fix_after_n_points``).
* ``screen_outliers = False``: every moving range counts, as in the MDC Excel tools.
  NHSRplotthedots screens by default (``screen_outliers = TRUE``: moving ranges at or
  above 3.267 × MR̄ are dropped and MR̄ recomputed once; Nelson 1982, The Health Care
  Data Guide pp155, 192) and documents this as its first deviation from the Excel tools;
  ``screen_outliers=True`` reproduces it.

The four special-cause rules, each point judged against the limits in force for it:

* ``beyond_limit``: a value strictly above the upper or below the lower process limit
  (NHSRplotthedots ``y > upl | y < lpl``; a value exactly on a limit is inside).
* ``shift``: a run of ``shift_points`` or more values strictly on one side of the mean.
* ``trend``: ``trend_points`` or more values each strictly above (below) the previous.
* ``two_of_three``: two or three of three consecutive values strictly beyond the same
  two-sigma line (in the outer third, or beyond the limit). The signal covers the values
  beyond the line, not the third. This is the Western Electric rule (two of three
  successive points in zone A or beyond, on one side), which MDC states as two of three
  consecutive points close to a process limit; NHSRplotthedots additionally requires
  the third value to be on the same side of the mean and does not count values beyond
  the limit (they signal by themselves). Both agree that two values beyond opposite
  two-sigma lines are no signal (its test "it only reports special cause for 2 of 3
  points close to limits when they are on the same side of the mean").

Gaps. A missing value (None) is not a point: no moving range is computed across it (a
range over two periods is not a period-to-period range and would widen the limits), and
it counts toward no minimum. The run rules read the values present, in order, so a
missing month neither breaks nor extends a run: a provider cannot interrupt a worsening
run by leaving a month out.

Segments. ``breaks`` start new segments: a series break (the measure's definition
changed, so earlier values are not comparable) or a rebase (a person records, with a
reason, that the process has changed). Each segment has its own moving ranges, mean and
limits; no moving range or run crosses into a segment judged by different limits. The
earlier segments and their limits and signals stay in the analysis, so a chart keeps
them visible. A rebase can never silently hide a worsening run:

* until the rebased segment has ``minimum_points`` values of its own, its points are
  still judged against the limits in force before it (the run continues across the
  rebase), so recording a rebase in the middle of a run cannot turn a signal into
  "insufficient data";
* once its own limits take effect, the segment says how its centre line compares with
  the one it replaced (``versus_previous``: improving, worsening, unchanged), so a rebase
  that moved the mean the wrong way is stated in words, not left to be spotted on a chart.

A series break has no such carry-over: values before and after are not comparable, so a
short segment after it is honestly ``insufficient_data``.

Verdicts. As MDC's icons do, the variation verdict is about the most recent value: the
kind of special cause it is part of, else common cause. By polarity: higher is better, a
signal on the high side or an upward trend is improving and one on the low side or a
downward trend concerning; lower is better mirrored; band measures and measures without
a polarity give ``special_cause_neither``. Where the latest value is part of signals that
disagree (a falling trend still above the mean), concern wins: the monitor's job is to
catch deterioration early. The assurance verdicts compare the limits in force at the
latest value with the target and the tolerance (see ``target_assurance`` and
``tolerance_assurance``). Too few values for limits: ``insufficient_data`` and
``not_applicable``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from enum import StrEnum
from fractions import Fraction

from kpis.rating import (
    Definition,
    Direction,
    TargetSpec,
    definition_problems,
    direction,
    resolve_bounds,
)

__all__ = [
    "LIMIT_FACTOR",
    "SCREEN_FACTOR",
    "Analysis",
    "Assurance",
    "Break",
    "BreakKind",
    "Limits",
    "Rule",
    "SPCConfig",
    "Segment",
    "Side",
    "Signal",
    "ToleranceAssurance",
    "Variation",
    "analyse",
    "target_assurance",
    "tolerance_assurance",
]

# 3 / d2 with d2 = 1.128 for moving ranges of two values, rounded as MDC and
# NHSRplotthedots (``limit <- 2.66``) both use it.
LIMIT_FACTOR = Decimal("2.66")
# D4 for ranges of two: NHSRplotthedots' outlier screen (``mr < 3.267 * amr``).
SCREEN_FACTOR = Decimal("3.267")

_K = Fraction(LIMIT_FACTOR)
_SCREEN = Fraction(SCREEN_FACTOR)
_TWO_THIRDS = Fraction(2, 3)


class Variation(StrEnum):
    """The variation verdict (interfaces.md: SPC variation)."""

    COMMON_CAUSE = "common_cause"
    SPECIAL_CAUSE_IMPROVING = "special_cause_improving"
    SPECIAL_CAUSE_CONCERNING = "special_cause_concerning"
    SPECIAL_CAUSE_NEITHER = "special_cause_neither"
    INSUFFICIENT_DATA = "insufficient_data"


class Assurance(StrEnum):
    """The assurance verdict against the target (interfaces.md: assurance)."""

    CONSISTENTLY_PASSING = "consistently_passing"
    CONSISTENTLY_FAILING = "consistently_failing"
    HIT_AND_MISS = "hit_and_miss"
    NOT_APPLICABLE = "not_applicable"


class ToleranceAssurance(StrEnum):
    """The assurance verdict against the tolerance band (interfaces.md: tolerance_assurance)."""

    CONSISTENTLY_WITHIN = "consistently_within"
    CONSISTENTLY_OUTSIDE = "consistently_outside"
    HIT_AND_MISS = "hit_and_miss"
    NOT_APPLICABLE = "not_applicable"


class Rule(StrEnum):
    """The special-cause rules (module docstring)."""

    BEYOND_LIMIT = "beyond_limit"
    SHIFT = "shift"
    TREND = "trend"
    TWO_OF_THREE = "two_of_three"


class Side(StrEnum):
    """Where a signal lies: above or below the mean (``high``/``low``), or which way a
    trend runs (``up``/``down``)."""

    HIGH = "high"
    LOW = "low"
    UP = "up"
    DOWN = "down"


_UPWARD = frozenset({Side.HIGH, Side.UP})


class BreakKind(StrEnum):
    """Why a segment starts: the series' start, a series break, or a recorded rebase."""

    START = "start"
    SERIES_BREAK = "series_break"
    REBASE = "rebase"


@dataclass(frozen=True)
class SPCConfig:
    """Run lengths and point counts; the defaults and their sources are in the module
    docstring. Configurable per contract (a later step stores them)."""

    shift_points: int = 7
    trend_points: int = 7
    minimum_points: int = 12
    baseline_points: int = 20
    lock_limits: bool = True
    screen_outliers: bool = False

    def __post_init__(self) -> None:
        if self.shift_points < 2:
            raise ValueError(f"a shift needs at least 2 points, not {self.shift_points}")
        if self.trend_points < 3:
            raise ValueError(f"a trend needs at least 3 points, not {self.trend_points}")
        if self.minimum_points < 2:
            raise ValueError(
                f"limits need at least 2 values (one moving range), not {self.minimum_points}"
            )
        if self.baseline_points < self.minimum_points:
            raise ValueError(
                f"the baseline ({self.baseline_points} points) is shorter than the minimum "
                f"({self.minimum_points} points)"
            )


@dataclass(frozen=True)
class Break:
    """A recorded change at ``index`` (the first value of the new segment), with its reason
    as it should read on the chart, e.g. "series break from 2017/18 Q3: definition
    changed" or "rebase: new triage model from April 2019"."""

    index: int
    kind: BreakKind
    reason: str

    def __post_init__(self) -> None:
        if self.kind == BreakKind.START:
            raise ValueError("a break is a series break or a rebase, not the start")


@dataclass(frozen=True)
class Limits:
    """One XmR chart's centre line and limits, with what they were computed from.

    ``points`` values and ``moving_ranges`` moving ranges went into them (``screened``
    more were left out as outliers, when screening is on). ``provisional`` when fewer
    than the baseline's values were available: trial limits that move as values arrive.
    """

    mean: Decimal
    mean_moving_range: Decimal
    upper: Decimal
    lower: Decimal
    upper_two_sigma: Decimal
    lower_two_sigma: Decimal
    points: int
    moving_ranges: int
    screened: int
    provisional: bool


@dataclass(frozen=True)
class Segment:
    """A stretch of the series between breaks, ``start`` to ``end`` inclusive.

    ``limits`` are its own, None while it has fewer than the minimum values.
    ``judged_by`` is the index (in ``Analysis.segments``) of the segment whose limits its
    points are judged against: itself once its own limits exist; the segment before for a
    rebase still short of the minimum; None when no limits apply (insufficient data).
    ``versus_previous`` compares, for a rebase whose limits are in effect, its mean with
    the mean it replaced (rating.Direction by the measure's polarity, at its decimals);
    ``not_comparable`` across a series break or while the rebase awaits its limits; None
    for the first segment.
    """

    start: int
    end: int
    kind: BreakKind
    reason: str
    points: int
    limits: Limits | None
    judged_by: int | None
    versus_previous: Direction | None


@dataclass(frozen=True)
class Signal:
    """One special cause: the rule, the indices of the values it covers (in order), which
    side (``high``/``low``; ``up``/``down`` for a trend), what it means for the measure,
    and the segment whose limits judged it."""

    rule: Rule
    indices: tuple[int, ...]
    side: Side
    variation: Variation
    segment: int


@dataclass(frozen=True)
class Analysis:
    """The XmR chart of a series and its verdicts.

    ``point_variation`` gives each value's own reading (None for a gap), for marking
    points on a chart; ``variation`` is the reading of the latest value (``latest``, the
    index of the last value present). ``assurance`` and ``tolerance_assurance`` come from
    the limits in force at the latest value.
    """

    values: tuple[Decimal | None, ...]
    segments: tuple[Segment, ...]
    signals: tuple[Signal, ...]
    point_variation: tuple[Variation | None, ...]
    variation: Variation
    assurance: Assurance
    tolerance_assurance: ToleranceAssurance
    latest: int | None
    config: SPCConfig = field(default_factory=SPCConfig)

    def segment_at(self, index: int) -> Segment:
        """The segment the value at ``index`` belongs to."""
        if not 0 <= index < len(self.values):
            raise IndexError(index)
        for segment in self.segments:
            if segment.start <= index <= segment.end:
                return segment
        raise AssertionError("segments cover the series")  # pragma: no cover

    def limits_at(self, index: int) -> Limits | None:
        """The limits the value at ``index`` is judged against (None: insufficient data)."""
        judge = self.segment_at(index).judged_by
        return None if judge is None else self.segments[judge].limits

    def signals_at(self, index: int) -> tuple[Signal, ...]:
        """The signals covering the value at ``index``."""
        return tuple(s for s in self.signals if index in s.indices)

    @property
    def limits(self) -> Limits | None:
        """The limits in force at the latest value: the ones the verdicts come from."""
        return None if self.latest is None else self.limits_at(self.latest)

    @property
    def provisional(self) -> bool:
        """Whether the limits behind the verdicts are still trial limits."""
        limits = self.limits
        return limits is not None and limits.provisional


# --- arithmetic ------------------------------------------------------------------------


def _decimal(x: Fraction) -> Decimal:
    """An exact fraction as a Decimal, at 28 significant digits whatever the caller's context."""
    with localcontext() as ctx:
        ctx.prec = 28
        return Decimal(x.numerator) / Decimal(x.denominator)


def _fraction(value: Decimal | int, index: int) -> Fraction:
    if isinstance(value, float) or not isinstance(value, Decimal | int):
        raise TypeError(f"value {index} is {value!r}: pass Decimal (never float), or None")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"value {index} is {value}, not a number")
    return Fraction(value)


@dataclass(frozen=True)
class _Exact:
    """Exact centre and limits, for classifying points without rounding."""

    mean: Fraction
    mr: Fraction

    @property
    def upper(self) -> Fraction:
        return self.mean + _K * self.mr

    @property
    def lower(self) -> Fraction:
        return self.mean - _K * self.mr

    @property
    def two_sigma(self) -> Fraction:
        return _TWO_THIRDS * _K * self.mr


def _compute_limits(
    xs: dict[int, Fraction], idxs: list[int], config: SPCConfig
) -> tuple[Limits, _Exact] | None:
    """A segment's own limits from its values at ``idxs`` (present, in order), or None."""
    if len(idxs) < config.minimum_points:
        return None
    full = len(idxs) >= config.baseline_points
    basis = idxs[: config.baseline_points] if full and config.lock_limits else idxs
    in_basis = set(basis)
    mean = sum((xs[i] for i in basis), Fraction(0)) / len(basis)
    # Moving ranges only between neighbouring periods both present (never across a gap)
    # and both in the segment (never across a break).
    ranges = [abs(xs[i] - xs[i - 1]) for i in basis if i - 1 in in_basis]
    if not ranges:
        return None
    mr = sum(ranges, Fraction(0)) / len(ranges)
    screened = 0
    if config.screen_outliers and mr > 0:
        kept = [r for r in ranges if r < _SCREEN * mr]
        screened = len(ranges) - len(kept)
        if screened:
            ranges = kept
            mr = sum(ranges, Fraction(0)) / len(ranges)
    exact = _Exact(mean, mr)
    limits = Limits(
        mean=_decimal(mean),
        mean_moving_range=_decimal(mr),
        upper=_decimal(exact.upper),
        lower=_decimal(exact.lower),
        upper_two_sigma=_decimal(mean + exact.two_sigma),
        lower_two_sigma=_decimal(mean - exact.two_sigma),
        points=len(basis),
        moving_ranges=len(ranges),
        screened=screened,
        provisional=not full,
    )
    return limits, exact


# --- the rules -------------------------------------------------------------------------


def _sign(x: Fraction) -> int:
    return (x > 0) - (x < 0)


def _runs(signs: list[int], minimum: int) -> list[tuple[int, int, int]]:
    """Maximal runs of one non-zero sign at least ``minimum`` long: (first, stop, sign)."""
    found = []
    start = 0
    for k in range(1, len(signs) + 1):
        if k == len(signs) or signs[k] != signs[start]:
            if signs[start] != 0 and k - start >= minimum:
                found.append((start, k, signs[start]))
            start = k
    return found


def _stretch_signals(
    xs: dict[int, Fraction], idxs: list[int], exact: _Exact, config: SPCConfig
) -> list[tuple[Rule, tuple[int, ...], Side]]:
    """The four rules over the values at ``idxs`` (present, in order, one set of limits)."""
    found: list[tuple[Rule, tuple[int, ...], Side]] = []
    vals = [xs[i] for i in idxs]
    upper, lower = exact.upper, exact.lower
    for i, x in zip(idxs, vals, strict=True):
        if x > upper:
            found.append((Rule.BEYOND_LIMIT, (i,), Side.HIGH))
        elif x < lower:
            found.append((Rule.BEYOND_LIMIT, (i,), Side.LOW))

    sides = [_sign(x - exact.mean) for x in vals]
    for first, stop, sign in _runs(sides, config.shift_points):
        found.append((Rule.SHIFT, tuple(idxs[first:stop]), Side.HIGH if sign > 0 else Side.LOW))

    # steps[k] is the move from value k to value k + 1; a run of s steps covers s + 1 values.
    steps = [_sign(b - a) for a, b in zip(vals, vals[1:], strict=False)]
    for first, stop, sign in _runs(steps, config.trend_points - 1):
        found.append(
            (Rule.TREND, tuple(idxs[first : stop + 1]), Side.UP if sign > 0 else Side.DOWN)
        )

    reach = exact.two_sigma
    zones = [1 if x - exact.mean > reach else -1 if exact.mean - x > reach else 0 for x in vals]
    for sign, side in ((1, Side.HIGH), (-1, Side.LOW)):
        # Windows of three consecutive values with two or more beyond the same line; windows
        # that overlap make one signal, covering the values beyond the line.
        group: set[int] = set()
        group_end = -1
        for w in range(len(vals) - 2):
            beyond = [k for k in range(w, w + 3) if zones[k] == sign]
            if len(beyond) < 2:
                continue
            if group and w > group_end:
                found.append((Rule.TWO_OF_THREE, tuple(idxs[k] for k in sorted(group)), side))
                group = set()
            group.update(beyond)
            group_end = w + 2
        if group:
            found.append((Rule.TWO_OF_THREE, tuple(idxs[k] for k in sorted(group)), side))
    return found


def _signal_variation(polarity: str | None, side: Side) -> Variation:
    """What a signal means for the measure, by polarity (module docstring)."""
    if polarity == "up":
        return (
            Variation.SPECIAL_CAUSE_IMPROVING
            if side in _UPWARD
            else Variation.SPECIAL_CAUSE_CONCERNING
        )
    if polarity == "down":
        return (
            Variation.SPECIAL_CAUSE_CONCERNING
            if side in _UPWARD
            else Variation.SPECIAL_CAUSE_IMPROVING
        )
    return Variation.SPECIAL_CAUSE_NEITHER


_PRECEDENCE = (
    Variation.SPECIAL_CAUSE_CONCERNING,
    Variation.SPECIAL_CAUSE_IMPROVING,
    Variation.SPECIAL_CAUSE_NEITHER,
)


def _combine(readings: set[Variation]) -> Variation:
    """One value's reading from the signals covering it: concern first (module docstring)."""
    for variation in _PRECEDENCE:
        if variation in readings:
            return variation
    return Variation.COMMON_CAUSE


# --- assurance -------------------------------------------------------------------------


def _band_target(spec: TargetSpec) -> tuple[Decimal, Decimal] | None:
    """A band's target range (R5): the written range, else the point target as [t, t]."""
    if spec.target_low is not None and spec.target_high is not None:
        return spec.target_low, spec.target_high
    if spec.target is not None:
        return spec.target, spec.target
    return None


def _ratable(defn: Definition, spec: TargetSpec | None) -> bool:
    """Whether there is a target to assure against: a polarity, a spec, and a definition
    that does not contradict itself (R6: such a definition is never judged silently)."""
    return (
        spec is not None
        and defn.polarity in ("up", "down", "band")
        and not definition_problems(defn, spec)
    )


def target_assurance(
    defn: Definition, spec: TargetSpec | None, *, lower: Decimal, upper: Decimal
) -> Assurance:
    """MDC's assurance: will the process reliably meet the target?

    Higher is better: consistently passing when the lower process limit is at or above
    the target (every value the process will produce meets it, R2's inclusive boundary),
    consistently failing when the upper limit is below it, otherwise hit and miss; lower
    is better mirrored (NHSRplotthedots ``ptd_calculate_assurance_type``, which uses the
    strict ``target < lpl`` for a pass; R2 makes a lower limit exactly at the target a
    pass here). Band measures (our extension): passing when both limits lie inside the
    target range, failing when both lie outside it on the same side. Not applicable
    without a target, without a polarity, or when the definition contradicts itself.
    """
    if not _ratable(defn, spec):
        return Assurance.NOT_APPLICABLE
    assert spec is not None
    if defn.polarity == "band":
        target_range = _band_target(spec)
        if target_range is None:
            return Assurance.NOT_APPLICABLE
        low, high = target_range
        if low <= lower and upper <= high:
            return Assurance.CONSISTENTLY_PASSING
        if upper < low or lower > high:
            return Assurance.CONSISTENTLY_FAILING
        return Assurance.HIT_AND_MISS
    target = spec.target
    if target is None:
        return Assurance.NOT_APPLICABLE
    if defn.polarity == "up":
        if lower >= target:
            return Assurance.CONSISTENTLY_PASSING
        if upper < target:
            return Assurance.CONSISTENTLY_FAILING
        return Assurance.HIT_AND_MISS
    if upper <= target:
        return Assurance.CONSISTENTLY_PASSING
    if lower > target:
        return Assurance.CONSISTENTLY_FAILING
    return Assurance.HIT_AND_MISS


def tolerance_assurance(
    defn: Definition, spec: TargetSpec | None, *, lower: Decimal, upper: Decimal
) -> ToleranceAssurance:
    """Beyond the NHS tools: will the process reliably stay within tolerance?

    Judged against the effective tolerance of ``rating.resolve_bounds`` (R3, R4): only the
    worse side counts, and a relative tolerance is the number it comes to. Higher is
    better: consistently within when the lower process limit is at or above the tolerance
    floor (no value will be outside tolerance; values above the target are better still),
    consistently outside when the upper limit is below the floor, otherwise hit and miss;
    lower is better mirrored with the ceiling. Band: within when both limits lie inside
    the tolerance band, a missing end of which is the target range's edge (as rating
    does); outside when both lie beyond it on the same side. Not applicable with no
    tolerance, including a tolerance edge at the target, which R3 calls no tolerance at all
    ("target 3.9, tolerance 0-3.9"), and wherever ``target_assurance`` is.
    """
    if not _ratable(defn, spec):
        return ToleranceAssurance.NOT_APPLICABLE
    assert spec is not None
    bounds = resolve_bounds(defn, spec)
    if defn.polarity == "band":
        if bounds.tolerance_low is None and bounds.tolerance_high is None:
            return ToleranceAssurance.NOT_APPLICABLE
        target_range = _band_target(spec)
        low = bounds.tolerance_low
        high = bounds.tolerance_high
        if target_range is not None:
            low = target_range[0] if low is None else low
            high = target_range[1] if high is None else high
        if low is None or high is None:
            return ToleranceAssurance.NOT_APPLICABLE
        if low <= lower and upper <= high:
            return ToleranceAssurance.CONSISTENTLY_WITHIN
        if upper < low or lower > high:
            return ToleranceAssurance.CONSISTENTLY_OUTSIDE
        return ToleranceAssurance.HIT_AND_MISS
    if bounds.target is None:
        return ToleranceAssurance.NOT_APPLICABLE
    if defn.polarity == "up":
        floor = bounds.tolerance_low
        if floor is None or floor == bounds.target:
            return ToleranceAssurance.NOT_APPLICABLE
        if lower >= floor:
            return ToleranceAssurance.CONSISTENTLY_WITHIN
        if upper < floor:
            return ToleranceAssurance.CONSISTENTLY_OUTSIDE
        return ToleranceAssurance.HIT_AND_MISS
    ceiling = bounds.tolerance_high
    if ceiling is None or ceiling == bounds.target:
        return ToleranceAssurance.NOT_APPLICABLE
    if upper <= ceiling:
        return ToleranceAssurance.CONSISTENTLY_WITHIN
    if lower > ceiling:
        return ToleranceAssurance.CONSISTENTLY_OUTSIDE
    return ToleranceAssurance.HIT_AND_MISS


# --- the analysis ----------------------------------------------------------------------


def _segment_bounds(n: int, breaks: Sequence[Break]) -> list[tuple[int, int, BreakKind, str]]:
    """(start, end inclusive, kind, reason) for each segment, from validated breaks."""
    if n == 0 and breaks:
        raise ValueError("breaks were given for an empty series")
    if n == 0:
        return []
    ordered = sorted(breaks, key=lambda b: b.index)
    seen: set[int] = set()
    for b in ordered:
        if not 0 <= b.index < n:
            raise ValueError(f"a break at index {b.index} is outside the series of {n} values")
        if b.index in seen:
            raise ValueError(f"two breaks at index {b.index}")
        seen.add(b.index)
    starts: list[tuple[int, BreakKind, str]] = []
    if not ordered or ordered[0].index != 0:
        starts.append((0, BreakKind.START, "start"))
    starts.extend((b.index, b.kind, b.reason) for b in ordered)
    return [
        (start, (starts[k + 1][0] - 1) if k + 1 < len(starts) else n - 1, kind, reason)
        for k, (start, kind, reason) in enumerate(starts)
    ]


def analyse(
    values: Sequence[Decimal | None],
    defn: Definition,
    spec: TargetSpec | None = None,
    *,
    breaks: Sequence[Break] = (),
    config: SPCConfig | None = None,
) -> Analysis:
    """The XmR chart of a measure's series, its signals and its verdicts.

    ``values`` in period order, None for a period with no figure (a gap; module
    docstring). ``defn`` gives the polarity (and the decimals at which a rebase's
    centre line counts as unchanged); ``spec`` is the target in force at the latest value,
    None when there is none. ``breaks`` start new segments (series breaks and rebases, each
    with its reason). Use the figures as rated (R2: unrounded), and per-period figures:
    a cumulative year-to-date figure climbs within each year by construction.
    """
    config = config or SPCConfig()
    n = len(values)
    xs = {i: _fraction(v, i) for i, v in enumerate(values) if v is not None}
    latest = max(xs) if xs else None

    bounds = _segment_bounds(n, breaks)
    segment_of = [0] * n
    own: list[tuple[Limits, _Exact] | None] = []
    judged_by: list[int | None] = []
    for k, (start, end, kind, _reason) in enumerate(bounds):
        segment_of[start : end + 1] = [k] * (end + 1 - start)
        mine = _compute_limits(xs, [i for i in range(start, end + 1) if i in xs], config)
        own.append(mine)
        if mine is not None:
            judged_by.append(k)
        elif kind == BreakKind.REBASE and k > 0:
            # A rebase takes effect only once it has enough values of its own; until then
            # its values are judged against the limits it would replace (module docstring).
            judged_by.append(judged_by[k - 1])
        else:
            judged_by.append(None)

    def in_force(k: int) -> tuple[Limits, _Exact] | None:
        judge = judged_by[k]
        return None if judge is None else own[judge]

    segments: list[Segment] = []
    for k, (start, end, kind, reason) in enumerate(bounds):
        mine = own[k]
        versus: Direction | None = None
        if kind == BreakKind.SERIES_BREAK:
            versus = Direction.NOT_COMPARABLE
        elif kind == BreakKind.REBASE:
            replaced = in_force(k - 1) if k > 0 else None
            if mine is None or replaced is None:
                versus = Direction.NOT_COMPARABLE
            else:
                versus = direction(defn, spec, mine[0].mean, replaced[0].mean)
        segments.append(
            Segment(
                start=start,
                end=end,
                kind=kind,
                reason=reason,
                points=sum(1 for i in range(start, end + 1) if i in xs),
                limits=None if mine is None else mine[0],
                judged_by=judged_by[k],
                versus_previous=versus,
            )
        )

    # Stretches: consecutive segments judged by the same limits; the rules run within one.
    signals: list[Signal] = []
    k = 0
    while k < len(bounds):
        stop = k
        while stop + 1 < len(bounds) and judged_by[stop + 1] == judged_by[k]:
            stop += 1
        limits = in_force(k)
        judge = judged_by[k]
        if limits is not None and judge is not None:
            idxs = [i for i in range(bounds[k][0], bounds[stop][1] + 1) if i in xs]
            for rule, indices, side in _stretch_signals(xs, idxs, limits[1], config):
                signals.append(
                    Signal(rule, indices, side, _signal_variation(defn.polarity, side), judge)
                )
        k = stop + 1
    rule_order = list(Rule)
    signals.sort(key=lambda s: (s.indices[0], s.indices[-1], rule_order.index(s.rule)))

    readings: dict[int, set[Variation]] = {}
    for signal in signals:
        for i in signal.indices:
            readings.setdefault(i, set()).add(signal.variation)
    point_variation: list[Variation | None] = [
        None
        if i not in xs
        else Variation.INSUFFICIENT_DATA
        if judged_by[segment_of[i]] is None
        else _combine(readings.get(i, set()))
        for i in range(n)
    ]

    variation = Variation.INSUFFICIENT_DATA
    assurance = Assurance.NOT_APPLICABLE
    tolerance = ToleranceAssurance.NOT_APPLICABLE
    if latest is not None:
        variation = _combine(readings.get(latest, set()))
        current = in_force(segment_of[latest])
        if current is None:
            variation = Variation.INSUFFICIENT_DATA
        else:
            lower, upper = current[0].lower, current[0].upper
            assurance = target_assurance(defn, spec, lower=lower, upper=upper)
            tolerance = tolerance_assurance(defn, spec, lower=lower, upper=upper)

    return Analysis(
        values=tuple(values),
        segments=tuple(segments),
        signals=tuple(signals),
        point_variation=tuple(point_variation),
        variation=variation,
        assurance=assurance,
        tolerance_assurance=tolerance,
        latest=latest,
        config=config,
    )
