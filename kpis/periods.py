"""Periods that figures cover (R11), as plain values with no database behind them.

Why a module of its own: every figure covers a period (R11), a target is chosen by the
period a figure covers (R12), the scorecard finds "the same period a year earlier" for
direction of travel (R8) and cumulative measures are projected by the share of the year
elapsed (R7). All of these must agree on what "2018/19 Q1" or "2017/18 Autumn" means, so
the calendar arithmetic lives here once, and only here.

The labels are exactly those of R11:

==================  ==========================  ==========================================
kind                label                       covers
==================  ==========================  ==========================================
``month``           ``2018-04``                 the calendar month
``quarter``         ``2018/19 Q1``              a financial quarter: Q1 April-June,
                                                Q2 July-September, Q3 October-December,
                                                Q4 January-March (of 2019 here)
``term``            ``2017/18 Autumn``          a school term of the academic year 2017/18
``year``            ``2017/18``                 financial year 1 Apr 2017 - 31 Mar 2018, or
                                                academic year 1 Sep 2017 - 31 Aug 2018, by the
                                                measure's year type
``calendar_year``   ``2018``                    1 Jan - 31 Dec 2018
==================  ==========================  ==========================================

School terms. Term dates differ between schools and Easter moves, so the product uses a
stable convention in which the three terms tile the academic year with no gaps, and every
date falls in exactly one term:

* Autumn: 1 September - 31 December
* Spring: 1 January - 31 March
* Summer: 1 April - 31 August

Year types. A ``Period`` carries the year type it belongs to, so that equal labels give
equal periods: months and quarters are always ``financial`` (a quarter is a financial
quarter, R11; a month's year type is irrelevant and normalised so that "2018-04" is one
value however it was parsed), terms always ``academic`` (terms belong to academic years),
calendar years always ``calendar``; only a ``year`` ("2017/18") is financial or academic,
which is why ``parse_period`` takes the measure's year type.

Every period starts on the first of a month and ends on the last day of a month, so
``Period.months`` and ``months_elapsed_share`` count whole months.

Labels round-trip: ``parse_period(p.label, p.year_type) == p`` for every period built here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

__all__ = [
    "FREQUENCIES",
    "KINDS",
    "TERMS",
    "YEAR_TYPES",
    "Period",
    "add_months",
    "due_period",
    "PeriodError",
    "month",
    "months_elapsed_share",
    "parse_period",
    "period_containing",
    "period_kind_for",
    "previous",
    "shift_years",
    "year_of",
]

YEAR_TYPES = ("financial", "academic", "calendar")
FREQUENCIES = ("monthly", "quarterly", "termly", "annual")
KINDS = ("month", "quarter", "term", "year", "calendar_year")
# In order through the academic year; (first month, last month, offset of the calendar
# year from the academic year's first year).
TERMS = ("Autumn", "Spring", "Summer")
_TERM_MONTHS = {"Autumn": (9, 12, 0), "Spring": (1, 3, 1), "Summer": (4, 8, 1)}
_YEAR_START_MONTH = {"financial": 4, "academic": 9, "calendar": 1}
_KIND_FREQUENCY = {
    "month": "monthly",
    "quarter": "quarterly",
    "term": "termly",
    "year": "annual",
    "calendar_year": "annual",
}

ACCEPTED_FORMS = (
    "YYYY-MM (a month, e.g. 2018-04), "
    "YYYY/YY Qn (a financial quarter, Q1 = April to June, e.g. 2018/19 Q1), "
    "YYYY/YY Autumn|Spring|Summer (a school term, e.g. 2017/18 Autumn), "
    "YYYY/YY (a financial or academic year, e.g. 2017/18) or "
    "YYYY (a calendar year, e.g. 2018)"
)

# re.ASCII: only 0-9 are digits in a label, not other scripts' digits.
_MONTH_RE = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_QUARTER_RE = re.compile(r"(\d{4})/(\d{2})\s+Q([1-4])", re.ASCII | re.IGNORECASE)
_TERM_RE = re.compile(r"(\d{4})/(\d{2})\s+(autumn|spring|summer)", re.ASCII | re.IGNORECASE)
_YEAR_RE = re.compile(r"(\d{4})/(\d{2})", re.ASCII)
_CALENDAR_RE = re.compile(r"(\d{4})", re.ASCII)


class PeriodError(ValueError):
    """A period label (or a period request) that R11 does not allow.

    A ``ValueError`` so that callers validating user input can catch either; the message
    always names the offending label and, for labels, the accepted forms, because it is
    shown to the person who typed it.
    """


@dataclass(frozen=True, order=True)
class Period:
    """A period a figure covers (R11): inclusive dates, kind, normalised label, year type.

    Frozen and ordered so periods can be dictionary keys and sorted chronologically
    (``start`` is the first field compared).
    """

    start: date
    end: date
    kind: str
    label: str
    year_type: str

    def __post_init__(self) -> None:
        # Refuse nonsense at construction, so a bad period cannot travel far (R11).
        if self.kind not in KINDS:
            raise PeriodError(f"{self.label!r}: unknown period kind {self.kind!r}; one of {KINDS}")
        if self.year_type not in YEAR_TYPES:
            raise PeriodError(
                f"{self.label!r}: unknown year type {self.year_type!r}; one of {YEAR_TYPES}"
            )
        if self.end < self.start:
            raise PeriodError(f"{self.label!r}: ends {self.end} before it starts {self.start}")

    def contains(self, d: date) -> bool:
        """Whether a day falls in the period; both ends count (R11, R12 inclusive)."""
        return self.start <= d <= self.end

    def months(self) -> int:
        """How many whole months the period covers (every period is whole months)."""
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def __str__(self) -> str:
        return self.label


# --- building blocks -------------------------------------------------------------------


def _last_day(year: int, month_: int) -> date:
    """The last day of a month, found without a calendar table."""
    if month_ == 12:
        return date(year, 12, 31)
    return date(year, month_ + 1, 1) - timedelta(days=1)


def _span_label(first_year: int) -> str:
    """``2017`` -> ``"2017/18"``, the R11 form of a financial or academic year."""
    return f"{first_year:04d}/{(first_year + 1) % 100:02d}"


@contextmanager
def _guard(label: str) -> Iterator[None]:
    """Turn ``date`` range errors (year 0, year 10000) into a ``PeriodError`` naming the label."""
    try:
        yield
    except PeriodError:
        raise
    except (ValueError, OverflowError) as exc:
        raise PeriodError(
            f"{label!r} is outside the dates this product can hold (years 0001 to 9999); "
            f"accepted forms: {ACCEPTED_FORMS}"
        ) from exc


def _month(year: int, month_: int) -> Period:
    label = f"{year:04d}-{month_:02d}"
    if not 1 <= month_ <= 12:
        raise PeriodError(
            f"{label!r}: the month must be 01 to 12; accepted forms: {ACCEPTED_FORMS}"
        )
    with _guard(label):
        return Period(date(year, month_, 1), _last_day(year, month_), "month", label, "financial")


def _quarter(financial_year: int, n: int) -> Period:
    """Financial quarter ``n`` (1-4) of the financial year starting April ``financial_year``."""
    label = f"{_span_label(financial_year)} Q{n}"
    first = 4 + 3 * (n - 1)  # 4, 7, 10, 13 (13 = January of the next year)
    year = financial_year + (first - 1) // 12
    first = (first - 1) % 12 + 1
    with _guard(label):
        return Period(
            date(year, first, 1), _last_day(year, first + 2), "quarter", label, "financial"
        )


def _term(academic_year: int, name: str) -> Period:
    """A school term of the academic year starting September ``academic_year``."""
    label = f"{_span_label(academic_year)} {name}"
    first, last, offset = _TERM_MONTHS[name]
    with _guard(label):
        return Period(
            date(academic_year + offset, first, 1),
            _last_day(academic_year + offset, last),
            "term",
            label,
            "academic",
        )


def _year(first_year: int, year_type: str) -> Period:
    """The financial, academic or calendar year starting in ``first_year``."""
    if year_type == "calendar":
        label = f"{first_year:04d}"
        with _guard(label):
            return Period(
                date(first_year, 1, 1), date(first_year, 12, 31), "calendar_year", label, "calendar"
            )
    label = _span_label(first_year)
    start_month = _YEAR_START_MONTH[year_type]
    with _guard(label):
        return Period(
            date(first_year, start_month, 1),
            _last_day(first_year + 1, start_month - 1),
            "year",
            label,
            year_type,
        )


def _year_start(d: date, year_type: str) -> int:
    """The first calendar year of the year (of ``year_type``) that contains ``d``."""
    return d.year if d.month >= _YEAR_START_MONTH[year_type] else d.year - 1


def _check_year_type(year_type: str) -> None:
    if year_type not in YEAR_TYPES:
        raise PeriodError(f"unknown year type {year_type!r}; one of {', '.join(YEAR_TYPES)}")


def _check_frequency(frequency: str) -> None:
    if frequency not in FREQUENCIES:
        raise PeriodError(f"unknown frequency {frequency!r}; one of {', '.join(FREQUENCIES)}")


def _bad(label: str, why: str) -> PeriodError:
    return PeriodError(f"{label!r} is not a period label ({why}); accepted forms: {ACCEPTED_FORMS}")


def _span_first_year(label: str, first: str, second: str) -> int:
    """Check ``YYYY/YY``: the second part must be the next year's last two digits (R11)."""
    year = int(first)
    if int(second) != (year + 1) % 100:
        raise _bad(label, f"after {first}/ the year must be {(year + 1) % 100:02d}, not {second}")
    return year


# --- public API ------------------------------------------------------------------------


def parse_period(label: str, year_type: str = "financial") -> Period:
    """Parse any R11 label into a ``Period``.

    Why the year type: "2017/18" alone is a financial year for one measure and an
    academic year for another (R11); the caller passes the measure's year type. The other
    forms are unambiguous and ignore it. Surrounding whitespace is stripped and the term
    and quarter words are accepted in any case, but the resulting label is normalised
    ("2017/18 Autumn"), so stored labels compare equal.
    """
    _check_year_type(year_type)
    if not isinstance(label, str):
        raise PeriodError(f"{label!r} is not a period label; accepted forms: {ACCEPTED_FORMS}")
    text = label.strip()
    if m := _MONTH_RE.fullmatch(text):
        month_ = int(m.group(2))
        if not 1 <= month_ <= 12:
            raise _bad(label, f"there is no month {m.group(2)}")
        with _guard(label):
            return _month(int(m.group(1)), month_)
    if m := _QUARTER_RE.fullmatch(text):
        year = _span_first_year(label, m.group(1), m.group(2))
        with _guard(label):
            return _quarter(year, int(m.group(3)))
    if m := _TERM_RE.fullmatch(text):
        year = _span_first_year(label, m.group(1), m.group(2))
        with _guard(label):
            return _term(year, m.group(3).capitalize())
    if m := _YEAR_RE.fullmatch(text):
        year = _span_first_year(label, m.group(1), m.group(2))
        if year_type == "calendar":
            raise _bad(
                label,
                "a two-part year is a financial or academic year, but the year type is "
                "calendar: write a calendar year as YYYY",
            )
        with _guard(label):
            return _year(year, year_type)
    if m := _CALENDAR_RE.fullmatch(text):
        with _guard(label):
            return _year(int(m.group(1)), "calendar")
    raise _bad(label, "not in any accepted form")


def month(year: int, month: int) -> Period:
    """The calendar month ``YYYY-MM`` (R11): the scorecard's unit of time (R13)."""
    return _month(year, month)


def period_kind_for(frequency: str, year_type: str) -> str:
    """The period kind a measure of this frequency and year type reports on (R11).

    Why: a monthly measure's figure must cover a month, an annual one a year of its year
    type; callers compare this with a parsed label's kind to refuse mismatches.
    """
    _check_frequency(frequency)
    _check_year_type(year_type)
    if frequency == "annual":
        return "calendar_year" if year_type == "calendar" else "year"
    return {"monthly": "month", "quarterly": "quarter", "termly": "term"}[frequency]


def period_containing(d: date, frequency: str, year_type: str) -> Period:
    """The period of a measure's frequency (and year type) that contains a day (R11).

    Monthly -> the month; quarterly -> the financial quarter; termly -> the school term;
    annual -> the year of the year type (a calendar year when the type is calendar).
    """
    _check_frequency(frequency)
    _check_year_type(year_type)
    if frequency == "monthly":
        return _month(d.year, d.month)
    if frequency == "quarterly":
        fy = _year_start(d, "financial")
        months_in = (d.month - 4) % 12  # 0 for April
        return _quarter(fy, months_in // 3 + 1)
    if frequency == "termly":
        ay = _year_start(d, "academic")
        name = next(t for t, (first, last, _) in _TERM_MONTHS.items() if first <= d.month <= last)
        return _term(ay, name)
    return _year(_year_start(d, year_type), year_type)


def year_of(p: Period, year_type: str) -> Period:
    """The year (of ``year_type``) that contains the period's first day.

    Why the first day: a figure's year for cumulative projection (R7) and for target
    validity (R12) is the year its period begins in; periods built here never straddle
    their own year.
    """
    _check_year_type(year_type)
    return _year(_year_start(p.start, year_type), year_type)


def shift_years(p: Period, years: int) -> Period:
    """The same period ``years`` years later (negative: earlier), relabelled.

    Why: direction of travel compares a figure with "the figure a year earlier" (R8),
    which is the same month, quarter, term or year one year back.
    """
    with _guard(p.label):
        if p.kind == "month":
            return _month(p.start.year + years, p.start.month)
        if p.kind == "quarter":
            fy = _year_start(p.start, "financial")
            return _quarter(fy + years, (p.start.month - 4) % 12 // 3 + 1)
        if p.kind == "term":
            ay = _year_start(p.start, "academic")
            name = next(t for t, (first, _, _) in _TERM_MONTHS.items() if first == p.start.month)
            return _term(ay + years, name)
        return _year(_year_start(p.start, p.year_type) + years, p.year_type)


def previous(p: Period) -> Period:
    """The immediately preceding period of the same kind (R8's "previous figure").

    January's previous is the December before, Q1's the previous year's Q4, Autumn's the
    previous academic year's Summer, a year's the year before.
    """
    with _guard(p.label):
        day_before = p.start - timedelta(days=1)
    return period_containing(day_before, _KIND_FREQUENCY[p.kind], p.year_type)


def months_elapsed_share(p: Period, year_type: str) -> Decimal:
    """Share of the year (of ``year_type``) elapsed at the period's end, in whole months.

    Why: R7 projects a cumulative figure to the year end by dividing it by this share
    (36 in April of a financial year, share 1/12, projects to 432). Whole months, because
    every figure covers whole months. The share is at most 1 (a period running past its
    year's end, e.g. an academic year measured in a financial year, counts as the whole
    year). April of a financial year gives ``Decimal(1) / Decimal(12)``.
    """
    year = year_of(p, year_type)
    elapsed = (p.end.year - year.start.year) * 12 + p.end.month - year.start.month + 1
    elapsed = max(1, min(12, elapsed))
    return Decimal(elapsed) / Decimal(12)


def add_months(p: Period, months: int) -> Period:
    """The calendar month ``months`` after (negative: before) a month period."""
    if p.kind != "month":
        raise PeriodError(f"'{p.label}' is not a month")
    index = p.start.year * 12 + p.start.month - 1 + months
    return _month(index // 12, index % 12 + 1)


def due_period(frequency: str, year_type: str, reported_in: Period, lag_months: int = 0) -> Period | None:
    """The period whose figure is due in the return of month ``reported_in``, if any.

    Why: a figure belongs to the return of the month in which it is reported (R13); a
    quarterly, termly or annual measure is due in the month its period ends, or
    ``lag_months`` later where its data arrives late (KPI 4's quarter to September 2017
    in the April 2018 return, with a lag of seven months). ``None``: nothing is due.
    """
    ended_in = add_months(reported_in, -lag_months)
    period = period_containing(ended_in.end, frequency, year_type)
    return period if period.end == ended_in.end else None
