"""Write each sample .csv here as an .xlsx beside it: ``python samples/build_xlsx.py``.

The workbooks hold what a spreadsheet program would: numbers as numbers, dates
(YYYY-MM-DD) as dates, everything else (codes, periods such as 2018-04) as text.
tests/imports checks that every .xlsx says the same as its .csv.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
TEXT_COLUMNS = {"code", "period", "from_period", "year", "contract", "slug", "council"}


def cell(heading: str, text: str) -> object:
    if text == "":
        return None
    if heading in TEXT_COLUMNS:
        return text
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return Decimal(text)
    return text


def build(path: Path) -> Path:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = path.stem
    sheet.append(rows[0])
    for row in rows[1:]:
        sheet.append([cell(h, v) for h, v in zip(rows[0], row, strict=True)])
        for c in sheet[sheet.max_row]:
            if isinstance(c.value, date):
                c.number_format = "yyyy-mm-dd"
    target = path.with_suffix(".xlsx")
    workbook.save(target)
    return target


if __name__ == "__main__":
    for csv_path in sorted(HERE.glob("*.csv")):
        print(build(csv_path).name)
