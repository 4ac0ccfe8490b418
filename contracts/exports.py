"""Lists as spreadsheets (.xlsx and .csv), safe against formula injection (issue 6).

A text that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) would
run as a formula when a spreadsheet program opens the file: a note written as
``=HYPERLINK("http://evil.example", "click")`` would become a link, a DDE call could run
a program. Every such text is written with an apostrophe in front, the OWASP advice, so
it shows as text and cannot run; the imports (``contracts.imports``) drop that
apostrophe again, so an exported file imports back unchanged. Numbers and dates are
written as numbers and dates (a negative number is a number, not a formula).

The lists: a contract's measures, targets, figures, comparators, series breaks and data
gaps (in the import headings of interfaces.md, so an export is also an import file), the
monthly scorecard with its verdicts, and a return's history.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from contracts.imports import FORMULA_TRIGGERS, column_letter
from contracts.models import Contract, MonthlyReturn
from contracts.resources import RESOURCES, number
from contracts.returns_forms import plain_number
from kpis import periods, rating
from kpis.scorecard import build_scorecard
from kpis.words import VERDICT_WORDS

FORMATS = ("xlsx", "csv")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def safe_text(text: str) -> str:
    """A text that cannot run as a formula: an apostrophe before a dangerous first character."""
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


@dataclass
class Sheet:
    """A list to write: a title (the sheet's name), its headings and its rows."""

    title: str
    headings: Sequence[str]
    rows: Iterable[Sequence[Any]]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return plain_number(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
            if timezone.is_aware(value)
            else value.isoformat(sep=" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    return safe_text(str(value))


def write_csv(sheet: Sheet) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_csv_cell(h) for h in sheet.headings])
    for row in sheet.rows:
        writer.writerow([_csv_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_value(value: Any) -> Any:
    """A value as a workbook cell holds it: numbers and dates as such, texts never formulas."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return Decimal(plain_number(value))
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, (int, float, date)):
        return value
    return safe_text(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def write_xlsx(sheets: Sheet | Sequence[Sheet]) -> bytes:
    """One or more lists as a workbook, headings bold and frozen; texts never formulas."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    if isinstance(sheets, Sheet):
        sheets = [sheets]
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet in sheets:
        ws = workbook.create_sheet(title=_sheet_title(sheet.title))
        for i, heading in enumerate(sheet.headings):
            ws.column_dimensions[column_letter(i)].width = max(12, min(40, len(str(heading)) + 4))
        ws.freeze_panes = "A2"
        header = []
        for heading in sheet.headings:
            cell = WriteOnlyCell(ws, value=xlsx_value(heading))
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in sheet.rows:
            values = [xlsx_value(v) for v in row]
            if any(isinstance(v, (date, datetime)) for v in values):
                cells = []
                for v in values:
                    cell = WriteOnlyCell(ws, value=v)
                    if isinstance(v, datetime):
                        cell.number_format = "yyyy-mm-dd hh:mm"
                    elif isinstance(v, date):
                        cell.number_format = "yyyy-mm-dd"
                    cells.append(cell)
                ws.append(cells)
            else:
                ws.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(title: str) -> str:
    for char in "[]:*?/\\":
        title = title.replace(char, " ")
    return title[:31] or "Sheet"


def render(sheet: Sheet, fmt: str) -> bytes:
    if fmt == "xlsx":
        return write_xlsx(sheet)
    if fmt == "csv":
        return write_csv(sheet)
    raise ValueError(f"Unknown format {fmt!r}; one of {', '.join(FORMATS)}.")


def response(sheet: Sheet, fmt: str, file_stem: str) -> HttpResponse:
    """The list as a download named ``<file_stem>.<fmt>``."""
    body = render(sheet, fmt)
    answer = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    stem = "".join(c if c.isalnum() or c in "-_." else "-" for c in file_stem)
    answer["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    answer["X-Content-Type-Options"] = "nosniff"
    return answer


# --- the lists -------------------------------------------------------------------------


def contract_sheet(kind: str, contract: Contract, *, include_drafts: bool = True) -> Sheet:
    """One of a contract's lists in its import headings (an export is an import file)."""
    resource = RESOURCES[kind]()
    dataset = resource.export(
        queryset=resource.contract_queryset(contract, include_drafts=include_drafts)
    )
    return Sheet(kind, list(dataset.headers), [list(r) for r in dataset])


SCORECARD_HEADINGS = (
    "code",
    "title",
    "kind",
    "unit",
    "period",
    "as_at",
    "value",
    "numerator",
    "denominator",
    "display_value",
    "target_words",
    "target",
    "target_low",
    "target_high",
    "tolerance_low",
    "tolerance_high",
    "status",
    "verdict",
    "reason",
    "direction_previous",
    "direction_year",
    "flags",
    "official",
)


def scorecard_sheet(contract: Contract, month: periods.Period, *, include_drafts: bool) -> Sheet:
    """The monthly scorecard (R13) with every verdict and its reason, as the API gives it."""
    rows = []
    for row in build_scorecard(contract.measure_set, month, include_drafts=include_drafts):
        measure = row.measure
        definition = measure.as_definition()
        bounds = row.verdict.bounds
        obs = row.observation
        rows.append(
            [
                measure.code,
                measure.title,
                measure.kind,
                measure.unit,
                row.period,
                row.as_at,
                number(row.value),
                number(obs.numerator) if obs else None,
                number(obs.denominator) if obs else None,
                row.display_value,
                rating.target_words(definition, row.target.as_spec() if row.target else None),
                number(bounds.target) if bounds else None,
                number(bounds.target_low) if bounds else None,
                number(bounds.target_high) if bounds else None,
                number(bounds.tolerance_low) if bounds else None,
                number(bounds.tolerance_high) if bounds else None,
                str(row.verdict.status),
                VERDICT_WORDS[row.verdict.status],
                row.verdict.reason,
                str(row.direction_previous),
                str(row.direction_year),
                " ".join(str(f) for f in row.flags),
                None if obs is None else obs.is_official,
            ]
        )
    return Sheet(f"Scorecard {month.label}", SCORECARD_HEADINGS, rows)


HISTORY_HEADINGS = ("at", "action", "by", "from_state", "to_state", "reason", "detail")


def _detail_words(detail: dict[str, Any]) -> str:
    """An event's detail in words: "value: 90 → 92.1; note: → rolling 12 months"."""
    parts = []
    for key, value in (detail or {}).items():
        if key == "changes" and isinstance(value, dict):
            for name, change in value.items():
                if name != "actions" and isinstance(change, list) and len(change) == 2:
                    old, new = ("" if v is None else v for v in change)
                    parts.append(f"{name}: {old} → {new}")
                else:
                    parts.append(
                        f"{name}: {', '.join(map(str, change)) if isinstance(change, list) else change}"
                    )
        elif isinstance(value, list):
            parts.append(f"{key}: {', '.join(str(v) for v in value)}")
        else:
            parts.append(f"{key}: {value}")
    return "; ".join(parts)


def history_sheet(monthly_return: MonthlyReturn) -> Sheet:
    """A return's history: every event, who, when, from which state to which, and why."""
    rows = [
        [
            event.at,
            event.get_action_display(),
            event.actor.get_username() if event.actor else "the scheduler",
            event.get_from_state_display() if event.from_state else "",
            event.get_to_state_display(),
            event.reason,
            _detail_words(event.detail),
        ]
        for event in monthly_return.events.select_related("actor").order_by("at", "pk")
    ]
    return Sheet(f"History {monthly_return.period}", HISTORY_HEADINGS, rows)
