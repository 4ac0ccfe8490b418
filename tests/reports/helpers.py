"""Builders for the report tests: plain series for the pure modules, and contracts with
figures, returns and targets for the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from contracts.models import Action, Entry, MonthlyReturn, ReturnState
from kpis import periods, rating
from kpis.models import Observation
from reports.series import Break, ComparatorValue, Gap, Point, Series


def point(label: str, value: str, *, decimals: int = 1, unit: str = "percent", **extra) -> Point:
    defn = rating.Definition(code="T", polarity="up", unit=unit, decimals=decimals,
                             per=Decimal(10000) if unit == "rate" else None)
    period = periods.parse_period(label)
    return Point(
        period=period,
        value=Decimal(value),
        shown=rating.format_value(defn, Decimal(value)),
        status=extra.pop("status", "on_target"),
        reason="",
        as_at=extra.pop("as_at", None),
        flags=tuple(extra.pop("flags", ())),
        official=extra.pop("official", True),
        note="",
        numerator=extra.pop("numerator", None),
        denominator=extra.pop("denominator", None),
        second_value=extra.pop("second_value", None),
        second_source=extra.pop("second_source", ""),
        projected=extra.pop("projected", None),
    )


def monthly(start: str, values: list[str | None], **kw) -> list[Point]:
    """Consecutive months from ``start``; None leaves a month out (a gap)."""
    first = periods.parse_period(start)
    out = []
    for i, value in enumerate(values):
        if value is not None:
            out.append(point(periods.add_months(first, i).label, value, **kw))
    return out


def series(
    points: list[Point],
    *,
    unit: str = "percent",
    polarity: str | None = "up",
    decimals: int = 1,
    cumulative: bool = False,
    breaks: tuple[tuple[str, str], ...] = (),
    gaps: tuple[tuple[dt.date, dt.date, str], ...] = (),
    comparators: tuple[tuple[str, str, str, bool], ...] = (),
    period_kind: str = "month",
) -> Series:
    defn = rating.Definition(
        code="KPI 1", polarity=polarity, unit=unit, decimals=decimals, cumulative=cumulative,
        per=Decimal(10000) if unit == "rate" else None,
    )
    return Series(
        code="KPI 1",
        slug="kpi-1",
        title="Referrals decided within 24 hours",
        kind="kpi",
        definition=defn,
        period_kind=period_kind,
        points=tuple(points),
        breaks=tuple(
            Break(periods.parse_period(label).start, label, reason) for label, reason in breaks
        ),
        gaps=tuple(Gap(start, end, reason) for start, end, reason in gaps),
        comparators=tuple(
            ComparatorValue(group, label, periods.parse_period(label).end, Decimal(value), ok, "")
            for group, label, value, ok in comparators
        ),
    )


def signed_off_return(contract, month: str, entries: dict, *, state=ReturnState.SIGNED_OFF):
    """A return for the month with an entry per measure: {measure: (reason, [actions])}."""
    period = periods.parse_period(month)
    monthly_return = MonthlyReturn.objects.create(
        contract=contract, period=period.label, period_start=period.start,
        period_end=period.end, state=state,
    )
    for measure, (reason, actions) in entries.items():
        entry = Entry.objects.create(
            monthly_return=monthly_return, measure=measure, period=period.label,
            observation=Observation.objects.filter(measure=measure, period=period.label).first(),
            variance_reason=reason,
        )
        for description in actions:
            Action.objects.create(entry=entry, description=description, owner="Head of service",
                                  due_date=dt.date(2018, 6, 30))
    return monthly_return


def require_pdf_tools() -> None:
    """WeasyPrint's libraries to write PDFs and poppler's pdftotext to read them back."""
    import shutil

    from reports import render
    from tests.conftest import require_system_part

    try:
        render.weasyprint()
        found = True
    except render.PdfUnavailable:
        found = False
    require_system_part("WeasyPrint's libraries", found, f"apt-get install -y {render.PDF_LIBRARIES}")
    require_system_part("pdftotext", shutil.which("pdftotext") is not None, "apt-get install -y poppler-utils")
