"""Working days and each contract's reporting calendar.

A return falls due a number of *working* days after its month ends, and reminders and
escalations are counted in working days too. A working day is Monday to Friday and not a
bank holiday in England and Wales (England's list: Wales has the same bank holidays).
The holidays come from the ``holidays`` package, which computes them offline (substitute
days and one-off holidays included), so nothing here touches the network.

Pure functions of dates: no database. ``ReportingCalendar`` rows hold the numbers; a
contract without one uses the model's defaults (``calendar_of``).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

from contracts.models import Contract, ReportingCalendar
from kpis import periods

# England and Wales share their bank holidays; the package files them under England.
COUNTRY, SUBDIVISION = "GB", "ENG"


@lru_cache(maxsize=128)
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays of one year (observed substitute days included)."""
    return frozenset(holidays.country_holidays(COUNTRY, subdiv=SUBDIVISION, years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def add_working_days(day: date, n: int) -> date:
    """The ``n``-th working day after ``day`` (``n`` < 0: before it); ``n`` = 0 gives ``day``.

    ``day`` itself never counts, working day or not: ten working days after Monday
    30 April 2018 is Tuesday 15 May 2018 (7 May was a bank holiday).
    """
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    while remaining:
        day += timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return day


def calendar_of(contract: Contract) -> ReportingCalendar:
    """The contract's calendar, or an unsaved one with the defaults when it has none."""
    try:
        return contract.calendar
    except ReportingCalendar.DoesNotExist:
        return ReportingCalendar(contract=contract)


def _month(month: periods.Period | str) -> periods.Period:
    period = periods.parse_period(month) if isinstance(month, str) else month
    if period.kind != "month":
        raise periods.PeriodError(f"'{period.label}' is not a month (YYYY-MM).")
    return period


def opens_on(calendar: ReportingCalendar, month: periods.Period | str) -> date:
    """The day a month's return opens: its ``opens_on_day`` (the last day in a short month)."""
    period = _month(month)
    return min(period.start + timedelta(days=max(calendar.opens_on_day, 1) - 1), period.end)


def due_date(calendar: ReportingCalendar, month: periods.Period | str) -> date:
    """``due_working_days`` working days after the month ends."""
    return add_working_days(_month(month).end, calendar.due_working_days)


def reminder_date(calendar: ReportingCalendar, due: date) -> date:
    """``reminder_working_days`` working days before the due date."""
    return add_working_days(due, -calendar.reminder_working_days)


def escalation_date(calendar: ReportingCalendar, due: date) -> date:
    """``escalation_working_days`` working days after the due date."""
    return add_working_days(due, calendar.escalation_working_days)
