"""Working days skip weekends and England and Wales bank holidays, offline."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts import calendar
from contracts.models import ReportingCalendar

D = dt.date


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2018, 5, 4), 1, D(2018, 5, 8)),  # Friday -> Tuesday: weekend, then May Day (7 May)
        (D(2018, 4, 30), 10, D(2018, 5, 15)),  # April 2018's return: 7 May was a bank holiday
        (D(2018, 3, 29), 1, D(2018, 4, 3)),  # Good Friday and Easter Monday
        (
            D(2021, 12, 24),
            1,
            D(2021, 12, 29),
        ),  # Christmas and Boxing Day on a weekend: substitutes 27, 28
        (D(2018, 5, 15), -3, D(2018, 5, 10)),
        (D(2018, 5, 8), -1, D(2018, 5, 4)),  # back over the bank holiday and the weekend
        (D(2018, 5, 6), 0, D(2018, 5, 6)),
    ],
)
def test_working_days_skip_weekends_and_bank_holidays(start, n, expected):
    assert calendar.add_working_days(start, n) == expected


def test_one_off_bank_holidays_count_too():
    assert not calendar.is_working_day(D(2022, 9, 19))  # the state funeral
    assert not calendar.is_working_day(D(2023, 5, 8))  # the coronation
    assert calendar.is_working_day(D(2018, 5, 9))


def test_the_april_2018_return_is_due_on_15_may_reminded_on_10_and_escalated_on_16():
    cal = (
        ReportingCalendar()
    )  # the defaults: 10 working days, reminder 3 before, escalation 1 after
    due = calendar.due_date(cal, "2018-04")
    assert due == D(2018, 5, 15)
    assert calendar.reminder_date(cal, due) == D(2018, 5, 10)
    assert calendar.escalation_date(cal, due) == D(2018, 5, 16)


def test_a_return_opens_on_its_day_or_the_last_day_of_a_short_month():
    assert calendar.opens_on(ReportingCalendar(opens_on_day=1), "2018-04") == D(2018, 4, 1)
    assert calendar.opens_on(ReportingCalendar(opens_on_day=31), "2018-02") == D(2018, 2, 28)


def test_only_a_month_has_a_due_date():
    with pytest.raises(ValueError, match="not a month"):
        calendar.due_date(ReportingCalendar(), "2018/19 Q1")
