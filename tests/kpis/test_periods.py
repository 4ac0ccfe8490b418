"""Periods (R11): every label form, round trips, errors, and the calendar arithmetic that
R7 (projection), R8 (previous / a year earlier) and R12 (target in force) rely on.

Pure: runs with ``-p no:django``.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpis import periods
from kpis.periods import (
    FREQUENCIES,
    YEAR_TYPES,
    Period,
    PeriodError,
    month,
    months_elapsed_share,
    parse_period,
    period_containing,
    period_kind_for,
    previous,
    shift_years,
    year_of,
)


@pytest.fixture(autouse=True)
def _plain_http() -> None:
    """Shadow tests/conftest.py's autouse fixture, which needs pytest-django's
    ``settings``: these tests are pure and run without Django (-p no:django)."""


# --- parsing every R11 form ------------------------------------------------------------

PARSED = [
    pytest.param("2018-04", "financial", date(2018, 4, 1), date(2018, 4, 30), "month", "financial", id="R11-month"),
    pytest.param("2016-02", "financial", date(2016, 2, 1), date(2016, 2, 29), "month", "financial", id="R11-month-leap-february"),
    pytest.param("2018-04", "academic", date(2018, 4, 1), date(2018, 4, 30), "month", "financial", id="R11-month-year-type-irrelevant"),
    pytest.param("2018/19 Q1", "financial", date(2018, 4, 1), date(2018, 6, 30), "quarter", "financial", id="R11-quarter-Q1-april-june"),
    pytest.param("2018/19 Q2", "financial", date(2018, 7, 1), date(2018, 9, 30), "quarter", "financial", id="R11-quarter-Q2"),
    pytest.param("2018/19 Q3", "financial", date(2018, 10, 1), date(2018, 12, 31), "quarter", "financial", id="R11-quarter-Q3"),
    pytest.param("2018/19 Q4", "financial", date(2019, 1, 1), date(2019, 3, 31), "quarter", "financial", id="R11-quarter-Q4-january-march-next-year"),
    pytest.param("2017/18 Autumn", "academic", date(2017, 9, 1), date(2017, 12, 31), "term", "academic", id="R11-term-autumn"),
    pytest.param("2017/18 Spring", "academic", date(2018, 1, 1), date(2018, 3, 31), "term", "academic", id="R11-term-spring"),
    pytest.param("2017/18 Summer", "academic", date(2018, 4, 1), date(2018, 8, 31), "term", "academic", id="R11-term-summer"),
    pytest.param("2017/18", "financial", date(2017, 4, 1), date(2018, 3, 31), "year", "financial", id="R11-financial-year"),
    pytest.param("2017/18", "academic", date(2017, 9, 1), date(2018, 8, 31), "year", "academic", id="R11-academic-year"),
    pytest.param("2018", "financial", date(2018, 1, 1), date(2018, 12, 31), "calendar_year", "calendar", id="R11-calendar-year"),
    pytest.param("2018", "calendar", date(2018, 1, 1), date(2018, 12, 31), "calendar_year", "calendar", id="R11-calendar-year-calendar-type"),
    pytest.param("1999/00", "financial", date(1999, 4, 1), date(2000, 3, 31), "year", "financial", id="R11-century-wrap"),
]  # fmt: skip


@pytest.mark.parametrize(("label", "year_type", "start", "end", "kind", "yt"), PARSED)
def test_parse_every_r11_form(
    label: str, year_type: str, start: date, end: date, kind: str, yt: str
) -> None:
    p = parse_period(label, year_type)
    assert (p.start, p.end, p.kind, p.label, p.year_type) == (start, end, kind, label, yt)
    assert parse_period(p.label, p.year_type) == p  # round trip


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        pytest.param("  2018-04 ", "2018-04", id="R11-strip-whitespace"),
        pytest.param("2017/18 autumn", "2017/18 Autumn", id="R11-term-lower-case"),
        pytest.param("2017/18 SPRING", "2017/18 Spring", id="R11-term-upper-case"),
        pytest.param("2017/18   sUmMeR", "2017/18 Summer", id="R11-term-extra-space"),
        pytest.param("2018/19 q1", "2018/19 Q1", id="R11-quarter-lower-case"),
        pytest.param("\t2017/18\n", "2017/18", id="R11-year-tabs"),
    ],
)
def test_parse_normalises_label(typed: str, label: str) -> None:
    assert parse_period(typed, "academic").label == label


def test_default_year_type_is_financial() -> None:
    assert parse_period("2017/18") == parse_period("2017/18", "financial")


BAD = [
    pytest.param("2018-13", "financial", id="R11-month-13"),
    pytest.param("2018-00", "financial", id="R11-month-00"),
    pytest.param("2018-4", "financial", id="R11-month-one-digit"),
    pytest.param("18-04", "financial", id="R11-two-digit-year"),
    pytest.param("2017/19", "financial", id="R11-year-second-part-not-next"),
    pytest.param("2017/2018", "financial", id="R11-year-four-digit-second-part"),
    pytest.param("2017/17 Q1", "financial", id="R11-quarter-second-part-wrong"),
    pytest.param("2018/19 Q5", "financial", id="R11-quarter-5"),
    pytest.param("2018/19 Q0", "financial", id="R11-quarter-0"),
    pytest.param("2017/18 Winter", "academic", id="R11-unknown-term"),
    pytest.param("2016/18 Autumn", "academic", id="R11-term-second-part-wrong"),
    pytest.param("2017/18", "calendar", id="R11-two-part-year-in-calendar-type"),
    pytest.param("April 2018", "financial", id="R11-words"),
    pytest.param("", "financial", id="R11-empty"),
    pytest.param("２０１８", "financial", id="R11-non-ascii-digits"),
    pytest.param("0000", "financial", id="R11-year-zero"),
    pytest.param("9999/00", "financial", id="R11-beyond-9999"),
]


@pytest.mark.parametrize(("label", "year_type"), BAD)
def test_bad_label_names_label_and_forms(label: str, year_type: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(label, year_type)
    message = str(caught.value)
    assert repr(label) in message
    assert "YYYY-MM" in message and "YYYY/YY Qn" in message and "Autumn|Spring|Summer" in message


def test_period_error_is_a_value_error() -> None:
    assert issubclass(PeriodError, ValueError)


def test_unknown_year_type_is_refused() -> None:
    with pytest.raises(PeriodError, match="fiscal"):
        parse_period("2017/18", "fiscal")


def test_year_2017_18_second_part_checked_with_message() -> None:
    with pytest.raises(PeriodError, match="must be 18, not 19"):
        parse_period("2017/19")


# --- Period itself ---------------------------------------------------------------------


def test_contains_is_inclusive_both_ends_R11_R12() -> None:
    q1 = parse_period("2018/19 Q1")
    assert q1.contains(date(2018, 4, 1))
    assert q1.contains(date(2018, 6, 30))
    assert not q1.contains(date(2018, 3, 31))
    assert not q1.contains(date(2018, 7, 1))


@pytest.mark.parametrize(
    ("label", "year_type", "months"),
    [
        pytest.param("2018-04", "financial", 1, id="month"),
        pytest.param("2018/19 Q4", "financial", 3, id="quarter"),
        pytest.param("2017/18 Autumn", "academic", 4, id="autumn"),
        pytest.param("2017/18 Spring", "academic", 3, id="spring"),
        pytest.param("2017/18 Summer", "academic", 5, id="summer"),
        pytest.param("2017/18", "financial", 12, id="financial-year"),
        pytest.param("2017/18", "academic", 12, id="academic-year"),
        pytest.param("2018", "calendar", 12, id="calendar-year"),
    ],
)
def test_months(label: str, year_type: str, months: int) -> None:
    assert parse_period(label, year_type).months() == months


def test_periods_sort_chronologically() -> None:
    labels = ["2018-05", "2017-12", "2018-01", "2018-04"]
    assert [p.label for p in sorted(parse_period(x) for x in labels)] == [
        "2017-12",
        "2018-01",
        "2018-04",
        "2018-05",
    ]


def test_period_is_frozen_and_hashable() -> None:
    p = month(2018, 4)
    with pytest.raises(AttributeError):
        p.label = "2018-05"  # type: ignore[misc]
    assert {p: 1}[parse_period("2018-04")] == 1


def test_period_refuses_end_before_start() -> None:
    with pytest.raises(PeriodError):
        Period(date(2018, 5, 1), date(2018, 4, 30), "month", "2018-05", "financial")


def test_month_builder() -> None:
    assert month(2018, 4) == parse_period("2018-04")
    with pytest.raises(PeriodError, match="2018-13"):
        month(2018, 13)


# --- frequency and kinds ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "year_type", "kind"),
    [
        ("monthly", "financial", "month"),
        ("quarterly", "financial", "quarter"),
        ("termly", "academic", "term"),
        ("annual", "financial", "year"),
        ("annual", "academic", "year"),
        ("annual", "calendar", "calendar_year"),
    ],
)
def test_period_kind_for(frequency: str, year_type: str, kind: str) -> None:
    assert period_kind_for(frequency, year_type) == kind


def test_period_kind_for_refuses_unknown_frequency() -> None:
    with pytest.raises(PeriodError, match="weekly"):
        period_kind_for("weekly", "financial")


@pytest.mark.parametrize(
    ("day", "frequency", "year_type", "label"),
    [
        pytest.param(date(2018, 4, 15), "monthly", "financial", "2018-04", id="month"),
        pytest.param(date(2018, 4, 1), "quarterly", "financial", "2018/19 Q1", id="Q1-first-day"),
        pytest.param(date(2018, 6, 30), "quarterly", "financial", "2018/19 Q1", id="Q1-last-day"),
        pytest.param(date(2018, 7, 1), "quarterly", "financial", "2018/19 Q2", id="Q2"),
        pytest.param(date(2018, 12, 31), "quarterly", "financial", "2018/19 Q3", id="Q3"),
        pytest.param(date(2019, 3, 31), "quarterly", "financial", "2018/19 Q4", id="Q4"),
        pytest.param(date(2017, 9, 1), "termly", "academic", "2017/18 Autumn", id="autumn"),
        pytest.param(date(2017, 12, 31), "termly", "academic", "2017/18 Autumn", id="autumn-end"),
        pytest.param(date(2018, 1, 1), "termly", "academic", "2017/18 Spring", id="spring"),
        pytest.param(date(2018, 4, 1), "termly", "academic", "2017/18 Summer", id="summer"),
        pytest.param(date(2018, 8, 31), "termly", "academic", "2017/18 Summer", id="summer-end"),
        pytest.param(date(2018, 3, 31), "annual", "financial", "2017/18", id="financial-year"),
        pytest.param(date(2018, 4, 1), "annual", "financial", "2018/19", id="financial-new"),
        pytest.param(date(2018, 8, 31), "annual", "academic", "2017/18", id="academic-year"),
        pytest.param(date(2018, 9, 1), "annual", "academic", "2018/19", id="academic-new"),
        pytest.param(date(2018, 3, 31), "annual", "calendar", "2018", id="calendar-year"),
    ],
)
def test_period_containing(day: date, frequency: str, year_type: str, label: str) -> None:
    p = period_containing(day, frequency, year_type)
    assert p.label == label
    assert p.contains(day)
    assert p.kind == period_kind_for(frequency, year_type)


def test_period_containing_annual_keeps_year_type() -> None:
    p = period_containing(date(2018, 1, 10), "annual", "academic")
    assert p == parse_period("2017/18", "academic")
    assert p != parse_period("2017/18", "financial")


# --- year_of, shift_years, previous ----------------------------------------------------


@pytest.mark.parametrize(
    ("label", "year_type", "expected"),
    [
        pytest.param("2018-04", "financial", "2018/19", id="april-financial"),
        pytest.param("2018-03", "financial", "2017/18", id="march-financial"),
        pytest.param("2018-09", "academic", "2018/19", id="september-academic"),
        pytest.param("2018-08", "academic", "2017/18", id="august-academic"),
        pytest.param("2018/19 Q4", "calendar", "2019", id="Q4-calendar"),
        pytest.param("2017/18 Spring", "financial", "2017/18", id="spring-financial"),
    ],
)
def test_year_of(label: str, year_type: str, expected: str) -> None:
    y = year_of(parse_period(label), year_type)
    assert y.label == expected
    assert y.year_type == year_type


@pytest.mark.parametrize(
    ("label", "year_type", "years", "expected"),
    [
        pytest.param("2018-04", "financial", -1, "2017-04", id="R8-month-year-earlier"),
        pytest.param("2018-01", "financial", 1, "2019-01", id="month-year-later"),
        pytest.param("2018/19 Q4", "financial", -1, "2017/18 Q4", id="R8-quarter"),
        pytest.param("2017/18 Autumn", "academic", -1, "2016/17 Autumn", id="R8-term"),
        pytest.param("2017/18 Summer", "academic", 2, "2019/20 Summer", id="term-two-later"),
        pytest.param("2017/18", "academic", -1, "2016/17", id="R8-academic-year"),
        pytest.param("2017/18", "financial", -1, "2016/17", id="R8-financial-year"),
        pytest.param("2018", "calendar", -1, "2017", id="R8-calendar-year"),
        pytest.param("1999/00", "financial", 1, "2000/01", id="century"),
    ],
)
def test_shift_years(label: str, year_type: str, years: int, expected: str) -> None:
    p = parse_period(label, year_type)
    shifted = shift_years(p, years)
    assert shifted == parse_period(expected, year_type)
    assert shifted.kind == p.kind and shifted.year_type == p.year_type


def test_shift_years_leap_february() -> None:
    assert shift_years(month(2016, 2), 1).end == date(2017, 2, 28)


def test_shift_years_out_of_range() -> None:
    with pytest.raises(PeriodError):
        shift_years(month(9999, 1), 1)


@pytest.mark.parametrize(
    ("label", "year_type", "expected"),
    [
        pytest.param("2018-01", "financial", "2017-12", id="R8-month-january-to-december"),
        pytest.param("2018-04", "financial", "2018-03", id="R8-month"),
        pytest.param("2018/19 Q1", "financial", "2017/18 Q4", id="R8-Q1-to-previous-Q4"),
        pytest.param("2018/19 Q3", "financial", "2018/19 Q2", id="R8-quarter"),
        pytest.param("2017/18 Autumn", "academic", "2016/17 Summer", id="R8-autumn-to-summer"),
        pytest.param("2017/18 Spring", "academic", "2017/18 Autumn", id="R8-spring-to-autumn"),
        pytest.param("2017/18 Summer", "academic", "2017/18 Spring", id="R8-summer-to-spring"),
        pytest.param("2017/18", "financial", "2016/17", id="R8-financial-year"),
        pytest.param("2017/18", "academic", "2016/17", id="R8-academic-year"),
        pytest.param("2018", "calendar", "2017", id="R8-calendar-year"),
    ],
)
def test_previous(label: str, year_type: str, expected: str) -> None:
    assert previous(parse_period(label, year_type)) == parse_period(expected, year_type)


def test_previous_of_the_first_month_is_refused() -> None:
    with pytest.raises(PeriodError):
        previous(month(1, 1))


# --- months_elapsed_share (R7) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "period_year_type", "year_type", "share"),
    [
        pytest.param("2018-04", "financial", "financial", Decimal(1) / Decimal(12), id="R7-april-financial-1/12"),
        pytest.param("2019-03", "financial", "financial", Decimal(1), id="R7-march-financial-1"),
        pytest.param("2018-09", "financial", "academic", Decimal(1) / Decimal(12), id="R7-september-academic-1/12"),
        pytest.param("2019-08", "financial", "academic", Decimal(1), id="R7-august-academic-1"),
        pytest.param("2018-06", "financial", "calendar", Decimal(6) / Decimal(12), id="R7-june-calendar"),
        pytest.param("2018/19 Q1", "financial", "financial", Decimal(3) / Decimal(12), id="R7-Q1"),
        pytest.param("2018/19 Q3", "financial", "financial", Decimal(9) / Decimal(12), id="R7-Q3"),
        pytest.param("2017/18 Autumn", "academic", "academic", Decimal(4) / Decimal(12), id="R7-autumn"),
        pytest.param("2017/18 Summer", "academic", "academic", Decimal(1), id="R7-summer"),
        pytest.param("2017/18", "financial", "financial", Decimal(1), id="R7-whole-year"),
        pytest.param("2017/18", "academic", "financial", Decimal(1), id="R7-longer-than-year-capped"),
    ],
)  # fmt: skip
def test_months_elapsed_share(
    label: str, period_year_type: str, year_type: str, share: Decimal
) -> None:
    result = months_elapsed_share(parse_period(label, period_year_type), year_type)
    assert isinstance(result, Decimal)
    assert result == share


def test_months_elapsed_share_april_is_exactly_one_twelfth() -> None:
    assert months_elapsed_share(month(2018, 4), "financial") == Decimal(1) / Decimal(12)


# --- properties ------------------------------------------------------------------------

days = st.dates(min_value=date(1901, 1, 1), max_value=date(2098, 12, 31))
frequency_and_type = st.sampled_from(
    [(f, y) for f in FREQUENCIES for y in YEAR_TYPES if not (f == "termly" and y != "academic")]
)


@given(days, frequency_and_type)
def test_property_period_containing_contains_and_round_trips_R11(
    day: date, fy: tuple[str, str]
) -> None:
    frequency, year_type = fy
    p = period_containing(day, frequency, year_type)
    assert p.contains(day)
    assert p.start.day == 1 and (p.end + timedelta(days=1)).day == 1  # whole months
    assert parse_period(p.label, p.year_type) == p
    assert parse_period(f"  {p.label.lower()} ", p.year_type) == p


@given(days, frequency_and_type)
def test_property_previous_ends_the_day_before_R8(day: date, fy: tuple[str, str]) -> None:
    p = period_containing(day, *fy)
    before = previous(p)
    assert before.end + timedelta(days=1) == p.start
    assert before.kind == p.kind and before.year_type == p.year_type


@given(days, frequency_and_type, st.integers(min_value=-50, max_value=50))
def test_property_shift_years_round_trips_R8(day: date, fy: tuple[str, str], years: int) -> None:
    p = period_containing(day, *fy)
    shifted = shift_years(p, years)
    assert shift_years(shifted, -years) == p
    assert shifted.months() == p.months()
    assert shifted.start.month == p.start.month


@given(days, frequency_and_type)
def test_property_share_is_whole_twelfths_R7(day: date, fy: tuple[str, str]) -> None:
    share = months_elapsed_share(period_containing(day, *fy), fy[1])
    assert Decimal(0) < share <= Decimal(1)
    assert (share * 12).quantize(Decimal("0.000001")) % 1 == 0


def test_module_exports() -> None:
    for name in periods.__all__:
        assert hasattr(periods, name)
