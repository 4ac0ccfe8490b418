"""The monthly scorecard (R13): the demo's April 2018 scorecard gives the report's verdicts,
drafts show only to those who may see them, direction of travel (R8), effective
tolerances (R4), and a fixed number of queries however large the contract."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts import demo
from contracts.access import may_see_drafts
from contracts.models import Organisation, Role
from kpis import periods, rating
from kpis.models import DataGap, Measure, MeasureSet, SeriesBreak, Target
from kpis.scorecard import build_scorecard
from tests.factories import (
    MeasureFactory,
    MeasureSetFactory,
    ObservationFactory,
    OrganisationFactory,
    TargetFactory,
    member,
)

APRIL_2018 = periods.month(2018, 4)

# The report's verdict for every measure in April 2018 (domain.md's table).
REPORT_VERDICTS = {
    "KPI 1": "within_tolerance",
    "SM 1.1": "outside_tolerance",
    "KPI 2": "within_tolerance",
    "KPI 3": "on_target",
    "SM 3.1": "on_target",
    "SM 3.2": "on_track",
    "KPI 4": "on_target",
    "SM 4.1": "no_data",
    "MI 5.19": "not_rated",
    "KPI 6": "on_target",
    "SM 6.2": "on_target",
    "KPI 7": "outside_tolerance",
    "SM 7.1": "outside_tolerance",
    "KPI 8": "outside_tolerance",
    "SM 8.1": "outside_tolerance",
    "KPI 9": "outside_tolerance",
}


# Flags a reader must see next to each April 2018 figure (domain.md; R13 derives `lag`).
REPORT_FLAGS = {code: set() for code in REPORT_VERDICTS} | {
    "KPI 2": {"gap"},
    "KPI 4": {"lag"},
    "SM 4.1": {"series_break"},
    "KPI 8": {"second_source_disagrees"},
}


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def sunderland() -> MeasureSet:
    demo.load()
    return MeasureSet.objects.get(slug="sunderland-tfc")


@pytest.fixture
def april(sunderland):
    """The readers' April 2018 scorecard, by measure code."""
    rows = build_scorecard(sunderland, APRIL_2018, include_drafts=False)
    return {row.measure.code: row for row in rows}


# --- the report's verdicts -------------------------------------------------------------


@pytest.mark.django_db
def test_april_2018_verdicts_are_the_report_s_in_report_order(sunderland):
    rows = build_scorecard(sunderland, APRIL_2018, include_drafts=False)
    verdicts = [(row.measure.code, str(row.verdict.status)) for row in rows]
    reasons = "\n".join(f"{row.measure.code}: {row.verdict.reason}" for row in rows)
    assert verdicts == list(REPORT_VERDICTS.items()), reasons


@pytest.mark.django_db
def test_april_2018_flags_are_the_report_s(april):
    # Official figures, so no `draft`; KPI 8's recorded flag is not repeated.
    assert {code: set(map(str, row.flags)) for code, row in april.items()} == REPORT_FLAGS
    assert all(len(row.flags) == len(set(row.flags)) for row in april.values())


@pytest.mark.django_db
def test_sm_4_1_has_no_figure(april):
    assert april["SM 4.1"].observation is None
    assert april["SM 4.1"].value is None


@pytest.mark.django_db
def test_kpi_4_is_the_lagged_quarter_rated_against_616(sunderland, april):
    row = april["KPI 4"]
    assert (row.period, row.as_at, row.display_value) == (
        "2017/18 Q2",
        date(2017, 8, 31),
        "402 per 100,000",
    )
    measure = Measure.objects.get(measure_set=sunderland, code="KPI 4")
    target = Target.objects.get(measure=measure)
    bounds = rating.resolve_bounds(measure.as_definition(), target.as_spec())
    assert (bounds.target, bounds.tolerance_low, bounds.tolerance_high) == (560, None, 616)
    assert row.verdict.bounds.tolerance_high == 616


# --- direction of travel (R8) ----------------------------------------------------------


@pytest.mark.django_db
def test_sm_7_1_improves_from_december(april):
    # Lower is better: 5.8% in April against 6.0% in December.
    assert april["SM 7.1"].direction_previous == "improving"


@pytest.mark.django_db
def test_sm_1_1_improves_on_the_previous_known_figure(april):
    # A band measure: 91.2 is closer to 79 than December's 103.8 (R8, kpis.rating);
    # January 2018 holds only the count of children, no rate, so it is passed over.
    assert april["SM 1.1"].direction_previous == "improving"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("earlier", "now", "expected"),
    [
        ("103.8", "91.2", "improving"),  # the report's SM 1.1: closer to 79
        ("75", "70", "worsening"),  # below the band's centre and moving away
        ("85", "73", "unchanged"),  # 6 above, then 6 below: equally far
    ],
)
def test_band_measure_closer_to_its_target_is_improving(earlier, now, expected):
    measure = MeasureFactory(
        code="SM 1.1", unit="rate", per=10000, polarity="band", title="CP plans per 10k"
    )
    TargetFactory(
        measure=measure,
        target=Decimal("79"),
        tolerance_low=Decimal("69"),
        tolerance_high=Decimal("89"),
    )
    ObservationFactory(measure=measure, period="2017-12", value=Decimal(earlier))
    ObservationFactory(measure=measure, period="2018-04", value=Decimal(now))
    (row,) = build_scorecard(measure.measure_set, APRIL_2018, include_drafts=False)
    assert row.direction_previous == expected


# --- drafts (R13, R14) -----------------------------------------------------------------


@pytest.mark.django_db
def test_readers_do_not_see_a_draft_figure_draft_viewers_see_it_flagged():
    council = OrganisationFactory(kind=Organisation.Kind.COUNCIL)
    provider = OrganisationFactory(kind=Organisation.Kind.PROVIDER)
    reader = member(council, Role.READER)
    editor = member(provider, Role.PROVIDER_EDITOR)
    measure = MeasureFactory(code="KPI 1")
    TargetFactory(measure=measure)
    ObservationFactory(measure=measure, period="2018-03", value=Decimal("96"))
    ObservationFactory(measure=measure, period="2018-04", value=Decimal("80"), is_official=False)

    (seen_by_reader,) = build_scorecard(
        measure.measure_set, APRIL_2018, include_drafts=may_see_drafts(reader)
    )
    (seen_by_editor,) = build_scorecard(
        measure.measure_set, APRIL_2018, include_drafts=may_see_drafts(editor)
    )

    assert (seen_by_reader.period, seen_by_reader.value) == ("2018-03", Decimal("96"))
    assert "draft" not in seen_by_reader.flags
    assert seen_by_reader.verdict.status == "on_target"
    assert (seen_by_editor.period, seen_by_editor.value) == ("2018-04", Decimal("80"))
    assert "draft" in seen_by_editor.flags
    assert seen_by_editor.verdict.status == "outside_tolerance"


# --- queries ---------------------------------------------------------------------------


def build_contract(n_measures: int, n_periods: int) -> MeasureSet:
    """A set of measures, each with a target, a break, a gap and n_periods monthly figures
    (the latest a draft), so every part of a row is exercised."""
    measure_set = MeasureSetFactory()
    months = [APRIL_2018]
    while len(months) < n_periods:
        months.append(periods.previous(months[-1]))
    for i in range(n_measures):
        measure = MeasureFactory(measure_set=measure_set, code=f"KPI {i + 1}")
        TargetFactory(measure=measure)
        SeriesBreak.objects.create(
            measure=measure, from_period="2017-10", from_date=date(2017, 10, 1), reason="r"
        )
        DataGap.objects.create(
            measure=measure, start=date(2018, 1, 19), end=date(2018, 1, 31), reason="r"
        )
        for j, month in enumerate(reversed(months)):
            ObservationFactory(
                measure=measure,
                period=month.label,
                value=Decimal(80 + j % 20),
                is_official=month != APRIL_2018,
            )
    return measure_set


def run(measure_set: MeasureSet) -> None:
    rows = build_scorecard(measure_set, APRIL_2018, include_drafts=True)
    for row in rows:  # touch what a page shows, so lazy queries would count too
        _ = (row.period, row.as_at, row.value, row.display_value, row.sentence, row.flags)
        _ = (row.target, row.direction_previous, row.direction_year, row.verdict.reason)


@pytest.mark.django_db
def test_scorecard_queries_do_not_grow_with_measures_or_periods(django_assert_num_queries):
    small = build_contract(3, 2)
    large = build_contract(30, 24)
    with CaptureQueriesContext(connection) as queries:
        run(small)
    assert len(queries) > 0
    with django_assert_num_queries(len(queries)):
        run(large)
