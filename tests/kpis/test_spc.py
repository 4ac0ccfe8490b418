"""Statistical process control (kpis/spc.py): Making Data Count's XmR chart, its four
special-cause rules, the variation and assurance verdicts, segments, and properties.

Pure: runs with ``-p no:django``. Values are Decimal throughout, never float.

Sources of the method and of the expected values (the module docstring has more):

* the XmR formulae (mean, moving ranges |xᵢ − xᵢ₋₁|, limits mean ± 2.66 × MR̄, two-sigma
  lines mean ± (2/3) × 2.66 × MR̄) as NHS England's "Making Data Count" uses them and
  NHSRplotthedots implements them (``R/ptd_spc_standard.R``: ``limit <- 2.66``,
  ``limitclose <- 2 * (limit / 3)``). Every expected number below is worked by hand
  from the data in the test, in the comment beside it; none is copied from a
  publication.
* NHSRplotthedots' vignette "Deviations from Excel defaults" (its data set, with and
  without outlier screening), its test "it only reports special cause for 2 of 3 points
  close to limits when they are on the same side of the mean"
  (``tests/testthat/test-ptd_spc_standard.R``), its rule tests
  (``tests/testthat/test-ptd_calculate_point_type.R``) and its assurance tests
  (``tests/testthat/test-ptd_calculate_assurance_type.R``), each named where used.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kpis.rating import Definition, Direction, TargetSpec
from kpis.spc import (
    Analysis,
    Assurance,
    Break,
    BreakKind,
    Rule,
    Side,
    Signal,
    SPCConfig,
    ToleranceAssurance,
    Variation,
    analyse,
    target_assurance,
    tolerance_assurance,
)


@pytest.fixture(autouse=True)
def _plain_http() -> None:
    """Shadow tests/conftest.py's autouse fixture, which needs pytest-django's
    ``settings``: these tests are pure and run without Django (-p no:django)."""


D = Decimal
UP = Definition("KPI 1", "up", "percent")
DOWN = Definition("KPI 6", "down", "days")
BAND = Definition("SM 1.1", "band", "rate", per=D(10000))
MI = Definition("MI 1", None)

IMPROVING = Variation.SPECIAL_CAUSE_IMPROVING
CONCERNING = Variation.SPECIAL_CAUSE_CONCERNING
NEITHER = Variation.SPECIAL_CAUSE_NEITHER


def ds(*xs: object) -> list[Decimal | None]:
    return [None if x is None else D(str(x)) for x in xs]


def rules(analysis: Analysis) -> list[tuple[Rule, tuple[int, ...], Side]]:
    return [(s.rule, s.indices, s.side) for s in analysis.signals]


# A monthly percentage over 20 months, worked by hand (Making Data Count's XmR chart).
#   values: 80 84 82 86 83 85 81 84 86 82 83 85 81 83 86 84 80 82 86 81
#   sum 1664, 20 values: mean = 1664 / 20 = 83.2
#   moving ranges: 4 2 4 3 2 4 3 2 4 1 2 4 2 3 2 4 2 4 5, sum 57, 19 ranges: MR̄ = 3
#   limits: 83.2 ± 2.66 × 3 = 83.2 ± 7.98 -> 91.18 and 75.22
#   two-sigma lines: 83.2 ± (2/3) × 2.66 × 3 = 83.2 ± 5.32 -> 88.52 and 77.88
MONTHLY = ds(80, 84, 82, 86, 83, 85, 81, 84, 86, 82, 83, 85, 81, 83, 86, 84, 80, 82, 86, 81)

# The rule tests' base: 20 values alternating 11.5, 8.5 (the last, index 19, is 8.5).
#   mean = (10 × 11.5 + 10 × 8.5) / 20 = 10; every moving range 3, so MR̄ = 3
#   limits 10 ± 7.98 -> 17.98 and 2.02; two-sigma lines 10 ± 5.32 -> 15.32 and 4.68
# The limits lock on these 20 values (the baseline), so values appended after them are
# judged against exactly these numbers. Alternating sides and directions: no signal.
BASE = ds(*([11.5, 8.5] * 10))


# --- the chart -------------------------------------------------------------------------


def test_worked_example_mean_moving_range_and_limits():
    a = analyse(MONTHLY, UP)
    limits = a.limits
    assert limits is not None
    assert limits.mean == D("83.2")
    assert limits.mean_moving_range == D(3)
    assert (limits.upper, limits.lower) == (D("91.18"), D("75.22"))
    assert (limits.upper_two_sigma, limits.lower_two_sigma) == (D("88.52"), D("77.88"))
    assert (limits.points, limits.moving_ranges, limits.screened) == (20, 19, 0)
    assert not limits.provisional and not a.provisional
    assert a.signals == ()
    assert a.variation == Variation.COMMON_CAUSE
    assert set(a.point_variation) == {Variation.COMMON_CAUSE}
    assert a.latest == 19


def test_worked_example_assurance_against_targets_and_tolerance():
    # Limits 75.22 to 91.18 (above). Higher is better.
    def verdicts(spec: TargetSpec) -> tuple[Assurance, ToleranceAssurance]:
        a = analyse(MONTHLY, UP, spec)
        return a.assurance, a.tolerance_assurance

    # Target 80, tolerance from 75: the limits straddle 80; the lower limit 75.22 >= 75.
    assert verdicts(TargetSpec(target=D(80), tolerance_low=D(75))) == (
        Assurance.HIT_AND_MISS,
        ToleranceAssurance.CONSISTENTLY_WITHIN,
    )
    # Target 75: the lower limit 75.22 is above it.
    assert verdicts(TargetSpec(target=D(75)))[0] == Assurance.CONSISTENTLY_PASSING
    # Target 92, tolerance from 91.5: the upper limit 91.18 is below both.
    assert verdicts(TargetSpec(target=D(92), tolerance_low=D("91.5"))) == (
        Assurance.CONSISTENTLY_FAILING,
        ToleranceAssurance.CONSISTENTLY_OUTSIDE,
    )
    # Target 92, tolerance from 80: some months inside tolerance, some outside.
    assert verdicts(TargetSpec(target=D(92), tolerance_low=D(80)))[1] == (
        ToleranceAssurance.HIT_AND_MISS
    )


def test_nhsrplotthedots_deviations_vignette_data_without_screening_as_the_mdc_excel_tool():
    # NHSRplotthedots vignette "Deviations from Excel defaults", section 1, its data:
    #   1 2 1 2 10 1 2 1 2 1 2 1 2 1 2 1 2 1 (18 values)
    #   sum = 9 ones + 8 twos + 10 = 35; mean = 35 / 18 = 1.9444...
    #   moving ranges: 1 1 1 8 9 and then twelve 1s: sum 32 over 17: MR̄ = 32/17 = 1.88235...
    #   limits 35/18 ± 2.66 × 32/17: upper 6.9515..., lower -3.0626...
    # The vignette says the MDC Excel tools keep every moving range (our default).
    values = ds(1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1)
    a = analyse(values, UP)
    limits = a.limits
    assert limits is not None
    assert limits.mean == D(35) / D(18)
    assert limits.mean_moving_range == D(32) / D(17)
    assert abs(limits.upper - D("6.951503267973856209")) < D("1e-18")
    assert abs(limits.lower - D("-3.062614379084967320")) < D("1e-18")
    assert (limits.moving_ranges, limits.screened) == (17, 0)
    # 18 values: 12 <= n < 20, so trial limits.
    assert limits.provisional
    # The 10 is beyond the upper limit; the latest value is common cause.
    assert rules(a) == [(Rule.BEYOND_LIMIT, (4,), Side.HIGH)]
    assert a.variation == Variation.COMMON_CAUSE


def test_nhsrplotthedots_deviations_vignette_data_with_its_default_outlier_screen():
    # Same data, screen_outliers as NHSRplotthedots defaults (R/ptd_spc_standard.R): keep
    # moving ranges below 3.267 × MR̄ = 3.267 × 32/17 = 6.1496...; the 8 and the 9 go.
    #   MR̄ = fifteen 1s / 15 = 1; the mean is unchanged (35/18).
    #   limits 35/18 ± 2.66: upper 4.6044..., lower -0.7155...
    values = ds(1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1)
    a = analyse(values, UP, config=SPCConfig(screen_outliers=True))
    limits = a.limits
    assert limits is not None
    assert limits.mean == D(35) / D(18)
    assert limits.mean_moving_range == D(1)
    assert limits.upper == D(35) / D(18) + D("2.66")
    assert (limits.moving_ranges, limits.screened) == (15, 2)
    assert rules(a) == [(Rule.BEYOND_LIMIT, (4,), Side.HIGH)]
    # The vignette's point: screening narrows the limits.
    unscreened = analyse(values, UP).limits
    assert unscreened is not None
    assert limits.upper - limits.lower < unscreened.upper - unscreened.lower


@pytest.mark.parametrize("screen", [False, True])
def test_nhsrplotthedots_two_of_three_needs_the_same_side(screen):
    # NHSRplotthedots tests/testthat/test-ptd_spc_standard.R, "it only reports special
    # cause for 2 of 3 points close to limits when they are on the same side of the mean":
    # c(1, -1) eight times, then the 15th value set to 5.5 and the 16th to -5.5.
    #   mean = 0 (the pairs cancel, and 5.5 - 5.5 = 0)
    #   moving ranges: thirteen 2s, |5.5 - (-1)| = 6.5, |-5.5 - 5.5| = 11: sum 43.5 / 15 = 2.9
    #   unscreened: two-sigma reach (2/3) × 2.66 × 2.9 = 5.1426..., limits ± 7.714
    #   screened: 11 >= 3.267 × 2.9 = 9.474 goes; MR̄ = 32.5 / 14 = 2.3214...,
    #     two-sigma reach 4.1166..., limits ± 6.175
    # Either way 5.5 and -5.5 are beyond opposite two-sigma lines and inside the limits:
    # the package expects common cause for both, and so do we.
    values = ds(*([1, -1] * 7), D("5.5"), D("-5.5"))
    a = analyse(values, UP, config=SPCConfig(screen_outliers=screen))
    limits = a.limits
    assert limits is not None
    assert limits.mean == 0
    assert limits.mean_moving_range == (D("2.9") if not screen else D("32.5") / D(14))
    assert a.signals == ()
    assert a.point_variation[-2:] == (Variation.COMMON_CAUSE, Variation.COMMON_CAUSE)
    # The same two values on the same side do signal.
    same_side = analyse(ds(*([1, -1] * 7), D("5.5"), D("5.5")), UP)
    assert [(s.rule, s.indices) for s in same_side.signals] == [(Rule.TWO_OF_THREE, (14, 15))]
    assert same_side.variation == IMPROVING


# --- the rules, each exactly -----------------------------------------------------------


def test_base_series_has_the_limits_worked_above_and_no_signal():
    a = analyse(BASE, UP)
    limits = a.limits
    assert limits is not None
    assert (limits.mean, limits.mean_moving_range) == (D(10), D(3))
    assert (limits.upper, limits.lower) == (D("17.98"), D("2.02"))
    assert (limits.upper_two_sigma, limits.lower_two_sigma) == (D("15.32"), D("4.68"))
    assert a.signals == ()


@pytest.mark.parametrize(
    ("value", "side"), [("17.99", Side.HIGH), ("25", Side.HIGH), ("2.01", Side.LOW)]
)
def test_a_value_beyond_a_limit_signals(value, side):
    a = analyse([*BASE, D(value)], UP)
    assert rules(a) == [(Rule.BEYOND_LIMIT, (20,), side)]
    assert a.variation == (IMPROVING if side == Side.HIGH else CONCERNING)


@pytest.mark.parametrize("value", ["17.98", "2.02"])
def test_a_value_exactly_on_a_limit_is_inside(value):
    # NHSRplotthedots: outside_limits = y > upl | y < lpl (strict), as R2's inclusive edges.
    a = analyse([*BASE, D(value)], UP)
    assert all(s.rule != Rule.BEYOND_LIMIT for s in a.signals)


def test_a_shift_of_seven_signals_and_six_does_not():
    # NHSRplotthedots ptd_seven_point_one_side_mean: rep(1, 6) flags nothing; 7 flag.
    # Index 19 (8.5) is below the mean 10; then 11, 10.5 alternate above it (no trend).
    seven = ds(11, "10.5", 11, "10.5", 11, "10.5", 11)
    a = analyse([*BASE, *seven], UP)
    assert rules(a) == [(Rule.SHIFT, tuple(range(20, 27)), Side.HIGH)]
    assert a.variation == IMPROVING
    assert analyse([*BASE, *seven[:6]], UP).signals == ()


def test_a_shift_below_the_mean_is_concerning_when_higher_is_better():
    seven = ds(9, "9.5", 9, "9.5", 9, "9.5", 9)
    # Index 19 (8.5) is below the mean too: the run is eight long, 19 to 26.
    a = analyse([*BASE, *seven], UP)
    assert rules(a) == [(Rule.SHIFT, tuple(range(19, 27)), Side.LOW)]
    assert a.variation == CONCERNING


def test_a_value_exactly_on_the_mean_breaks_a_shift():
    # NHSRplotthedots: relative_to_mean = sign(y - mean) is 0 on the mean, matching neither side.
    values = [*BASE, *ds(11, "10.5", 11, 10, "10.5", 11, "10.5", 11)]
    assert analyse(values, UP).signals == ()


def test_a_trend_of_seven_signals_and_six_does_not():
    # NHSRplotthedots ptd_seven_point_trend: 1:7 flags, 1:6 does not. Seven values each
    # above the last (six increases); 8.5 -> 8 is a fall, so the trend starts at index 20.
    # Sides: 19, 20, 21 below the mean, 22-26 above: no shift; none beyond 15.32.
    rising = ds(8, 9, "10.5", 11, 12, 13, 14)
    a = analyse([*BASE, *rising], UP)
    assert rules(a) == [(Rule.TREND, tuple(range(20, 27)), Side.UP)]
    assert a.variation == IMPROVING
    assert analyse([*BASE, *rising[:6]], UP).signals == ()


def test_a_falling_trend_is_concerning_when_higher_is_better():
    falling = ds(12, "11.5", 11, "10.5", "9.5", 9, 8)  # 8.5 -> 12 rises; seven falls follow
    a = analyse([*BASE, *falling], UP)
    assert rules(a) == [(Rule.TREND, tuple(range(20, 27)), Side.DOWN)]
    assert a.variation == CONCERNING


def test_an_equal_neighbour_breaks_a_trend():
    # NHSRplotthedots: ptd_seven_point_trend(c(1:3, 3:6)) flags nothing.
    a = analyse([*BASE, *ds(8, 9, "10.5", "10.5", 11, 12, 13, 14)], UP)
    assert all(s.rule != Rule.TREND for s in a.signals)


def test_two_of_three_beyond_two_sigma_on_the_same_side_signals():
    # 15.5 is beyond the upper two-sigma line 15.32 and inside the limit 17.98; the window
    # (15.5, 10.5, 15.5) has two beyond it. The signal covers those two, not the 10.5.
    a = analyse([*BASE, *ds("15.5", "10.5", "15.5")], UP)
    assert rules(a) == [(Rule.TWO_OF_THREE, (20, 22), Side.HIGH)]
    assert a.variation == IMPROVING
    low = analyse([*BASE, *ds("4.5", "4.5")], UP)
    assert rules(low) == [(Rule.TWO_OF_THREE, (20, 21), Side.LOW)]
    assert low.variation == CONCERNING


def test_two_of_three_needs_two_beyond_the_line_not_on_it():
    # Exactly on the two-sigma line (15.32) is not beyond it.
    assert analyse([*BASE, *ds("15.32", "15.32")], UP).signals == ()
    # Two beyond it but four apart: no window of three holds both.
    assert analyse([*BASE, *ds("15.5", 10, 11, "15.5")], UP).signals == ()


def test_two_of_three_counts_a_value_beyond_the_limit_too():
    # Western Electric's "in zone A or beyond": 18 (beyond 17.98) and 15.5 (beyond 15.32).
    a = analyse([*BASE, *ds(18, "15.5")], UP)
    assert rules(a) == [
        (Rule.BEYOND_LIMIT, (20,), Side.HIGH),
        (Rule.TWO_OF_THREE, (20, 21), Side.HIGH),
    ]


def test_overlapping_two_of_three_windows_make_one_signal():
    a = analyse([*BASE, *ds("15.5", 11, "15.5", 11, "15.5")], UP)
    assert rules(a) == [(Rule.TWO_OF_THREE, (20, 22, 24), Side.HIGH)]


# --- variation by polarity -------------------------------------------------------------


def test_lower_is_better_mirrors_the_reading():
    a = analyse([*BASE, D(19)], DOWN)
    assert a.signals[0].variation == CONCERNING and a.variation == CONCERNING
    b = analyse([*BASE, D(1)], DOWN)
    assert b.variation == IMPROVING


@pytest.mark.parametrize("defn", [BAND, MI])
def test_band_and_no_polarity_give_special_cause_neither(defn):
    assert analyse([*BASE, D(19)], defn).variation == NEITHER
    assert analyse([*BASE, D(1)], defn).variation == NEITHER
    assert analyse(BASE, defn).variation == Variation.COMMON_CAUSE


def test_the_verdict_is_about_the_latest_value():
    # A value beyond the limit, then an ordinary one: the chart keeps the signal, the
    # verdict (like MDC's icon) reads the latest value.
    a = analyse([*BASE, D(19), D(11)], UP)
    assert rules(a) == [(Rule.BEYOND_LIMIT, (20,), Side.HIGH)]
    assert a.point_variation[20] == IMPROVING
    assert a.variation == Variation.COMMON_CAUSE


def test_signals_that_disagree_on_the_latest_value_read_as_concern():
    # Seven falling values all above the mean 10: a shift high (improving when higher is
    # better) and a trend down (concerning) both cover the latest value.
    falling = ds(15, 14, 13, 12, "11.5", 11, "10.5")
    a = analyse([*BASE, *falling], UP)
    assert {(s.rule, s.side) for s in a.signals_at(26)} == {
        (Rule.SHIFT, Side.HIGH),
        (Rule.TREND, Side.DOWN),
    }
    assert a.variation == CONCERNING
    # Lower is better: the shift high is now the concern; concern still wins.
    assert analyse([*BASE, *falling], DOWN).variation == CONCERNING


# --- too little data -------------------------------------------------------------------


def test_fewer_than_twelve_values_is_insufficient_data_not_a_signal():
    # NHSRplotthedots ptd_add_short_group_warnings: warning_threshold = 12.
    values = [*BASE[:10], D(100)]  # 11 values, one absurd
    a = analyse(values, UP, TargetSpec(target=D(5), tolerance_low=D(1)))
    assert a.variation == Variation.INSUFFICIENT_DATA
    assert a.signals == ()
    assert a.limits is None and a.segments[0].limits is None
    assert a.assurance == Assurance.NOT_APPLICABLE
    assert a.tolerance_assurance == ToleranceAssurance.NOT_APPLICABLE
    assert set(a.point_variation) == {Variation.INSUFFICIENT_DATA}


def test_twelve_to_nineteen_values_give_provisional_limits():
    # 12 values of the base: mean (6 × 11.5 + 6 × 8.5) / 12 = 10, MR̄ 3.
    a = analyse(BASE[:12], UP)
    assert a.limits is not None and a.limits.points == 12
    assert a.provisional and a.variation == Variation.COMMON_CAUSE
    assert analyse(BASE[:19], UP).provisional
    assert not analyse(BASE, UP).provisional


def test_an_empty_series_and_an_all_gap_series_are_insufficient_data():
    for values in ([], [None] * 15):
        a = analyse(values, UP, TargetSpec(target=D(1)))
        assert a.variation == Variation.INSUFFICIENT_DATA
        assert a.latest is None and a.signals == ()
        assert a.assurance == Assurance.NOT_APPLICABLE


def test_minimum_and_baseline_are_configurable():
    config = SPCConfig(minimum_points=5, baseline_points=8)
    a = analyse(BASE[:6], UP, config=config)
    assert a.limits is not None and a.provisional
    b = analyse(BASE[:8], UP, config=config)
    assert b.limits is not None and not b.provisional
    assert analyse(BASE[:4], UP, config=config).variation == Variation.INSUFFICIENT_DATA


# --- locked limits ---------------------------------------------------------------------


def test_limits_lock_on_the_first_twenty_values():
    # Four more values (20, 20, 0, 0) would move a mean of all 24 to 240/24 = 10 and
    # MR̄ to (57 + 11.5 + 0 + 20 + 0) / 23 = 88.5 / 23; locked, the limits stay on the 20.
    values = [*BASE, *ds(20, 20, 0, 0)]
    a = analyse(values, UP)
    assert a.limits is not None
    assert (a.limits.points, a.limits.mean_moving_range) == (20, D(3))
    # Judged against 17.98 and 2.02, all four are beyond a limit.
    beyond = [(s.indices, s.side) for s in a.signals if s.rule == Rule.BEYOND_LIMIT]
    assert beyond == [((20,), Side.HIGH), ((21,), Side.HIGH), ((22,), Side.LOW), ((23,), Side.LOW)]
    free = analyse(values, UP, config=SPCConfig(lock_limits=False))
    assert free.limits is not None
    assert (free.limits.points, free.limits.mean) == (24, D(10))
    assert free.limits.mean_moving_range == D("88.5") / D(23)


# --- gaps ------------------------------------------------------------------------------


def test_no_moving_range_is_computed_across_a_gap():
    # 11.5 8.5 ... with index 4 missing: the ranges 3, 3, 3 | gap | then 3s. The two
    # values either side of the gap (8.5 at 3, 8.5 at 5) would give 0; it is not taken.
    #   values present: 19 (ten 11.5 less one, ten 8.5): sum 115 - 11.5 + 85 = 188.5
    #   mean = 188.5 / 19; ranges: 19 pairs minus the 2 touching the gap = 17, all 3
    values = list(BASE)
    values[4] = None
    a = analyse(values, UP)
    assert a.limits is not None
    assert a.limits.mean == D("188.5") / D(19)
    assert (a.limits.moving_ranges, a.limits.mean_moving_range) == (17, D(3))
    assert a.limits.points == 19 and a.limits.provisional
    assert a.point_variation[4] is None


def test_a_gap_neither_breaks_nor_extends_a_run():
    seven = ds(11, "10.5", 11, None, "10.5", 11, "10.5", 11)
    a = analyse([*BASE, *seven], UP)
    assert rules(a) == [(Rule.SHIFT, (20, 21, 22, 24, 25, 26, 27), Side.HIGH)]
    six = ds(11, "10.5", None, 11, "10.5", 11)
    assert analyse([*BASE, *six], UP).signals == ()


def test_the_latest_value_is_the_last_present():
    a = analyse([*BASE, D(19), None, None], UP)
    assert a.latest == 20 and a.variation == IMPROVING


# --- segments: series breaks and rebases -----------------------------------------------


def test_a_series_break_starts_new_limits_and_keeps_the_earlier_ones():
    # Before the break: BASE (mean 10, MR̄ 3). After it, twelve values 51, 49, ...:
    #   mean (6 × 51 + 6 × 49) / 12 = 50; ranges all 2: MR̄ 2; limits 50 ± 5.32.
    # The range from 8.5 (index 19) to 51 (index 20) crosses the break and is not taken.
    after = ds(*([51, 49] * 6))
    brk = Break(20, BreakKind.SERIES_BREAK, "series break from 2019-09: definition changed")
    a = analyse([*BASE, *after], UP, TargetSpec(target=D(40)), breaks=[brk])
    first, second = a.segments
    assert (first.start, first.end, first.kind, first.reason) == (0, 19, BreakKind.START, "start")
    assert (second.start, second.end, second.kind) == (20, 31, BreakKind.SERIES_BREAK)
    assert second.reason.startswith("series break from 2019-09")
    assert first.limits is not None and first.limits.mean == D(10)
    assert second.limits is not None
    assert (second.limits.mean, second.limits.mean_moving_range) == (D(50), D(2))
    assert (second.limits.upper, second.limits.lower) == (D("55.32"), D("44.68"))
    assert second.limits.provisional and second.limits.moving_ranges == 11
    assert second.versus_previous == Direction.NOT_COMPARABLE
    assert first.versus_previous is None
    # Judged against its own limits, nothing after the break is beyond the old ones.
    assert a.signals == ()
    # The latest segment drives the verdicts: lower limit 44.68 >= target 40.
    assert a.limits == second.limits
    assert a.assurance == Assurance.CONSISTENTLY_PASSING
    assert a.limits_at(3) == first.limits


def test_a_short_segment_after_a_series_break_is_insufficient_data():
    brk = Break(20, BreakKind.SERIES_BREAK, "series break")
    a = analyse([*BASE, *ds(50, 40, 30, 20, 10)], UP, TargetSpec(target=D(5)), breaks=[brk])
    assert a.segments[1].judged_by is None and a.limits is None
    assert a.variation == Variation.INSUFFICIENT_DATA
    assert a.assurance == Assurance.NOT_APPLICABLE
    # The earlier segment keeps its limits (a chart shows them).
    assert a.segments[0].limits is not None


def test_a_rebase_cannot_hide_a_worsening_run_while_it_is_short():
    # Seven values below the mean 10, and someone rebases at their start. Until the new
    # segment has 12 values of its own, its values are judged against the old limits, so
    # the shift (index 19, which is 8.5, and the seven) still reads as concerning.
    worse = ds(9, "9.5", 9, "9.5", 9, "9.5", 9)
    rebase = Break(20, BreakKind.REBASE, "rebase: new referral pathway")
    a = analyse([*BASE, *worse], UP, breaks=[rebase])
    assert a.segments[1].judged_by == 0 and a.segments[1].limits is None
    assert a.segments[1].versus_previous == Direction.NOT_COMPARABLE
    assert rules(a) == [(Rule.SHIFT, tuple(range(19, 27)), Side.LOW)]
    assert a.variation == CONCERNING
    assert a.limits == a.segments[0].limits


def test_an_established_rebase_says_which_way_its_mean_moved():
    # Twelve values alternating 6.5 and 3.5 after the rebase: mean 5, MR̄ 3, limits
    # 5 ± 7.98. The old mean was 10. Higher is better: the rebase worsened the centre line.
    lower_level = ds(*(["6.5", "3.5"] * 6))
    rebase = Break(20, BreakKind.REBASE, "rebase: service reconfigured")
    a = analyse([*BASE, *lower_level], UP, breaks=[rebase])
    second = a.segments[1]
    assert second.judged_by == 1
    assert second.limits is not None and second.limits.mean == D(5)
    assert second.versus_previous == Direction.WORSENING
    assert a.segments[0].limits is not None and a.segments[0].limits.mean == D(10)
    assert analyse([*BASE, *lower_level], DOWN, breaks=[rebase]).segments[1].versus_previous == (
        Direction.IMPROVING
    )


def test_runs_do_not_cross_into_a_segment_judged_by_other_limits():
    # Index 19 (8.5) is below the old mean 10 and the next values are below their own mean.
    after = ds(*([49, 51] * 3), *([49, 51] * 3))
    brk = Break(20, BreakKind.SERIES_BREAK, "series break")
    a = analyse([*BASE, *after], UP, breaks=[brk])
    assert a.signals == ()


def test_a_break_at_the_first_value_names_the_first_segment():
    a = analyse(BASE, UP, breaks=[Break(0, BreakKind.SERIES_BREAK, "new definition")])
    assert len(a.segments) == 1
    assert a.segments[0].kind == BreakKind.SERIES_BREAK
    assert a.segments[0].reason == "new definition"


@pytest.mark.parametrize(
    "breaks",
    [
        [Break(20, BreakKind.REBASE, "x")],
        [Break(-1, BreakKind.REBASE, "x")],
        [Break(5, BreakKind.REBASE, "x"), Break(5, BreakKind.SERIES_BREAK, "y")],
    ],
)
def test_breaks_outside_the_series_or_twice_at_one_place_are_refused(breaks):
    with pytest.raises(ValueError):
        analyse(BASE, UP, breaks=breaks)


def test_a_break_is_not_a_start():
    with pytest.raises(ValueError):
        Break(3, BreakKind.START, "x")


# --- assurance -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("defn", "expected"),
    [
        (
            UP,
            [
                Assurance.CONSISTENTLY_FAILING,
                Assurance.CONSISTENTLY_PASSING,
                Assurance.HIT_AND_MISS,
            ],
        ),
        (
            DOWN,
            [
                Assurance.CONSISTENTLY_PASSING,
                Assurance.CONSISTENTLY_FAILING,
                Assurance.HIT_AND_MISS,
            ],
        ),
        (MI, [Assurance.NOT_APPLICABLE] * 3),
    ],
)
def test_nhsrplotthedots_assurance_cases(defn, expected):
    # NHSRplotthedots tests/testthat/test-ptd_calculate_assurance_type.R: limits (1, 3),
    # (5, 7), (1, 5) against target 4, for increase, decrease and neutral.
    spec = TargetSpec(target=D(4))
    got = [
        target_assurance(defn, spec, lower=D(lo), upper=D(hi))
        for lo, hi in ((1, 3), (5, 7), (1, 5))
    ]
    assert got == expected


def test_assurance_boundaries_follow_r2():
    spec = TargetSpec(target=D(4))
    # Lower limit exactly at the target: every value meets it (R2's inclusive boundary).
    assert target_assurance(UP, spec, lower=D(4), upper=D(6)) == Assurance.CONSISTENTLY_PASSING
    # Upper limit exactly at the target: a value at the top meets it.
    assert target_assurance(UP, spec, lower=D(2), upper=D(4)) == Assurance.HIT_AND_MISS
    assert target_assurance(DOWN, spec, lower=D(2), upper=D(4)) == Assurance.CONSISTENTLY_PASSING
    assert target_assurance(DOWN, spec, lower=D(4), upper=D(6)) == Assurance.HIT_AND_MISS


def test_band_assurance_uses_the_target_range():
    spec = TargetSpec(
        target_low=D(80), target_high=D(100), tolerance_low=D(70), tolerance_high=D(110)
    )

    def both(lo: int, hi: int) -> tuple[Assurance, ToleranceAssurance]:
        return (
            target_assurance(BAND, spec, lower=D(lo), upper=D(hi)),
            tolerance_assurance(BAND, spec, lower=D(lo), upper=D(hi)),
        )

    assert both(85, 95) == (Assurance.CONSISTENTLY_PASSING, ToleranceAssurance.CONSISTENTLY_WITHIN)
    assert both(75, 95) == (Assurance.HIT_AND_MISS, ToleranceAssurance.CONSISTENTLY_WITHIN)
    assert both(60, 75) == (Assurance.CONSISTENTLY_FAILING, ToleranceAssurance.HIT_AND_MISS)
    assert both(111, 120) == (
        Assurance.CONSISTENTLY_FAILING,
        ToleranceAssurance.CONSISTENTLY_OUTSIDE,
    )
    # A missing end of the tolerance band is the target range's edge there (R3, as rating).
    one_sided = TargetSpec(target_low=D(80), target_high=D(100), tolerance_low=D(70))
    assert tolerance_assurance(BAND, one_sided, lower=D(75), upper=D(100)) == (
        ToleranceAssurance.CONSISTENTLY_WITHIN
    )
    assert tolerance_assurance(BAND, one_sided, lower=D(75), upper=D(101)) == (
        ToleranceAssurance.HIT_AND_MISS
    )
    no_tolerance = TargetSpec(target_low=D(80), target_high=D(100))
    assert tolerance_assurance(BAND, no_tolerance, lower=D(85), upper=D(95)) == (
        ToleranceAssurance.NOT_APPLICABLE
    )


def test_tolerance_assurance_for_lower_is_better_uses_the_ceiling():
    # rating R3/R4: "target 44, +10 points" gives a ceiling of 54, the better side open.
    spec = TargetSpec(target=D(44), tolerance_relative=D(10), tolerance_unit="points")
    assert tolerance_assurance(DOWN, spec, lower=D(30), upper=D(54)) == (
        ToleranceAssurance.CONSISTENTLY_WITHIN
    )
    assert tolerance_assurance(DOWN, spec, lower=D(50), upper=D(60)) == (
        ToleranceAssurance.HIT_AND_MISS
    )
    assert tolerance_assurance(DOWN, spec, lower=D("54.1"), upper=D(60)) == (
        ToleranceAssurance.CONSISTENTLY_OUTSIDE
    )


def test_only_the_worse_side_of_a_written_tolerance_band_counts():
    # R3: "target 95, tolerance 85-100" means 85 is the floor, nothing above is a limit.
    spec = TargetSpec(target=D(95), tolerance_low=D(85), tolerance_high=D(100))
    assert tolerance_assurance(UP, spec, lower=D(86), upper=D(120)) == (
        ToleranceAssurance.CONSISTENTLY_WITHIN
    )


@pytest.mark.parametrize(
    ("defn", "spec"),
    [
        (UP, None),
        (DOWN, TargetSpec()),
        (UP, TargetSpec(target=D(95))),  # a blank tolerance is none (R3)
        (DOWN, TargetSpec(target=D(95))),
        # R3: "target 3.9, tolerance 0-3.9" (lower is better) means no tolerance at all.
        (DOWN, TargetSpec(target=D("3.9"), tolerance_low=D(0), tolerance_high=D("3.9"))),
    ],
)
def test_no_tolerance_is_not_applicable(defn, spec):
    assert tolerance_assurance(defn, spec, lower=D(1), upper=D(2)) == (
        ToleranceAssurance.NOT_APPLICABLE
    )


def test_no_target_or_a_contradictory_definition_gives_no_assurance():
    assert analyse(MONTHLY, UP).assurance == Assurance.NOT_APPLICABLE
    # R6: a tolerance floor above the target for higher is better.
    bad = TargetSpec(target=D(70), tolerance_low=D(85))
    a = analyse(MONTHLY, UP, bad)
    assert (a.assurance, a.tolerance_assurance) == (
        Assurance.NOT_APPLICABLE,
        ToleranceAssurance.NOT_APPLICABLE,
    )
    assert a.variation == Variation.COMMON_CAUSE  # the chart itself does not need a target


# --- configuration and input -----------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"shift_points": 1},
        {"trend_points": 2},
        {"minimum_points": 1},
        {"minimum_points": 12, "baseline_points": 11},
    ],
)
def test_a_config_that_cannot_work_is_refused(kwargs):
    with pytest.raises(ValueError):
        SPCConfig(**kwargs)


def test_the_defaults_are_making_data_counts():
    config = SPCConfig()
    assert (config.shift_points, config.trend_points) == (7, 7)
    assert (config.minimum_points, config.baseline_points) == (12, 20)
    assert config.lock_limits and not config.screen_outliers


def test_run_lengths_are_configurable():
    # A shift of six (as IHI run-chart practice uses) now fires on six values above.
    six = ds(11, "10.5", 11, "10.5", 11, "10.5")
    a = analyse([*BASE, *six], UP, config=SPCConfig(shift_points=6))
    assert rules(a) == [(Rule.SHIFT, tuple(range(20, 26)), Side.HIGH)]


def test_floats_are_refused():
    with pytest.raises(TypeError):
        analyse([1.5] * 12, UP)  # type: ignore[list-item]
    with pytest.raises(ValueError):
        analyse([D("NaN")] * 12, UP)


# --- properties ------------------------------------------------------------------------

tenths = st.integers(min_value=-2000, max_value=2000).map(lambda n: D(n).scaleb(-1))
series = st.lists(st.one_of(tenths, tenths, tenths, tenths, st.none()), max_size=40)
rebases = st.lists(st.integers(min_value=1, max_value=39), max_size=2, unique=True)
polarities = st.sampled_from([UP, DOWN, BAND, MI])
SWAP = {IMPROVING: CONCERNING, CONCERNING: IMPROVING}


def _breaks(values: list[Decimal | None], at: list[int]) -> list[Break]:
    return [Break(i, BreakKind.REBASE, "rebase") for i in at if i < len(values)]


def _close(a: Decimal, b: Decimal) -> bool:
    """Equal but for the last of 28 significant digits (outputs are rounded there)."""
    return abs(a - b) <= D("1e-20") * (1 + abs(a) + abs(b))


def _signal_shape(signals: tuple[Signal, ...]) -> list[tuple[Rule, tuple[int, ...], Side]]:
    return [(s.rule, s.indices, s.side) for s in signals]


@settings(max_examples=150, deadline=None)
@given(series, rebases, polarities, tenths)
def test_shifting_every_value_shifts_the_mean_and_limits_and_changes_no_signal(
    values, at, defn, shift
):
    breaks = _breaks(values, at)
    before = analyse(values, defn, breaks=breaks)
    moved = [None if v is None else v + shift for v in values]
    after = analyse(moved, defn, breaks=breaks)
    assert _signal_shape(after.signals) == _signal_shape(before.signals)
    assert after.point_variation == before.point_variation
    assert after.variation == before.variation
    for s1, s2 in zip(before.segments, after.segments, strict=True):
        assert (s1.limits is None) == (s2.limits is None)
        if s1.limits is not None and s2.limits is not None:
            assert _close(s2.limits.mean, s1.limits.mean + shift)
            assert _close(s2.limits.upper, s1.limits.upper + shift)
            assert _close(s2.limits.lower, s1.limits.lower + shift)
            assert _close(s2.limits.mean_moving_range, s1.limits.mean_moving_range)


@settings(max_examples=150, deadline=None)
@given(series, rebases, polarities, st.integers(min_value=1, max_value=50))
def test_scaling_by_a_positive_constant_scales_the_limits_and_changes_no_signal(
    values, at, defn, tenfold
):
    factor = D(tenfold).scaleb(-1)
    breaks = _breaks(values, at)
    before = analyse(values, defn, breaks=breaks)
    after = analyse([None if v is None else v * factor for v in values], defn, breaks=breaks)
    assert _signal_shape(after.signals) == _signal_shape(before.signals)
    assert after.variation == before.variation
    for s1, s2 in zip(before.segments, after.segments, strict=True):
        if s1.limits is not None and s2.limits is not None:
            assert _close(s2.limits.mean, s1.limits.mean * factor)
            assert _close(s2.limits.upper, s1.limits.upper * factor)
            assert _close(s2.limits.lower, s1.limits.lower * factor)
            assert _close(s2.limits.mean_moving_range, s1.limits.mean_moving_range * factor)


@settings(max_examples=150, deadline=None)
@given(series, rebases)
def test_reversing_the_polarity_swaps_improving_and_concerning(values, at):
    breaks = _breaks(values, at)
    up = analyse(values, UP, breaks=breaks)
    down = analyse(values, DOWN, breaks=breaks)
    assert _signal_shape(up.signals) == _signal_shape(down.signals)
    for s1, s2 in zip(up.signals, down.signals, strict=True):
        assert s2.variation == SWAP[s1.variation]
    latest_readings = (
        {s.variation for s in up.signals_at(up.latest)} if up.latest is not None else set()
    )
    if len(latest_readings) == 2:
        # Signals that disagree on the latest value read as concern either way (by design).
        assert up.variation == down.variation == CONCERNING
    else:
        assert down.variation == SWAP.get(up.variation, up.variation)


@settings(max_examples=100, deadline=None)
@given(series, polarities)
def test_mirroring_the_values_mirrors_every_signal(values, defn):
    assume(any(v is not None for v in values))
    a = analyse(values, defn)
    b = analyse([None if v is None else -v for v in values], defn)
    mirror = {Side.HIGH: Side.LOW, Side.LOW: Side.HIGH, Side.UP: Side.DOWN, Side.DOWN: Side.UP}
    assert [(s.rule, s.indices, mirror[s.side]) for s in a.signals] == _signal_shape(b.signals)


# NHSRplotthedots' shift and trend rules (R/ptd_calculate_point_type.R), restated in
# Python to check ours value by value: a point is flagged when it is, or one of the next
# six is, the seventh of seven equal non-zero signs (side of the mean) or of seven
# values each strictly above (below) the one before.


def _ptd_seven_one_side(signs: list[int]) -> list[bool]:
    padded = [0] * 6 + signs
    return [
        padded[i] != 0 and all(padded[i] == padded[i - k] for k in range(1, 7))
        for i in range(6, len(padded))
    ]


def _ptd_seven_trend(xs: list[int]) -> list[bool]:
    ends = [False] * min(6, len(xs))
    for i in range(6, len(xs)):
        window = xs[i - 6 : i + 1]
        steps = {(b > a) - (b < a) for a, b in zip(window, window[1:], strict=False)}
        ends.append(steps in ({1}, {-1}))
    return ends


def _ptd_part_of_seven(ends: list[bool]) -> list[bool]:
    return [any(ends[i : i + 7]) for i in range(len(ends))]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=-20, max_value=20), min_size=12, max_size=40))
def test_shift_and_trend_flag_the_same_points_as_nhsrplotthedots(ints):
    # Small integers make ties and values exactly on the mean common. Limits from every
    # value, as NHSRplotthedots without fix_after_n_points.
    a = analyse([D(x) for x in ints], UP, config=SPCConfig(lock_limits=False))
    total = sum(ints)
    sides = [(x * len(ints) > total) - (x * len(ints) < total) for x in ints]
    flagged = {rule: [False] * len(ints) for rule in (Rule.SHIFT, Rule.TREND)}
    for s in a.signals:
        if s.rule in flagged:
            for i in s.indices:
                flagged[s.rule][i] = True
    assert flagged[Rule.SHIFT] == _ptd_part_of_seven(_ptd_seven_one_side(sides))
    assert flagged[Rule.TREND] == _ptd_part_of_seven(_ptd_seven_trend(ints))


def test_breaks_on_an_empty_series_are_refused():
    with pytest.raises(ValueError):
        analyse([], UP, breaks=[Break(1, BreakKind.REBASE, "x")])
