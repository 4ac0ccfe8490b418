"""The scorecard as an Excel workbook (openpyxl).

Text typed by people (titles, notes, reasons) goes into the workbook as text, never as a
formula: a cell whose text starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage
return) is stored as a string with Excel's quote prefix, so opening the workbook runs
nothing (formula injection, OWASP "CSV injection").
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from contracts.models import Contract
from kpis import periods, rating
from kpis.models import Kind
from kpis.scorecard import ScorecardRow
from kpis.words import DIRECTION_WORDS, FLAG_WORDS, VERDICT_WORDS
from reports import spc_text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = (
    ("Code", 10), ("Measure", 50), ("Kind", 24), ("Unit", 12), ("Period covered", 16),
    ("As at", 12), ("Value", 10), ("Value as shown", 16), ("Numerator", 11),
    ("Denominator", 12), ("Target and tolerance", 34), ("Target", 9), ("Tolerance from", 14),
    ("Tolerance up to", 14), ("Verdict", 18), ("Reason", 60), ("Since the previous figure", 22),
    ("Since a year earlier", 20), ("Flags", 30), ("Variation", 26),
    ("Assurance against the target", 24), ("Assurance against the tolerance", 26),
)


def _put(ws, row: int, column: int, value: Any) -> None:
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = TYPE_STRING  # never a formula, whatever it starts with
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True
    else:
        cell.value = value


def _number(value) -> float | None:
    return None if value is None else float(value)


def scorecard_workbook(contract: Contract, month: periods.Period, rows: list[ScorecardRow]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Scorecard"
    _put(ws, 1, 1, f"{contract.name}: scorecard for {month.start:%B %Y}")
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    _put(ws, 2, 1, f"Commissioned by {contract.commissioner.name} from {contract.provider.name}.")
    for col, (name, width) in enumerate(COLUMNS, start=1):
        _put(ws, 4, col, name)
        ws.cell(row=4, column=col).font = Font(bold=True)
        ws.column_dimensions[get_column_letter(col)].width = width
    for r, row in enumerate(rows, start=5):
        measure = row.measure
        defn = measure.as_definition()
        bounds = row.verdict.bounds
        obs = row.observation
        spc = spc_text.summary(row.spc, defn)
        values = (
            measure.code,
            measure.title,
            Kind(measure.kind).label,
            measure.get_unit_display(),
            row.period or "",
            row.as_at if obs else None,
            _number(row.verdict.value),
            row.display_value if obs else "",
            _number(obs.numerator) if obs else None,
            _number(obs.denominator) if obs else None,
            rating.target_words(defn, row.target.as_spec() if row.target else None),
            _number(bounds.target) if bounds else None,
            _number(bounds.tolerance_low) if bounds else None,
            _number(bounds.tolerance_high) if bounds else None,
            VERDICT_WORDS[row.verdict.status],
            row.verdict.reason,
            DIRECTION_WORDS[row.direction_previous],
            DIRECTION_WORDS[row.direction_year],
            ", ".join(FLAG_WORDS.get(f, str(f)) for f in row.flags),
            spc["variation_words"],
            spc["assurance_words"],
            spc["tolerance_words"],
        )
        for c, value in enumerate(values, start=1):
            _put(ws, r, c, value)
        if obs:
            ws.cell(row=r, column=6).number_format = "dd/mm/yyyy"
    ws.freeze_panes = "C5"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
