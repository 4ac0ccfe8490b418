"""The rating engine (R1-R10): every measure of the 2018 report, one test per rule, and
properties (monotone for higher/lower is better, symmetric for bands).

Pure: runs with ``-p no:django``. Values are Decimal throughout, never float.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpis import rating
from kpis.periods import month, months_elapsed_share, parse_period
from kpis.rating import (
    NARRATIVE_OWED,
    Bounds,
    Definition,
    Direction,
    Figure,
    Status,
    TargetSpec,
    Verdict,
    computed_value,
    definition_problems,
    direction,
    display_value,
    figure_problems,
    format_value,
    rate,
    resolve_bounds,
    sentence,
)


@pytest.fixture(autouse=True)
def _plain_http() -> None:
    """Shadow tests/conftest.py's autouse fixture, which needs pytest-django's
    ``settings``: these tests are pure and run without Django (-p no:django)."""


D = Decimal
APRIL_SHARE = months_elapsed_share(month(2018, 4), "financial")  # 1/12 (R7)
PER_10K = D(10000)
PER_100K = D(100000)


def band_written(target: str, low: str, high: str) -> TargetSpec:
    """A target with its tolerance written as a band, as the report does ("85-100")."""
    return TargetSpec(target=D(target), tolerance_low=D(low), tolerance_high=D(high))


# --- the demo's definitions (domain.md) ------------------------------------------------

KPI1 = Definition("KPI 1", "up", "percent")
SM11 = Definition("SM 1.1", "band", "rate", per=PER_10K)
KPI2 = Definition("KPI 2", "up", "percent")
KPI3 = Definition("KPI 3", "up", "percent")
SM31 = Definition("SM 3.1", "up", "percent")
SM32 = Definition("SM 3.2", "up", "count", decimals=0, cumulative=True)
KPI4 = Definition("KPI 4", "down", "rate", per=PER_100K, decimals=0)
SM41 = Definition("SM 4.1", "down", "percent")
MI519 = Definition("MI 5.19", None, "rate", per=PER_10K)
KPI6 = Definition("KPI 6", "up", "percent")
SM62 = Definition("SM 6.2", "up", "percent")
KPI7 = Definition("KPI 7", "up", "percent")
SM71 = Definition("SM 7.1", "down", "percent")
KPI8 = Definition("KPI 8", "up", "percent")
SM81 = Definition("SM 8.1", "up", "percent")
KPI9 = Definition("KPI 9", "down", "percent")

KPI1_SPEC = band_written("95", "85", "100")
SM11_SPEC = band_written("79", "69", "89")
KPI2_SPEC = band_written("95", "85", "100")
KPI2_HEADING_SPEC = band_written("70", "85", "100")
KPI3_SPEC = band_written("70", "60", "100")
SM31_SPEC = band_written("75", "65", "100")
SM32_SPEC = TargetSpec(target=D(300))
KPI4_SPEC = TargetSpec(target=D(560), tolerance_relative=D(10), tolerance_unit="percent")
SM41_SPEC = TargetSpec(target=D(44), tolerance_relative=D(10), tolerance_unit="points")
KPI6_SPEC = band_written("80", "72", "100")
SM62_SPEC = band_written("71", "70", "100")
KPI7_SPEC = band_written("92.8", "92.3", "100")
SM71_SPEC = band_written("3.9", "0", "3.9")
KPI8_SPEC = band_written("90", "81", "100")
SM81_SPEC = band_written("60", "40", "100")
KPI9_SPEC = band_written("25", "25", "27.5")

ON = Status.ON_TARGET
WITHIN = Status.WITHIN_TOLERANCE
OUTSIDE = Status.OUTSIDE_TOLERANCE

MEASURES = [
    pytest.param(KPI1, KPI1_SPEC, Figure(D("92.1")), None, WITHIN, D("92.1"), id="KPI-1-R3-within"),
    pytest.param(SM11, SM11_SPEC, Figure(D("91.2")), None, OUTSIDE, D("91.2"), id="SM-1.1-R5-band-outside"),
    pytest.param(SM11, SM11_SPEC, Figure(D("103.8")), None, OUTSIDE, D("103.8"), id="SM-1.1-R5-dec-2017-peak-outside"),
    pytest.param(KPI2, KPI2_SPEC, Figure(D("89.2")), None, WITHIN, D("89.2"), id="KPI-2-R3-within"),
    pytest.param(KPI2, KPI2_HEADING_SPEC, Figure(D("89.2")), None, Status.CANNOT_RATE, D("89.2"), id="KPI-2-heading-R6-cannot-rate"),
    pytest.param(KPI3, KPI3_SPEC, Figure(numerator=D(242), denominator=D(286)), None, ON, D(24200) / D(286), id="KPI-3-R2-from-numerator-denominator"),
    pytest.param(KPI3, KPI3_SPEC, Figure(D("84.6"), D(242), D(286)), None, ON, D(24200) / D(286), id="KPI-3-R6-value-agrees-within-rounding"),
    pytest.param(SM31, SM31_SPEC, Figure(D("87.5")), None, ON, D("87.5"), id="SM-3.1-R3-on-target"),
    pytest.param(SM32, SM32_SPEC, Figure(D(36)), APRIL_SHARE, Status.ON_TRACK, D(36), id="SM-3.2-R7-on-track"),
    pytest.param(KPI4, KPI4_SPEC, Figure(D(402)), None, ON, D(402), id="KPI-4-R4-down-on-target"),
    pytest.param(SM41, SM41_SPEC, Figure(), None, Status.NO_DATA, None, id="SM-4.1-R1-no-data"),
    pytest.param(SM41, SM41_SPEC, None, None, Status.NO_DATA, None, id="SM-4.1-R1-no-figure-at-all"),
    pytest.param(MI519, None, Figure(D("112.1")), None, Status.NOT_RATED, D("112.1"), id="MI-5.19-R1-not-rated"),
    pytest.param(KPI6, KPI6_SPEC, Figure(D("84.4")), None, ON, D("84.4"), id="KPI-6-R3-on-target"),
    pytest.param(SM62, SM62_SPEC, Figure(D(80)), None, ON, D(80), id="SM-6.2-R3-on-target"),
    pytest.param(KPI7, KPI7_SPEC, Figure(numerator=D(5203), denominator=D(5907)), None, OUTSIDE, D(520300) / D(5907), id="KPI-7-R3-outside"),
    pytest.param(SM71, SM71_SPEC, Figure(D("5.8")), None, OUTSIDE, D("5.8"), id="SM-7.1-R3-no-tolerance-outside"),
    pytest.param(SM71, SM71_SPEC, Figure(D("3.9")), None, ON, D("3.9"), id="SM-7.1-R2-at-target"),
    pytest.param(KPI8, KPI8_SPEC, Figure(D("44.3")), None, OUTSIDE, D("44.3"), id="KPI-8-R3-outside"),
    pytest.param(SM81, SM81_SPEC, Figure(numerator=D(47), denominator=D(120)), None, OUTSIDE, D(4700) / D(120), id="SM-8.1-R3-outside"),
    pytest.param(KPI9, KPI9_SPEC, Figure(D(29)), None, OUTSIDE, D(29), id="KPI-9-R3-down-outside"),
    pytest.param(KPI9, KPI9_SPEC, Figure(D("27.5")), None, WITHIN, D("27.5"), id="KPI-9-R2-at-ceiling-within"),
    pytest.param(KPI9, KPI9_SPEC, Figure(D(26)), None, WITHIN, D(26), id="KPI-9-R3-down-within"),
]  # fmt: skip


@pytest.mark.parametrize(("defn", "spec", "figure", "share", "status", "value"), MEASURES)
def test_every_measure_of_the_report(
    defn: Definition,
    spec: TargetSpec | None,
    figure: Figure | None,
    share: Decimal | None,
    status: Status,
    value: Decimal | None,
) -> None:
    verdict = rate(defn, spec, figure, year_share=share)
    assert verdict.status is status, verdict.reason
    assert verdict.value == value
    assert verdict.reason.endswith(".")
    assert verdict.owes_narrative is (status in NARRATIVE_OWED)


BOUNDS = [
    pytest.param(KPI1, KPI1_SPEC, Bounds(D(95), None, None, D(85), None), id="KPI-1-R3-floor-only"),
    pytest.param(SM11, SM11_SPEC, Bounds(D(79), None, None, D(69), D(89)), id="SM-1.1-R5-band"),
    pytest.param(KPI4, KPI4_SPEC, Bounds(D(560), None, None, None, D(616)), id="KPI-4-R4-plus-10-percent-616"),
    pytest.param(SM41, SM41_SPEC, Bounds(D(44), None, None, None, D(54)), id="SM-4.1-R4-plus-10-points-54"),
    pytest.param(SM71, SM71_SPEC, Bounds(D("3.9"), None, None, None, D("3.9")), id="SM-7.1-R3-ceiling-at-target"),
    pytest.param(KPI9, KPI9_SPEC, Bounds(D(25), None, None, None, D("27.5")), id="KPI-9-R3-ceiling-only"),
    pytest.param(SM32, SM32_SPEC, Bounds(D(300), None, None, None, None), id="SM-3.2-R3-no-tolerance"),
]  # fmt: skip


@pytest.mark.parametrize(("defn", "spec", "bounds"), BOUNDS)
def test_resolved_bounds_R4(defn: Definition, spec: TargetSpec, bounds: Bounds) -> None:
    assert resolve_bounds(defn, spec) == bounds
    assert rate(defn, spec, Figure(D(1))).bounds == bounds


REASONS = [
    pytest.param(KPI1, KPI1_SPEC, Figure(D("92.1")), None,
                 "92.1% is not meeting target but within tolerance (target 95%, tolerance from 85%).",
                 id="KPI-1-R10-within"),
    pytest.param(SM11, SM11_SPEC, Figure(D("91.2")), None,
                 "91.2 per 10,000 is not meeting target and outside tolerance (target 79, tolerance 69 to 89).",
                 id="SM-1.1-R10-outside"),
    pytest.param(SM32, SM32_SPEC, Figure(D(36)), APRIL_SHARE,
                 "36 to date projects to 432 by the year end: on track to meet the annual target of 300.",
                 id="SM-3.2-R10-on-track"),
    pytest.param(MI519, None, Figure(D("112.1")), None, "Not rated: no target is set.", id="MI-5.19-R10-not-rated"),
    pytest.param(SM41, SM41_SPEC, Figure(), None, "No figure for this period.", id="SM-4.1-R10-no-data"),
    pytest.param(KPI4, KPI4_SPEC, Figure(D(402)), None,
                 "402 per 100,000 is meeting target (target 560, tolerance up to 616).",
                 id="KPI-4-R10-on-target"),
    pytest.param(SM71, SM71_SPEC, Figure(D("5.8")), None,
                 "5.8% is not meeting target and outside tolerance (target 3.9%, no tolerance).",
                 id="SM-7.1-R10-R3-no-tolerance"),
]  # fmt: skip


@pytest.mark.parametrize(("defn", "spec", "figure", "share", "reason"), REASONS)
def test_reason_sentence_R10(
    defn: Definition,
    spec: TargetSpec | None,
    figure: Figure,
    share: Decimal | None,
    reason: str,
) -> None:
    assert rate(defn, spec, figure, year_share=share).reason == reason


def test_KPI_2_heading_cannot_rate_names_measure_and_numbers_R6() -> None:
    problems = definition_problems(KPI2, KPI2_HEADING_SPEC)
    assert problems == [
        "KPI 2: the tolerance floor 85 is above the target 70, but higher is better (R6)"
    ]
    verdict = rate(KPI2, KPI2_HEADING_SPEC, Figure(D("89.2")))
    assert verdict.status is Status.CANNOT_RATE
    assert "KPI 2" in verdict.reason and "85" in verdict.reason and "70" in verdict.reason
    assert not verdict.owes_narrative  # R9: it blocks submission instead


def test_SM_3_2_projects_432_R7() -> None:
    verdict = rate(SM32, SM32_SPEC, Figure(D(36)), year_share=APRIL_SHARE)
    assert verdict.projected == D(432)
    assert verdict.status is Status.ON_TRACK


def test_the_demo_definitions_have_no_problems_R6() -> None:
    for defn, spec in [
        (KPI1, KPI1_SPEC), (SM11, SM11_SPEC), (KPI2, KPI2_SPEC), (KPI3, KPI3_SPEC),
        (SM31, SM31_SPEC), (SM32, SM32_SPEC), (KPI4, KPI4_SPEC), (SM41, SM41_SPEC),
        (MI519, TargetSpec()), (KPI6, KPI6_SPEC), (SM62, SM62_SPEC), (KPI7, KPI7_SPEC),
        (SM71, SM71_SPEC), (KPI8, KPI8_SPEC), (SM81, SM81_SPEC), (KPI9, KPI9_SPEC),
    ]:  # fmt: skip
        assert definition_problems(defn, spec) == [], defn.code


# --- R1 --------------------------------------------------------------------------------


def test_R1_vocabulary() -> None:
    assert [s.value for s in Status] == [
        "on_target",
        "within_tolerance",
        "outside_tolerance",
        "on_track",
        "off_track",
        "not_rated",
        "no_data",
        "cannot_rate",
    ]
    assert [d.value for d in Direction] == ["improving", "worsening", "unchanged", "not_comparable"]
    assert Status.ON_TARGET == "on_target"  # StrEnum: serialises as the word itself


def test_R1_not_rated_without_target_in_force() -> None:
    assert rate(KPI1, None, Figure(D(90))).status is Status.NOT_RATED
    assert rate(KPI1, TargetSpec(tolerance_low=D(85)), Figure(D(90))).status is Status.NOT_RATED
    # a band with only a point-less, one-sided tolerance has no target in force
    assert rate(SM11, TargetSpec(tolerance_low=D(69)), Figure(D(90))).status is Status.NOT_RATED
    # no polarity: never rated, even with a target written
    assert rate(MI519, TargetSpec(target=D(100)), Figure(D(90))).status is Status.NOT_RATED


def test_R1_no_data_wins_over_not_rated() -> None:
    assert rate(MI519, None, Figure()).status is Status.NO_DATA
    # a numerator alone is not a figure
    assert rate(KPI1, KPI1_SPEC, Figure(numerator=D(5))).status is Status.NO_DATA


# --- R2 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("defn", "spec", "value", "status"),
    [
        pytest.param(KPI1, KPI1_SPEC, "95", ON, id="R2-up-exactly-at-target-on-target"),
        pytest.param(KPI1, KPI1_SPEC, "94.999", WITHIN, id="R2-up-just-below-target"),
        pytest.param(KPI1, KPI1_SPEC, "85", WITHIN, id="R2-up-exactly-at-floor-within"),
        pytest.param(KPI1, KPI1_SPEC, "84.999", OUTSIDE, id="R2-up-just-below-floor"),
        pytest.param(KPI4, KPI4_SPEC, "560", ON, id="R2-down-exactly-at-target"),
        pytest.param(KPI4, KPI4_SPEC, "616", WITHIN, id="R2-down-exactly-at-ceiling-within"),
        pytest.param(KPI4, KPI4_SPEC, "616.001", OUTSIDE, id="R2-down-just-above-ceiling"),
        pytest.param(SM11, SM11_SPEC, "79", ON, id="R2-band-exactly-at-point-target"),
        pytest.param(SM11, SM11_SPEC, "69", WITHIN, id="R2-band-at-low-edge"),
        pytest.param(SM11, SM11_SPEC, "89", WITHIN, id="R2-band-at-high-edge"),
    ],
)
def test_R2_boundaries_inclusive(
    defn: Definition, spec: TargetSpec, value: str, status: Status
) -> None:
    assert rate(defn, spec, Figure(D(value))).status is status


def test_R2_rates_unrounded_and_shows_one_more_decimal() -> None:
    figure = Figure(numerator=D(2374), denominator=D(2500))  # 94.96%, shows as 95.0%
    verdict = rate(KPI1, KPI1_SPEC, figure)
    assert verdict.value == D("94.96")
    assert verdict.status is WITHIN  # not on target, though it rounds to 95.0
    assert format_value(KPI1, verdict.value) == "95.0%"
    assert display_value(KPI1, verdict) == "94.96%"
    assert verdict.reason.startswith("94.96% is not meeting target but within tolerance")


def test_R2_no_extra_decimal_when_rounding_does_not_hide_a_miss() -> None:
    assert display_value(KPI1, rate(KPI1, KPI1_SPEC, Figure(D("92.14")))) == "92.1%"
    # on target at the rounded target: nothing to disambiguate
    on = rate(KPI1, KPI1_SPEC, Figure(numerator=D(2375), denominator=D(2500)))
    assert on.status is ON and display_value(KPI1, on) == "95.0%"
    # down measure that missed by less than the rounding
    down = rate(SM71, SM71_SPEC, Figure(D("3.94")))
    assert down.status is OUTSIDE and display_value(SM71, down) == "3.94%"


def test_R2_band_extra_decimal_next_to_point_target() -> None:
    verdict = rate(SM11, SM11_SPEC, Figure(D("79.04")))
    assert verdict.status is WITHIN  # R5: only exactly 79 is on target
    assert display_value(SM11, verdict) == "79.04 per 10,000"


def test_R2_display_of_no_value() -> None:
    assert display_value(SM41, rate(SM41, SM41_SPEC, Figure())) == "—"


# --- R3 --------------------------------------------------------------------------------


def test_R3_only_the_worse_side_of_a_written_band_counts() -> None:
    up = resolve_bounds(KPI1, KPI1_SPEC)
    assert (up.tolerance_low, up.tolerance_high) == (D(85), None)
    down = resolve_bounds(KPI9, KPI9_SPEC)
    assert (down.tolerance_low, down.tolerance_high) == (None, D("27.5"))


def test_R3_blank_tolerance_means_short_of_target_is_outside() -> None:
    spec = TargetSpec(target=D(95))
    assert rate(KPI1, spec, Figure(D("94.9"))).status is OUTSIDE
    assert rate(KPI1, spec, Figure(D(95))).status is ON
    assert rate(KPI9, TargetSpec(target=D(25)), Figure(D("25.1"))).status is OUTSIDE


def test_R3_lower_is_better_tolerance_at_target_is_no_tolerance() -> None:
    assert rate(SM71, SM71_SPEC, Figure(D("3.91"))).status is OUTSIDE


def test_R3_up_above_written_band_top_is_still_on_target() -> None:
    spec = TargetSpec(target=D(10), tolerance_low=D(8), tolerance_high=D(12))
    assert rate(Definition("X", "up", "count"), spec, Figure(D(50))).status is ON


# --- R4 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("defn", "target", "relative", "unit", "low", "high"),
    [
        pytest.param(KPI1, "95", "10", "points", D(85), None, id="R4-up-points"),
        pytest.param(KPI1, "95", "10", "percent", D("85.5"), None, id="R4-up-percent-of-target"),
        pytest.param(SM41, "44", "10", "points", None, D(54), id="R4-down-points-44-to-54"),
        pytest.param(KPI4, "560", "10", "percent", None, D(616), id="R4-down-percent-560-to-616"),
        pytest.param(SM11, "79", "10", "points", D(69), D(89), id="R4-band-points-both-sides"),
    ],
)
def test_R4_relative_tolerance_points_or_percent(
    defn: Definition,
    target: str,
    relative: str,
    unit: str,
    low: Decimal | None,
    high: Decimal | None,
) -> None:
    spec = TargetSpec(target=D(target), tolerance_relative=D(relative), tolerance_unit=unit)
    bounds = resolve_bounds(defn, spec)
    assert (bounds.tolerance_low, bounds.tolerance_high) == (low, high)
    assert definition_problems(defn, spec) == []


def test_R4_points_and_percent_give_different_verdicts() -> None:
    points = TargetSpec(target=D(95), tolerance_relative=D(10), tolerance_unit="points")
    percent = TargetSpec(target=D(95), tolerance_relative=D(10), tolerance_unit="percent")
    assert rate(KPI1, points, Figure(D("85.2"))).status is WITHIN  # floor 85
    assert rate(KPI1, percent, Figure(D("85.2"))).status is OUTSIDE  # floor 85.5


def test_R4_absolute_and_relative_together_cannot_rate() -> None:
    spec = TargetSpec(
        target=D(95), tolerance_low=D(85), tolerance_relative=D(10), tolerance_unit="points"
    )
    [problem] = definition_problems(KPI1, spec)
    assert problem.startswith("KPI 1:") and "(R4)" in problem
    assert rate(KPI1, spec, Figure(D(90))).status is Status.CANNOT_RATE


def test_R4_relative_without_unit_is_a_problem() -> None:
    spec = TargetSpec(target=D(95), tolerance_relative=D(10))
    assert any("points or percent" in p for p in definition_problems(KPI1, spec))


# --- R5 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "status"),
    [
        pytest.param("74", OUTSIDE, id="R5-below-band"),
        pytest.param("75", WITHIN, id="R5-at-band-low"),
        pytest.param("77", ON, id="R5-at-range-low"),
        pytest.param("80", ON, id="R5-inside-range"),
        pytest.param("83", ON, id="R5-at-range-high"),
        pytest.param("83.01", WITHIN, id="R5-above-range"),
        pytest.param("89", WITHIN, id="R5-at-band-high"),
        pytest.param("89.01", OUTSIDE, id="R5-above-band"),
    ],
)
def test_R5_band_with_target_range(value: str, status: Status) -> None:
    spec = TargetSpec(
        target_low=D(77), target_high=D(83), tolerance_low=D(75), tolerance_high=D(89)
    )
    assert rate(SM11, spec, Figure(D(value))).status is status


def test_R5_band_symmetric_about_point_target() -> None:
    for d in ("0.1", "5", "10", "10.01", "24.2"):
        low = rate(SM11, SM11_SPEC, Figure(D(79) - D(d))).status
        high = rate(SM11, SM11_SPEC, Figure(D(79) + D(d))).status
        assert low is high, d


def test_R5_point_target_best_is_within_tolerance_elsewhere() -> None:
    assert rate(SM11, SM11_SPEC, Figure(D("79.1"))).status is WITHIN


def test_R5_tolerance_band_only_is_rated_best_within() -> None:
    spec = TargetSpec(tolerance_low=D(69), tolerance_high=D(89))
    assert rate(SM11, spec, Figure(D(79))).status is WITHIN
    assert rate(SM11, spec, Figure(D(90))).status is OUTSIDE


def test_R5_band_missing_tolerance_side_is_no_tolerance_there() -> None:
    spec = TargetSpec(target=D(79), tolerance_low=D(69))
    assert rate(SM11, spec, Figure(D(70))).status is WITHIN
    assert rate(SM11, spec, Figure(D("79.1"))).status is OUTSIDE


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        pytest.param(band_written("95", "69", "89"), "the target 95 is outside the tolerance band", id="R6-R5-point-target-above-band"),
        pytest.param(TargetSpec(target_low=D(60), target_high=D(80), tolerance_low=D(69), tolerance_high=D(89)), "target range 60 to 80 is outside", id="R6-R5-range-below-band"),
        pytest.param(TargetSpec(target_low=D(83), target_high=D(77)), "runs backwards, from 83 to 77", id="R6-R5-range-backwards"),
        pytest.param(TargetSpec(target_low=D(77)), "only one end (77)", id="R5-range-one-end"),
        pytest.param(TargetSpec(target=D(90), target_low=D(77), target_high=D(83)), "outside its own target range", id="R6-R5-point-outside-range"),
    ],
)  # fmt: skip
def test_R5_R6_band_problems(spec: TargetSpec, words: str) -> None:
    problems = definition_problems(SM11, spec)
    assert any(words in p and p.startswith("SM 1.1:") for p in problems), problems
    assert rate(SM11, spec, Figure(D(79))).status is Status.CANNOT_RATE


# --- R6 --------------------------------------------------------------------------------


def test_R6_value_disagreeing_with_numerator_denominator_cannot_rate() -> None:
    figure = Figure(D(90), D(242), D(286))  # 242/286 is 84.6%
    [problem] = figure_problems(KPI3, figure)
    assert "KPI 3" in problem and "90" in problem and "242" in problem and "286" in problem
    verdict = rate(KPI3, KPI3_SPEC, figure)
    assert verdict.status is Status.CANNOT_RATE
    assert "KPI 3" in verdict.reason


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        pytest.param("84.6", True, id="R6-rounded-value-agrees"),
        pytest.param("84.65", True, id="R6-half-a-unit-off-agrees"),
        pytest.param("84.67", False, id="R6-more-than-half-a-unit-off"),
        pytest.param("84.5", False, id="R6-a-unit-off"),
    ],
)
def test_R6_value_tolerance_is_the_measures_rounding(value: str, ok: bool) -> None:
    # 242/286 = 84.6153...; half a unit of one decimal place is 0.05
    assert (figure_problems(KPI3, Figure(D(value), D(242), D(286))) == []) is ok


@pytest.mark.parametrize(
    ("figure", "words"),
    [
        pytest.param(Figure(numerator=D(5), denominator=D(0)), "denominator is zero", id="R6-zero-denominator"),
        pytest.param(Figure(numerator=D(5), denominator=D(-10)), "denominator -10 is negative", id="R6-negative-denominator"),
        pytest.param(Figure(numerator=D(300), denominator=D(286)), "numerator 300 is larger than the denominator 286", id="R6-numerator-above-denominator"),
    ],
)  # fmt: skip
def test_R6_figure_problems(figure: Figure, words: str) -> None:
    problems = figure_problems(KPI3, figure)
    assert any(words in p for p in problems), problems
    assert rate(KPI3, KPI3_SPEC, figure).status is Status.CANNOT_RATE


def test_R6_percent_target_outside_0_100_cannot_rate() -> None:
    spec = TargetSpec(target=D(120))
    [problem] = definition_problems(KPI1, spec)
    assert "KPI 1" in problem and "120" in problem and "0 to 100" in problem
    assert rate(KPI1, spec, Figure(D(90))).status is Status.CANNOT_RATE


def test_R6_percent_tolerance_outside_0_100() -> None:
    assert definition_problems(KPI1, band_written("95", "85", "105"))


def test_R6_down_tolerance_ceiling_below_target() -> None:
    spec = band_written("25", "20", "24")
    assert definition_problems(KPI9, spec) == [
        "KPI 9: the tolerance ceiling 24 is below the target 25, but lower is better (R6)"
    ]
    assert rate(KPI9, spec, Figure(D(26))).status is Status.CANNOT_RATE


def test_R6_problem_wins_over_no_data() -> None:
    assert rate(KPI2, KPI2_HEADING_SPEC, Figure()).status is Status.CANNOT_RATE


def test_R6_rate_needs_population_base() -> None:
    defn = Definition("SM 1.1", "band", "rate")
    assert definition_problems(defn, SM11_SPEC)


def test_computed_value_units_R2() -> None:
    figure = Figure(numerator=D(495), denominator=D(54276))
    assert computed_value(SM11, figure) == D(495) * PER_10K / D(54276)
    assert computed_value(KPI3, Figure(numerator=D(1), denominator=D(4))) == D(25)
    assert computed_value(SM32, Figure(numerator=D(1), denominator=D(4))) == D("0.25")
    assert computed_value(KPI3, Figure(numerator=D(1))) is None
    assert computed_value(KPI3, Figure(D(5))) is None


# --- R7 --------------------------------------------------------------------------------


def test_R7_profiled_target_is_compared_instead_of_projection() -> None:
    spec = TargetSpec(target=D(300), profiled_target=D(40))
    verdict = rate(SM32, spec, Figure(D(30)), year_share=APRIL_SHARE)
    # projection alone (360) would be on track; the profile for April says 40
    assert verdict.projected == D(360)
    assert verdict.status is Status.OFF_TRACK
    assert verdict.owes_narrative  # R9
    assert "profiled target of 40" in verdict.reason
    assert rate(SM32, spec, Figure(D(40)), year_share=APRIL_SHARE).status is Status.ON_TRACK


@pytest.mark.parametrize(
    ("label", "value", "status"),
    [
        pytest.param("2018-04", "25", Status.ON_TRACK, id="R7-exactly-reaches-is-on-track"),
        pytest.param("2018-04", "24", Status.OFF_TRACK, id="R7-short-is-off-track"),
        pytest.param("2018-07", "100", Status.ON_TRACK, id="R7-four-months-third-of-year"),
        pytest.param("2019-03", "299", Status.OFF_TRACK, id="R7-year-end"),
    ],
)
def test_R7_projection(label: str, value: str, status: Status) -> None:
    share = months_elapsed_share(parse_period(label), "financial")
    assert rate(SM32, SM32_SPEC, Figure(D(value)), year_share=share).status is status


def test_R7_lower_is_better_mirrored() -> None:
    defn = Definition("X", "down", "count", decimals=0, cumulative=True)
    spec = TargetSpec(target=D(120))
    assert rate(defn, spec, Figure(D(10)), year_share=APRIL_SHARE).status is Status.ON_TRACK
    assert rate(defn, spec, Figure(D(11)), year_share=APRIL_SHARE).status is Status.OFF_TRACK


def test_R7_no_share_counts_as_whole_year() -> None:
    assert rate(SM32, SM32_SPEC, Figure(D(36))).status is Status.OFF_TRACK
    assert rate(SM32, SM32_SPEC, Figure(D(36)), year_share=D(0)).projected == D(36)


def test_R7_share_outside_the_year_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="SM 3.2"):
        rate(SM32, SM32_SPEC, Figure(D(36)), year_share=D("1.5"))


def test_R7_cumulative_band_is_a_problem() -> None:
    defn = Definition("X", "band", "count", cumulative=True)
    assert rate(defn, SM11_SPEC, Figure(D(79))).status is Status.CANNOT_RATE


# --- R8 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("defn", "spec", "current", "earlier", "comparable", "expected"),
    [
        pytest.param(KPI1, KPI1_SPEC, "92.1", "90", True, Direction.IMPROVING, id="R8-up-higher-improving"),
        pytest.param(KPI1, KPI1_SPEC, "90", "92.1", True, Direction.WORSENING, id="R8-up-lower-worsening"),
        pytest.param(KPI1, KPI1_SPEC, "92.14", "92.1", True, Direction.UNCHANGED, id="R8-equal-at-decimals-unchanged"),
        pytest.param(KPI1, KPI1_SPEC, "92.15", "92.1", True, Direction.IMPROVING, id="R8-round-half-up"),
        pytest.param(KPI4, KPI4_SPEC, "402", "450", True, Direction.IMPROVING, id="R8-down-lower-improving"),
        pytest.param(KPI4, KPI4_SPEC, "450", "402", True, Direction.WORSENING, id="R8-down-higher-worsening"),
        pytest.param(SM11, SM11_SPEC, "91.2", "103.8", True, Direction.IMPROVING, id="R8-band-closer-improving"),
        pytest.param(SM11, SM11_SPEC, "91.2", "80", True, Direction.WORSENING, id="R8-band-farther-worsening"),
        pytest.param(SM11, SM11_SPEC, "75", "83", True, Direction.UNCHANGED, id="R8-band-equally-far"),
        pytest.param(SM11, TargetSpec(target_low=D(70), target_high=D(90)), "81", "85", True, Direction.IMPROVING, id="R8-band-range-middle"),
        pytest.param(SM11, TargetSpec(tolerance_low=D(60), tolerance_high=D(100)), "85", "81", True, Direction.WORSENING, id="R8-band-tolerance-middle"),
        pytest.param(SM11, None, "85", "81", True, Direction.NOT_COMPARABLE, id="R8-band-no-centre"),
        pytest.param(SM41, SM41_SPEC, "40", "44", False, Direction.NOT_COMPARABLE, id="R8-series-break-not-comparable"),
        pytest.param(KPI1, KPI1_SPEC, "92.1", None, True, Direction.NOT_COMPARABLE, id="R8-no-earlier-figure"),
        pytest.param(KPI1, KPI1_SPEC, None, "92.1", True, Direction.NOT_COMPARABLE, id="R8-no-current-figure"),
        pytest.param(MI519, None, "112.1", "112.1", True, Direction.UNCHANGED, id="R8-no-polarity-equal"),
        pytest.param(MI519, None, "112.1", "110", True, Direction.NOT_COMPARABLE, id="R8-no-polarity-changed"),
    ],
)  # fmt: skip
def test_R8_direction(
    defn: Definition,
    spec: TargetSpec | None,
    current: str | None,
    earlier: str | None,
    comparable: bool,
    expected: Direction,
) -> None:
    now = None if current is None else D(current)
    then = None if earlier is None else D(earlier)
    assert direction(defn, spec, now, then, comparable=comparable) is expected


# --- R9, R10 ---------------------------------------------------------------------------


def test_R9_narratives_owed() -> None:
    assert NARRATIVE_OWED == {Status.WITHIN_TOLERANCE, Status.OUTSIDE_TOLERANCE, Status.OFF_TRACK}
    for status in Status:
        verdict = Verdict(status, "", None, None)
        assert verdict.owes_narrative is (status in NARRATIVE_OWED)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (Status.ON_TARGET, "meeting target"),
        (Status.WITHIN_TOLERANCE, "not meeting target but within tolerance"),
        (Status.OUTSIDE_TOLERANCE, "not meeting target and outside tolerance"),
        (Status.ON_TRACK, "on track to meet the annual target"),
        (Status.OFF_TRACK, "not on track to meet the annual target"),
        (Status.NOT_RATED, "not rated: no target is set"),
        (Status.NO_DATA, "no figure for this period"),
        (Status.CANNOT_RATE, "cannot be rated: the definition contradicts itself"),
    ],
    ids=lambda v: f"R10-{v}" if isinstance(v, Status) else None,
)
def test_R10_sentences(status: Status, words: str) -> None:
    assert sentence(status) == words
    assert sentence(status.value) == words  # type: ignore[arg-type]


def test_R10_sentences_are_polarity_neutral() -> None:
    for status in Status:
        words = sentence(status)
        for biased in ("higher", "lower", "above", "below", "increase", "decrease"):
            assert biased not in words


# --- format_value ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("defn", "value", "decimals", "text"),
    [
        pytest.param(KPI1, D("92.14"), None, "92.1%", id="percent"),
        pytest.param(KPI1, D("92.15"), None, "92.2%", id="R2-round-half-up"),
        pytest.param(KPI1, D("92.25"), None, "92.3%", id="R2-round-half-up-not-even"),
        pytest.param(SM11, D("91.2"), None, "91.2 per 10,000", id="rate"),
        pytest.param(KPI4, D("402"), None, "402 per 100,000", id="rate-no-decimals"),
        pytest.param(SM32, D("36"), None, "36", id="count"),
        pytest.param(SM32, D("5203"), None, "5,203", id="count-thousands"),
        pytest.param(KPI1, D("94.96"), 2, "94.96%", id="decimals-override"),
        pytest.param(KPI1, D("-0.01"), None, "0.0%", id="no-negative-zero"),
        pytest.param(KPI1, None, None, "—", id="none"),
    ],
)
def test_format_value(
    defn: Definition, value: Decimal | None, decimals: int | None, text: str
) -> None:
    assert format_value(defn, value, decimals) == text


def test_module_exports() -> None:
    for name in rating.__all__:
        assert hasattr(rating, name)


# --- properties ------------------------------------------------------------------------

RANK = {ON: 2, WITHIN: 1, OUTSIDE: 0}


def decimals_between(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=low, max_value=high, places=2, allow_nan=False, allow_infinity=False
    )


@given(
    target=decimals_between(0, 100),
    gap=decimals_between(0, 50),
    a=decimals_between(-10, 110),
    b=decimals_between(-10, 110),
    with_tolerance=st.booleans(),
)
def test_property_up_higher_never_worse_R3(
    target: Decimal, gap: Decimal, a: Decimal, b: Decimal, with_tolerance: bool
) -> None:
    defn = Definition("P", "up", "other")
    spec = TargetSpec(target=target, tolerance_low=target - gap if with_tolerance else None)
    low, high = sorted((a, b))
    assert RANK[rate(defn, spec, Figure(high)).status] >= RANK[rate(defn, spec, Figure(low)).status]


@given(
    target=decimals_between(0, 100),
    gap=decimals_between(0, 50),
    a=decimals_between(-10, 160),
    b=decimals_between(-10, 160),
    relative=st.sampled_from([None, "points", "percent"]),
)
def test_property_down_lower_never_worse_R3_R4(
    target: Decimal, gap: Decimal, a: Decimal, b: Decimal, relative: str | None
) -> None:
    defn = Definition("P", "down", "other")
    if relative is None:
        spec = TargetSpec(target=target, tolerance_high=target + gap)
    else:
        spec = TargetSpec(target=target, tolerance_relative=gap, tolerance_unit=relative)
    low, high = sorted((a, b))
    assert RANK[rate(defn, spec, Figure(low)).status] >= RANK[rate(defn, spec, Figure(high)).status]


@given(
    centre=decimals_between(-100, 100),
    half_range=decimals_between(0, 20),
    extra=decimals_between(0, 20),
    d=decimals_between(0, 60),
    point=st.booleans(),
)
def test_property_band_symmetric_R5(
    centre: Decimal, half_range: Decimal, extra: Decimal, d: Decimal, point: bool
) -> None:
    defn = Definition("P", "band", "other")
    half_band = half_range + extra
    if point:
        spec = TargetSpec(
            target=centre, tolerance_low=centre - half_band, tolerance_high=centre + half_band
        )
    else:
        spec = TargetSpec(
            target_low=centre - half_range,
            target_high=centre + half_range,
            tolerance_low=centre - half_band,
            tolerance_high=centre + half_band,
        )
    assert definition_problems(defn, spec) == []
    above = rate(defn, spec, Figure(centre + d)).status
    below = rate(defn, spec, Figure(centre - d)).status
    assert above is below
    assert RANK[rate(defn, spec, Figure(centre)).status] >= RANK[above]


@given(
    target=decimals_between(1, 500),
    value=decimals_between(0, 500),
    months=st.integers(min_value=1, max_value=12),
)
def test_property_cumulative_projection_R7(target: Decimal, value: Decimal, months: int) -> None:
    share = Decimal(months) / Decimal(12)
    verdict = rate(SM32, TargetSpec(target=target), Figure(value), year_share=share)
    assert verdict.projected == value * 12 / months
    expected = Status.ON_TRACK if value * 12 >= target * months else Status.OFF_TRACK
    assert verdict.status is expected
