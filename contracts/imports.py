"""Imports from spreadsheets: every kind of interfaces.md, all or nothing (issue 6).

One path for the ``import_data`` command, the admin (django-import-export, through
``contracts.resources``) and the upload pages:

1. ``read_file`` turns the bytes of a .csv or .xlsx into a ``Table`` (headings and rows),
   refusing a bad file with one clear message (``ImportFileError``): empty, too large,
   not what its extension says, a CSV that is not UTF-8. Cells holding formulas are
   reported one by one, naming the cell.
2. ``run_import`` checks the headings, then every row, and collects *every* problem
   with its row number, column, the value found and why (``Problem``). Only when there
   is none, and it is not a dry run, is anything written, all in one transaction.

The rules are the product's own, from the same code as the entry pages: numbers and
dates are read as the return's pages read them (``contracts.returns_forms``); periods by
``Measure.parse_period`` (R11); a figure's self-contradictions by
``rating.figure_problems`` (R6); targets by ``Target.full_clean`` (R6, R16); every other
record by its model's ``full_clean``. Observations, the one kind that comes by the tens of
thousands, are checked in bulk with the same functions ``Observation.clean`` calls (its
period, flags, figure problems and R15's official-figure rule), so they can be written
in bulk (``bulk_insert``), with their history records.

Figures imported for past periods form an ``ImportBatch``: drafts until a commissioner
accepts the batch in one audited act (R14, ``accept_batch``). A figure in a return is the
return's (R13): importing over it is refused, and over a signed-off one says so (R15).

Row numbers are spreadsheet row numbers: the heading row is row 1, the first data row
row 2, so a problem points at the row a person sees in Excel.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
import math
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.db import connections, models, router, transaction
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone
from django.utils.text import slugify
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from contracts import access
from contracts.access import Do
from contracts.models import (
    Contract,
    Entry,
    ImportBatch,
    MonthlyReturn,
    Organisation,
    ReturnState,
    measure_set_for,
)
from contracts.returns_forms import PlainNumberField, parse_date
from kpis import periods, rating
from kpis.models import (
    RECORDED_FLAGS,
    Comparator,
    DataGap,
    Flag,
    Frequency,
    Kind,
    Measure,
    Observation,
    Polarity,
    SeriesBreak,
    Target,
    TargetValues,
    ToleranceUnit,
    Unit,
    YearType,
    measure_slug,
)
from retained_services.datasets import ADMISSIONS_FIELDS, EHE_FIELDS
from retained_services.models import AdmissionsFigure, Dataset, EHEFigure

# --- kinds and their headings ----------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """A kind's columns: ``headings`` in the order files and exports write them (those of
    interfaces.md first, then this product's additions), ``required`` the ones a file
    must have. A column left out of a file keeps what is stored (a new record takes the
    default); a blank cell in a column that is there means blank."""

    headings: tuple[str, ...]
    required: tuple[str, ...]
    label: str


SPECS: dict[str, Spec] = {
    "contracts": Spec(
        (
            "slug",
            "name",
            "commissioner",
            "provider",
            "start",
            "end",
            "commissioner_name",
            "provider_name",
        ),
        ("slug", "name", "commissioner", "provider", "start"),
        "contracts",
    ),
    "measures": Spec(
        (
            "contract",
            "code",
            "title",
            "kind",
            "unit",
            "per",
            "polarity",
            "frequency",
            "year_type",
            "cumulative",
            "decimals",
            "lag_months",
            "display_order",
            "definition",
            "data_source",
            "comparability_note",
        ),
        ("contract", "code", "title", "kind", "unit"),
        "measures",
    ),
    "targets": Spec(
        ("contract", "code", "valid_from", "valid_to", *TargetValues.VALUE_FIELDS, "note"),
        ("contract", "code", "valid_from", "target"),
        "targets and tolerances",
    ),
    "observations": Spec(
        (
            "contract",
            "code",
            "period",
            "value",
            "numerator",
            "denominator",
            "as_at",
            "flags",
            "second_value",
            "note",
            "source",
            "second_source",
        ),
        ("contract", "code", "period", "value"),
        "figures",
    ),
    "comparators": Spec(
        ("contract", "code", "group", "period", "value", "source", "comparable", "note"),
        ("contract", "code", "group", "period", "value"),
        "comparators",
    ),
    "series_breaks": Spec(
        ("contract", "code", "from_period", "reason"),
        ("contract", "code", "from_period", "reason"),
        "series breaks",
    ),
    "data_gaps": Spec(
        ("contract", "code", "start", "end", "reason"),
        ("contract", "code", "start", "end", "reason"),
        "data gaps",
    ),
    "admissions": Spec(
        ("council", "year", "phase", *ADMISSIONS_FIELDS),
        ("council", "year", "phase"),
        "school admissions figures",
    ),
    "ehe": Spec(
        ("council", "year", "term", *EHE_FIELDS),
        ("council", "year", "term"),
        "elective home education figures",
    ),
}
KINDS = tuple(SPECS)
# Kinds whose rows belong to a contract: ``--contract`` may stand for the column.
CONTRACT_KINDS = (
    "measures",
    "targets",
    "observations",
    "comparators",
    "series_breaks",
    "data_gaps",
)

DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# A text cell beginning with one of these is written by the exports with an apostrophe in
# front, so it cannot run as a formula (contracts.exports); reading it back drops it.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def max_upload_bytes() -> int:
    """The largest file an upload page or the admin accepts (``IMPORT_MAX_UPLOAD_BYTES``)."""
    return int(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def size_words(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


# --- problems and tables ---------------------------------------------------------------


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (row and column), what was found, and why."""

    row: int | None
    column: str
    value: str
    why: str

    def __str__(self) -> str:
        where = f"Row {self.row}" if self.row else "The file"
        if self.column:
            where += f", column {self.column}"
            where += f" (‘{self.value}’)" if self.value != "" else " (blank)"
        return f"{where}: {self.why}"


@dataclass
class Row:
    number: int
    cells: dict[str, Any]
    refused: set[str] = field(default_factory=set)  # columns whose cell is reported already


@dataclass
class Table:
    """What a file holds: its normalised headings, the letter of each column, its rows
    (blank rows left out) and the cells that could not be taken as values (formulas)."""

    headings: list[str]
    letters: dict[str, str]
    rows: list[Row]
    problems: list[Problem] = field(default_factory=list)
    sheet: str = ""


def normalise_heading(heading: Any) -> str:
    """``" Second value"`` -> ``second_value``: headings are matched ignoring case, spaces
    and hyphens around and between words."""
    if heading is None:
        return ""
    return re.sub(r"[\s\-]+", "_", str(heading).strip().lower()).strip("_")


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def shown(value: Any) -> str:
    """A cell's value as a person reads it in a message."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def formula_text(value: Any) -> str | None:
    """The formula a cell holds, if it holds one (a text beginning with "=", or one of
    openpyxl's array or data-table formula objects)."""
    if isinstance(value, str):
        return value if value.startswith("=") else None
    if isinstance(value, (ArrayFormula, DataTableFormula)):
        text = getattr(value, "text", None) or ""
        return text if text.startswith("=") else f"={text}" if text else "a table formula"
    return None


_PLAIN_TYPES = frozenset({int, float, Decimal, bool, date, datetime, time})


def _unescape(value: str) -> str:
    """Drop the apostrophe the exports put before a text that could run as a formula."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_TRIGGERS:
        return value[1:]
    return value


def _build_table(raw_rows: Iterable[tuple[Any, ...] | list[Any]], sheet: str = "") -> Table:
    """Headings from the first row, then the data rows, with formulas reported by cell."""
    rows_iter = iter(raw_rows)
    header = next(rows_iter, None)
    if header is None or all(is_blank(h) for h in header):
        raise ImportFileError(
            "The file is empty: it has no heading row. The first row must hold the column "
            "headings (see the README for each kind's headings)."
        )
    headings = [normalise_heading(h) for h in header]
    while headings and not headings[-1]:
        headings.pop()
    letters = {h: column_letter(i) for i, h in reversed(list(enumerate(headings))) if h}
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, heading in enumerate(headings):
        if heading and heading in seen:
            problems.append(
                Problem(
                    1,
                    heading,
                    str(header[i]),
                    f"the heading appears twice (column {column_letter(i)}); "
                    "a column can be given once only.",
                )
            )
        seen.add(heading)
    wanted = [(i, h) for i, h in enumerate(headings) if h and letters[h] == column_letter(i)]
    width = max((i for i, _ in wanted), default=-1) + 1
    padding = (None,) * width
    rows: list[Row] = []
    for number, values in enumerate(rows_iter, start=2):
        if len(values) < width:
            values = (*values, *padding[len(values) :])
        cells = {h: values[i] for i, h in wanted}
        refused: set[str] = set()
        filled = False
        for heading, value in cells.items():
            kind = type(value)
            if value is None:
                continue
            if kind is str:
                if not value.strip():
                    cells[heading] = None
                    continue
                if value[0] == "=":
                    problems.append(_formula_problem(number, heading, letters[heading], value))
                    cells[heading] = None
                    refused.add(heading)
                elif value[0] == "'":
                    cells[heading] = _unescape(value)
            elif kind not in _PLAIN_TYPES and (formula := formula_text(value)) is not None:
                problems.append(_formula_problem(number, heading, letters[heading], formula))
                cells[heading] = None
                refused.add(heading)
            filled = True
        if not filled and not any(not is_blank(v) for v in values):
            continue  # a blank row: spreadsheets trail such rows
        rows.append(Row(number, cells, refused))
    if not rows and not problems:
        raise ImportFileError(
            "The file has a heading row but no rows of data: there is nothing to import."
        )
    return Table(
        headings=[h for h in headings if h],
        letters=letters,
        rows=rows,
        problems=problems,
        sheet=sheet,
    )


def _formula_problem(number: int, heading: str, letter: str, formula: str) -> Problem:
    return Problem(
        number,
        heading,
        formula,
        f"cell {letter}{number} holds a formula. Imports read values only and never run "
        "formulas: replace it with its value (copy, then Paste Special > Values), or put an "
        "apostrophe before a text that starts with '='.",
    )


# --- reading files ---------------------------------------------------------------------

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and .doc)


def _looks_like(data: bytes) -> str:
    head = data[:8]
    if head.startswith(_ZIP):
        return "a zip archive (an Excel .xlsx workbook or another Office file)"
    if head.startswith(_OLE):
        return "an old-style binary Office file (such as an Excel 97-2003 .xls)"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head[:3] in (b"\x89PN", b"GIF") or head[:2] == b"\xff\xd8":
        return "an image"
    if b"\x00" in data[:4096]:
        return "a binary file"
    return "a text file (perhaps a CSV)"


def read_file(data: bytes, file_name: str, *, limit: int | None = None) -> Table:
    """Read a .csv or .xlsx file into a ``Table``; ``ImportFileError`` says why not.

    ``limit`` is the size allowed in bytes (uploads pass ``max_upload_bytes()``).
    """
    name = Path(file_name or "").name or "the file"
    suffix = Path(name).suffix.lower()
    if limit is not None and len(data) > limit:
        raise ImportFileError(
            f"{name} is {size_words(len(data))}, larger than the {size_words(limit)} an upload may be. "
            "Split it into smaller files, or ask an administrator to load it with the "
            "import_data command."
        )
    if not data or not data.strip():
        raise ImportFileError(f"{name} is empty: there is nothing to import.")
    if suffix == ".xlsx":
        if not data.startswith(_ZIP):
            raise ImportFileError(
                f"{name} is named .xlsx but is not an Excel workbook: it looks like {_looks_like(data)}. "
                "Save it from Excel as 'Excel Workbook (.xlsx)', or as CSV with a .csv name."
            )
        return _read_xlsx(data, name)
    if suffix == ".csv":
        if (
            data.startswith(_ZIP)
            or data.startswith(_OLE)
            or data.startswith(b"%PDF")
            or b"\x00" in data[:4096]
        ):
            if data.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise _utf16(name)
            raise ImportFileError(
                f"{name} is named .csv but is not a CSV text file: it looks like {_looks_like(data)}. "
                "Save it as 'CSV UTF-8 (comma delimited)', or give a workbook the .xlsx name."
            )
        return _read_csv(data, name)
    raise ImportFileError(
        f"{name}: only .csv (UTF-8) and .xlsx files can be imported, not '{suffix or 'no extension'}'."
    )


def read_path(path: str | Path) -> Table:
    """Read a file named on the command line (no size limit: the operator's own file)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(f"There is no file {path}.") from None
    except OSError as exc:
        raise ImportFileError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    return read_file(data, path.name)


def _utf16(name: str) -> ImportFileError:
    return ImportFileError(
        f"{name} is saved as UTF-16 ('Unicode Text'), not UTF-8. Save it from Excel as "
        "'CSV UTF-8 (comma delimited)' and import it again."
    )


def decode_csv(data: bytes, name: str) -> str:
    """UTF-8, with or without a byte-order mark; anything else is refused with a message
    naming the encoding problem, never guessed (a guess can silently turn £ or – into
    something else)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _utf16(name)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1]
        guess = ""
        try:
            char = byte.decode("cp1252")
            data.decode("cp1252")
            guess = (
                f" It looks like Windows-1252 (Western European, what Excel's plain 'CSV' saves), "
                f"where that byte is ‘{char}’."
            )
        except UnicodeDecodeError:
            guess = " It may be Latin-1 or another single-byte encoding."
        raise ImportFileError(
            f"{name} is not UTF-8: the byte 0x{byte.hex()} on line {line} is not valid UTF-8.{guess} "
            "Save the file as 'CSV UTF-8 (comma delimited)' and import it again."
        ) from None


def _read_csv(data: bytes, name: str) -> Table:
    text = decode_csv(data, name)
    if not text.strip():
        raise ImportFileError(f"{name} is empty: there is nothing to import.")
    first_line = text.split("\n", 1)[0]
    delimiter = ","
    if "," not in first_line:
        for candidate in (";", "\t"):
            if candidate in first_line:
                delimiter = candidate
                break
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return _build_table(list(reader))
    except csv.Error as exc:
        raise ImportFileError(f"{name} is not a well-formed CSV file: {exc}.") from None


def _read_xlsx(data: bytes, name: str) -> Table:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (
        zipfile.BadZipFile,
        InvalidFileException,
        KeyError,
        ValueError,
        OSError,
        TypeError,
    ) as exc:
        raise ImportFileError(
            f"{name} is not an Excel workbook that can be read ({type(exc).__name__}): it may be "
            "damaged, or another kind of file named .xlsx. Save it again from Excel as "
            "'Excel Workbook (.xlsx)'."
        ) from None
    try:
        sheet = workbook.worksheets[0]
        return _build_table(sheet.iter_rows(values_only=True), sheet=sheet.title)
    except ImportFileError as exc:
        raise ImportFileError(
            exc.message.replace("The file", f"{name} (sheet '{sheet.title}')")
        ) from None
    finally:
        workbook.close()


def read_rows(headings: list[Any], rows: Iterable[Iterable[Any]]) -> Table:
    """A table from headings and rows already in memory (the admin's tablib datasets)."""
    return _build_table([list(headings), *[list(r) for r in rows]])


class SizeLimitUploadHandler(FileUploadHandler):
    """Refuses an upload larger than ``max_upload_bytes()`` before any of it is stored.

    The request's own form fields (the CSRF token) are still read; the file part is
    skipped unread (``SkipFile``), so the view finds no file and says the upload was too
    large. Install it first in ``request.upload_handlers`` before the body is read.
    """

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        self.too_large = content_length > max_upload_bytes() + 64 * 1024
        self.request.upload_too_large = self.too_large  # type: ignore[union-attr]
        self.request.upload_length = content_length  # type: ignore[union-attr]

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        if getattr(self, "too_large", False):
            raise SkipFile()
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def too_large_message(length: int) -> str:
    return (
        f"The upload is {size_words(length)}, larger than the {size_words(max_upload_bytes())} "
        "allowed: nothing was read. Split the file, or ask an administrator to load it with the "
        "import_data command."
    )


# --- reading cells ---------------------------------------------------------------------


class CellError(ValueError):
    """A cell's value cannot be read; the message says why, in the words of the pages."""


_NUMBER = PlainNumberField()
_WHOLE_LIMIT = 10**_NUMBER.MAX_WHOLE


def parse_number(raw: Any) -> Decimal:
    """A number as the return's pages read one: plain digits, no commas, units or
    exponents, at most 12 digits before the point and 6 after (nothing silently rounded)."""
    kind = type(raw)
    if kind is int and -_WHOLE_LIMIT < raw < _WHOLE_LIMIT:
        return Decimal(raw)  # a number cell within the limits: the page's rule holds
    if kind is float and math.isfinite(raw):
        number = Decimal(repr(raw))
        if (
            number.as_tuple().exponent >= -_NUMBER.MAX_PLACES
            and number.adjusted() < _NUMBER.MAX_WHOLE
        ):
            return number
    if isinstance(raw, bool):
        raise CellError("is TRUE or FALSE, not a number.")
    if isinstance(raw, int):
        text = str(raw)
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            raise CellError("is not a number.")
        text = format(Decimal(repr(raw)), "f")
    elif isinstance(raw, Decimal):
        text = format(raw, "f")
    elif isinstance(raw, (date, time)):
        raise CellError("is a date or time, not a number: format the cell as a number.")
    else:
        text = str(raw).strip()
    try:
        number = _NUMBER.to_python(text)
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from None
    assert number is not None
    return number


def parse_day(raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raise CellError(
            "is a number, not a date: write the date as 2018-04-30 or 30/4/2018, or format "
            "the cell as a date."
        )
    try:
        day = parse_date(str(raw))
    except ValueError as exc:
        raise CellError(str(exc)) from None
    assert day is not None
    return day


def parse_text(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime):
        return shown(raw)
    return str(raw).strip()


def parse_period_text(raw: Any) -> str:
    """A period label as written; a date Excel made of "2018-04" reads as that month."""
    if isinstance(raw, (datetime, date)):
        day = raw.date() if isinstance(raw, datetime) else raw
        if day.day == 1:
            return f"{day.year:04d}-{day.month:02d}"
        raise CellError(
            "is a date, not a period: write the period as R11 labels it, e.g. 2018-04, "
            "2018/19 Q1, 2017/18 Autumn, 2017/18 or 2018 (format the cell as text)."
        )
    return parse_text(raw)


_TRUE = {"yes", "y", "true", "1", "t"}
_FALSE = {"no", "n", "false", "0", "f"}


def parse_boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = parse_text(raw).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError("is not yes or no (write yes, no, true, false, 1 or 0).")


def parse_whole(raw: Any) -> int:
    number = parse_number(raw)
    if number != number.to_integral_value() or number < 0:
        raise CellError("is not a whole number of 0 or more.")
    return int(number)


def choice_parser(choices: Iterable[str], *, blank_allowed: bool = False) -> Callable[[Any], str]:
    values = [str(c) for c in choices]

    def parse(raw: Any) -> str:
        text = parse_text(raw).lower().replace(" ", "_").replace("-", "_")
        if text in values:
            return text
        raise CellError(
            f"is not one of {', '.join(values)}{' (or blank)' if blank_allowed else ''}."
        )

    return parse


RECORDED_FLAG_VALUES = sorted(str(f) for f in RECORDED_FLAGS)


def parse_flags(raw: Any) -> list[str]:
    """Space-separated flags (commas allowed too), each one of the recorded flags."""
    words = [w for w in re.split(r"[\s,;]+", parse_text(raw).lower()) if w]
    if Flag.DRAFT in words:
        raise CellError(
            "includes draft, which is not recorded: an imported figure is draft until its "
            "import batch is accepted (R14)."
        )
    unknown = [w for w in words if w not in RECORDED_FLAG_VALUES]
    if unknown:
        raise CellError(
            f"has unknown flag(s) {', '.join(unknown)}: flags are {', '.join(RECORDED_FLAG_VALUES)}, "
            "separated by spaces."
        )
    return list(dict.fromkeys(words))


class _Missing:
    pass


MISSING: Any = _Missing()


class Cells:
    """One row's cells, read column by column; every problem is recorded, none raised."""

    def __init__(self, row: Row, present: set[str], problems: list[Problem]) -> None:
        self.row = row
        self.present = present
        self.problems = problems
        self.bad = bool(row.refused)  # a formula there is reported already

    def has(self, column: str) -> bool:
        return column in self.present

    def raw(self, column: str) -> Any:
        return self.row.cells.get(column)

    def problem(self, column: str, why: str, value: Any = MISSING) -> None:
        self.problems.append(
            Problem(
                self.row.number, column, shown(self.raw(column) if value is MISSING else value), why
            )
        )
        self.bad = True

    def get(
        self,
        column: str,
        parse: Callable[[Any], Any],
        *,
        required: bool = False,
        default: Any = None,
    ) -> Any:
        """The parsed cell; ``default`` when the column is absent or the cell blank."""
        if column in self.row.refused:
            return default
        raw = self.row.cells.get(column)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                self.problem(column, "is blank, but a value is needed.")
            return default
        try:
            return parse(raw)
        except CellError as exc:
            self.problem(column, str(exc))
            return default

    def text(self, column: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = self.get(column, parse_text, required=required, default="")
        if max_length is not None and len(value) > max_length:
            self.problem(column, f"is {len(value)} characters long; at most {max_length} are kept.")
        return value


# --- the report ------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import found and did (or, in a dry run, would do)."""

    kind: str
    file_name: str
    dry_run: bool
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    outcomes: dict[int, str] = field(default_factory=dict)  # row number -> new|update|skip
    batches: list[ImportBatch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes.values() if o == outcome)

    @property
    def created(self) -> int:
        return self.count("new")

    @property
    def updated(self) -> int:
        return self.count("update")

    @property
    def unchanged(self) -> int:
        return self.count("skip")

    def summary(self) -> str:
        label = SPECS[self.kind].label
        name = self.file_name or "the file"
        if self.problems:
            return (
                f"{name}: {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''} "
                f"found in {self.rows} row{'s' if self.rows != 1 else ''} of {label}. Nothing was imported: "
                "correct the file and import it again."
            )
        verb = "would be" if not self.written else "were"
        text = (
            f"{name}: {self.rows} row{'s' if self.rows != 1 else ''} of {label} read; "
            f"{self.created} new, {self.updated} changed and {self.unchanged} unchanged {verb} imported."
        )
        if self.dry_run:
            text += " Dry run: nothing was written."
        return text

    def lines(self) -> list[str]:
        lines = [self.summary()]
        lines.extend(str(p) for p in self.problems)
        lines.extend(self.notes)
        for batch in self.batches:
            figures = (
                f"{batch.rows} figure{'s' if batch.rows != 1 else ''} for {batch.contract.slug}"
            )
            if batch.pk is None:
                lines.append(
                    f"The figures would form an import batch ({figures}) for a commissioner to accept (R14)."
                )
            else:
                lines.append(
                    f"Import batch {batch.pk} ({figures}) awaits a commissioner's acceptance; until "
                    "then its figures are drafts (R14)."
                )
        if self.ignored_columns:
            lines.append(
                f"Columns not used by a {self.kind} import, ignored: {', '.join(self.ignored_columns)}."
            )
        return lines


# --- running an import -----------------------------------------------------------------


class _Rollback(Exception):
    """Raised inside the transaction to undo a dry run, or a run with problems."""


@dataclass
class Context:
    kind: str
    table: Table
    report: ImportReport
    contract: Contract | None
    user: Any
    file_name: str

    def __post_init__(self) -> None:
        self.present = set(self.table.headings)
        self._contracts: dict[str, Contract | None] = {}
        self._measures: dict[int, dict[str, Measure]] = {}
        self._organisations: dict[str, Organisation | None] = {}
        # The history's change reason holds 100 characters (django-simple-history).
        self.reason = (
            f"Imported from {self.file_name}" if self.file_name else "Imported from a file"
        )[:100]
        authenticated = self.user is not None and getattr(self.user, "is_authenticated", False)
        self.history_user = self.user if authenticated else None

    @property
    def problems(self) -> list[Problem]:
        return self.report.problems

    def cells(self, row: Row) -> Cells:
        return Cells(row, self.present, self.report.problems)

    def contract_of(self, cells: Cells) -> Contract | None:
        """The row's contract: the ``contract`` cell (a contract's slug), or ``--contract``."""
        written = cells.get("contract", parse_text, default="")
        if self.contract is not None:
            if written and written != self.contract.slug:
                cells.problem(
                    "contract",
                    f"this import is for the contract {self.contract.slug}; a row for another "
                    "contract cannot be part of it.",
                )
                return None
            return self.contract
        if not written:
            cells.problem(
                "contract", "is blank: give the contract's slug, or import with --contract."
            )
            return None
        if written not in self._contracts:
            self._contracts[written] = (
                Contract.objects.select_related("measure_set", "commissioner", "provider")
                .filter(slug=written)
                .first()
            )
        found = self._contracts[written]
        if found is None:
            cells.problem(
                "contract", "is not the slug of any contract (import the contract first)."
            )
        return found

    def measures_of(self, contract: Contract) -> dict[str, Measure]:
        set_id = contract.measure_set_id
        if set_id not in self._measures:
            found: dict[str, Measure] = {}
            for measure in Measure.objects.filter(measure_set_id=set_id):
                found[measure.code] = measure
                found.setdefault(f"slug:{measure.slug}", measure)
            self._measures[set_id] = found
        return self._measures[set_id]

    def measure_of(self, cells: Cells, contract: Contract | None) -> Measure | None:
        code = cells.text("code", required=True)
        if contract is None or not code:
            return None
        measures = self.measures_of(contract)
        measure = measures.get(code) or measures.get(f"slug:{measure_slug(code)}")
        if measure is None:
            known = sorted(k for k in measures if not k.startswith("slug:"))
            listed = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
            cells.problem(
                "code",
                f"is not the code of a measure of {contract.slug}"
                + (
                    f" (its measures: {listed})."
                    if known
                    else " (it has no measures yet: import them first)."
                ),
            )
        return measure

    def organisation_of(
        self, cells: Cells, column: str, kind: str, *, create: bool = False, name: str = ""
    ) -> Organisation | None:
        """An organisation by slug or name; with ``create``, a missing one is made."""
        written = cells.text(column, required=True)
        if not written:
            return None
        key = written.lower()
        if key not in self._organisations:
            self._organisations[key] = (
                Organisation.objects.filter(slug=written).first()
                or Organisation.objects.filter(name__iexact=written).first()
            )
        found = self._organisations[key]
        if found is None and create:
            slug = slugify(written)[:100]
            if not slug:
                cells.problem(column, "needs at least one letter or digit.")
                return None
            found = Organisation(slug=slug, name=(name or written)[:200], kind=kind)
            try:
                found.full_clean()
            except ValidationError as exc:
                cells.problem(column, " ".join(exc.messages))
                return None
            stamp(found, self)
            found.save()
            self._organisations[key] = found
            self.report.notes.append(f"New organisation: {found.name} ({found.slug}), a {kind}.")
            return found
        if found is None:
            cells.problem(column, f"is not the slug or name of any {kind}.")
            return None
        if found.kind != kind:
            cells.problem(
                column, f"is {found.name}, a {found.get_kind_display().lower()}, not a {kind}."
            )
            return None
        return found


def stamp(obj: models.Model, ctx: Context) -> None:
    """Who made the change and why, for the record's history (django-simple-history)."""
    obj._history_user = ctx.history_user  # type: ignore[attr-defined]
    obj._change_reason = ctx.reason  # type: ignore[attr-defined]


def run_import(
    kind: str,
    table: Table,
    *,
    contract: Contract | None = None,
    dry_run: bool = False,
    user: Any = None,
    file_name: str = "",
) -> ImportReport:
    """Check every row of ``table`` as ``kind``; write it all in one transaction, or nothing.

    Nothing is written when any problem is found, or in a dry run (which still runs every
    check, the database's own included, inside a transaction it then rolls back).
    """
    if kind not in SPECS:
        raise ValueError(f"Unknown import kind {kind!r}; one of {', '.join(KINDS)}.")
    report = ImportReport(kind=kind, file_name=file_name, dry_run=dry_run, rows=len(table.rows))
    report.problems.extend(table.problems)
    spec = SPECS[kind]
    report.ignored_columns = [h for h in table.headings if h not in spec.headings]
    required = [h for h in spec.required if not (h == "contract" and contract is not None)]
    missing = [h for h in required if h not in table.headings]
    if missing:
        found = ", ".join(table.headings) or "none"
        for heading in missing:
            report.problems.append(
                Problem(
                    1,
                    heading,
                    "",
                    f"the heading row has no ‘{heading}’ column, which {spec.label} need. "
                    f"The file's headings are: {found}. A {kind} file's headings are: "
                    f"{', '.join(spec.headings)} (required: {', '.join(required)}).",
                )
            )
        return report
    ctx = Context(kind, table, report, contract, user, file_name)
    try:
        with transaction.atomic():
            IMPORTERS[kind](ctx)
            if report.problems or dry_run:
                raise _Rollback
        report.written = True
    except _Rollback:
        for batch in report.batches:
            batch.pk = None  # undone with the rest: what a dry run's batch would hold
        if report.problems:
            report.batches = []
    return report


def import_file(
    kind: str,
    data: bytes,
    file_name: str,
    *,
    contract: Contract | None = None,
    dry_run: bool = False,
    user: Any = None,
    limit: int | None = None,
) -> ImportReport:
    """Read and import in one step; a bad file raises ``ImportFileError``."""
    table = read_file(data, file_name, limit=limit)
    return run_import(
        kind, table, contract=contract, dry_run=dry_run, user=user, file_name=file_name
    )


# --- one record at a time (everything but observations) --------------------------------


def _errors_to_problems(
    cells: Cells, exc: ValidationError, columns: dict[str, str], default: str
) -> None:
    """A model's ValidationError as problems, each under the column that holds the field."""
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            cells.problem(default, message)
        return
    for name, messages in exc.message_dict.items():
        column = columns.get(name, name if name in cells.present else default)
        if name == NON_FIELD_ERRORS:
            column = default
        for message in messages:
            cells.problem(column, message)


def _save_checked(
    ctx: Context,
    cells: Cells,
    obj: models.Model,
    *,
    is_new: bool,
    changed: bool,
    columns: dict[str, str] | None = None,
    default: str,
    exclude: list[str] | None = None,
) -> None:
    """full_clean, then save in a savepoint; the row's outcome is recorded."""
    if cells.bad:
        return
    if not is_new and not changed:
        ctx.report.outcomes[cells.row.number] = "skip"
        return
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        _errors_to_problems(cells, exc, columns or {}, default)
        return
    stamp(obj, ctx)
    with transaction.atomic():
        obj.save()
    ctx.report.outcomes[cells.row.number] = "new" if is_new else "update"


def _upsert_for_measure(
    ctx: Context,
    cells: Cells,
    model: type[models.Model],
    lookup: dict[str, Any],
    values: dict[str, Any],
    *,
    default: str,
    exclude: list[str] | None = None,
) -> None:
    """Find the measure's record by ``lookup`` (or start a new one), set ``values``, and
    save it through ``_save_checked``."""
    obj = model.objects.filter(**lookup).first()
    is_new = obj is None
    if obj is None:
        obj = model(**lookup)
    changed = _assign(obj, values)
    _save_checked(
        ctx,
        cells,
        obj,
        is_new=is_new,
        changed=changed,
        default=default,
        columns={"measure": "code"},
        exclude=exclude,
    )


def _assign(obj: models.Model, values: dict[str, Any]) -> bool:
    """Set the values given; whether any differs from what the record held."""
    changed = False
    for name, value in values.items():
        if isinstance(value, models.Model):
            if getattr(obj, f"{name}_id") != value.pk:
                setattr(obj, name, value)
                changed = True
            continue
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


class Duplicates:
    """Keys seen so far in a file, to refuse a second row for the same record."""

    def __init__(self) -> None:
        self.seen: dict[tuple[Any, ...], int] = {}

    def check(self, cells: Cells, key: tuple[Any, ...], column: str, what: str) -> bool:
        first = self.seen.get(key)
        if first is not None:
            cells.problem(
                column,
                f"{what} is already in row {first} of this file: a record can be given once.",
            )
            return False
        self.seen[key] = cells.row.number
        return True


def _import_contracts(ctx: Context) -> None:
    dupes = Duplicates()
    for row in ctx.table.rows:
        cells = ctx.cells(row)
        slug = cells.text("slug", required=True, max_length=100)
        if slug and slugify(slug) != slug:
            cells.problem(
                "slug",
                f"is not a slug: use lower-case letters, digits and hyphens, e.g. {slugify(slug) or 'my-contract'}.",
            )
        values: dict[str, Any] = {}
        if cells.has("name"):
            values["name"] = cells.text("name", required=True, max_length=300)
        commissioner = ctx.organisation_of(
            cells,
            "commissioner",
            Organisation.Kind.COUNCIL,
            create=True,
            name=cells.text("commissioner_name", max_length=200),
        )
        provider = ctx.organisation_of(
            cells,
            "provider",
            Organisation.Kind.PROVIDER,
            create=True,
            name=cells.text("provider_name", max_length=200),
        )
        if commissioner is not None:
            values["commissioner"] = commissioner
        if provider is not None:
            values["provider"] = provider
        if cells.has("start"):
            values["start"] = cells.get("start", parse_day, required=True)
        if cells.has("end"):
            values["end"] = cells.get("end", parse_day)
        if not slug or cells.bad or not dupes.check(cells, (slug,), "slug", f"The contract {slug}"):
            continue
        contract = Contract.objects.filter(slug=slug).first()
        is_new = contract is None
        if contract is None:
            measure_set = measure_set_for(slug, values.get("name", slug))
            if measure_set._state.adding:
                stamp(measure_set, ctx)
                measure_set.save()
            contract = Contract(slug=slug, measure_set=measure_set)
        changed = _assign(contract, values)
        _save_checked(
            ctx,
            cells,
            contract,
            is_new=is_new,
            changed=changed,
            default="slug",
            columns={"commissioner": "commissioner", "provider": "provider", "end": "end"},
        )


MEASURE_DEFAULTS: dict[str, Any] = {
    "per": None,
    "polarity": "",
    "frequency": Frequency.MONTHLY,
    "year_type": YearType.FINANCIAL,
    "cumulative": False,
    "decimals": 1,
    "lag_months": 0,
    "display_order": 0,
    "definition": "",
    "data_source": "",
    "comparability_note": "",
}


def _import_measures(ctx: Context) -> None:
    dupes = Duplicates()
    parsers: dict[str, tuple[Callable[[Any], Any], bool]] = {
        "title": (parse_text, True),
        "kind": (choice_parser(Kind.values), True),
        "unit": (choice_parser(Unit.values), True),
        "per": (parse_whole, False),
        "polarity": (choice_parser(Polarity.values, blank_allowed=True), False),
        "frequency": (choice_parser(Frequency.values), True),
        "year_type": (choice_parser(YearType.values), True),
        "cumulative": (parse_boolean, True),
        "decimals": (parse_whole, True),
        "lag_months": (parse_whole, True),
        "display_order": (parse_whole, True),
        "definition": (parse_text, False),
        "data_source": (parse_text, False),
        "comparability_note": (parse_text, False),
    }
    blank = {
        "polarity": "",
        "definition": "",
        "data_source": "",
        "comparability_note": "",
        "per": None,
    }
    slugs: dict[tuple[int, str], tuple[str, int]] = {}
    for row in ctx.table.rows:
        cells = ctx.cells(row)
        contract = ctx.contract_of(cells)
        code = cells.text("code", required=True, max_length=30)
        values: dict[str, Any] = {}
        for name, (parse, required) in parsers.items():
            if cells.has(name):
                values[name] = cells.get(name, parse, required=required, default=blank.get(name))
        if cells.has("title") and len(values.get("title", "")) > 400:
            cells.problem("title", "is longer than 400 characters.")
        if contract is None or not code or cells.bad:
            continue
        if not dupes.check(
            cells, (contract.pk, code), "code", f"The measure {code} of {contract.slug}"
        ):
            continue
        key = (contract.measure_set_id, measure_slug(code))
        if key in slugs and slugs[key][0] != code:
            cells.problem(
                "code",
                f"gives the same URL key ‘{key[1]}’ as {slugs[key][0]} (row {slugs[key][1]}); codes must differ in more than punctuation.",
            )
            continue
        slugs[key] = (code, row.number)
        measure = Measure.objects.filter(measure_set_id=contract.measure_set_id, code=code).first()
        is_new = measure is None
        if measure is None:
            measure = Measure(measure_set=contract.measure_set, code=code, **MEASURE_DEFAULTS)
        # Measure.clean refuses a definition its figures fix (R11, R15, R16), each under
        # its column: the frequency and year type once it has figures; the polarity,
        # unit, per, decimals and cumulative once any is official.
        changed = _assign(measure, values)
        _save_checked(
            ctx,
            cells,
            measure,
            is_new=is_new,
            changed=changed,
            default="code",
            columns={"slug": "code", "measure_set": "code"},
        )


TARGET_NUMBERS = tuple(f for f in TargetValues.VALUE_FIELDS if f != "tolerance_unit")


def _import_targets(ctx: Context) -> None:
    dupes = Duplicates()
    unit = choice_parser(ToleranceUnit.values, blank_allowed=True)
    for row in ctx.table.rows:
        cells = ctx.cells(row)
        contract = ctx.contract_of(cells)
        measure = ctx.measure_of(cells, contract)
        valid_from = cells.get("valid_from", parse_day, required=True)
        values: dict[str, Any] = {}
        if cells.has("valid_to"):
            values["valid_to"] = cells.get("valid_to", parse_day)
        for name in TARGET_NUMBERS:
            if cells.has(name):
                values[name] = cells.get(name, parse_number)
        if cells.has("tolerance_unit"):
            values["tolerance_unit"] = cells.get("tolerance_unit", unit, default="")
        if cells.has("note"):
            values["note"] = cells.text("note")
        if valid_from and values.get("valid_to") and values["valid_to"] < valid_from:
            cells.problem(
                "valid_to",
                f"is before valid_from ({valid_from.isoformat()}): a target cannot end before it starts.",
            )
        if measure is None or valid_from is None or cells.bad:
            continue
        if not dupes.check(
            cells,
            (measure.pk, valid_from),
            "valid_from",
            f"The target of {measure.code} from {valid_from.isoformat()}",
        ):
            continue
        # Target.clean: R6 (a target outside its own tolerance, a percentage outside 0-100),
        # overlapping validity, and R16 (official figures rated against it).
        _upsert_for_measure(
            ctx,
            cells,
            Target,
            {"measure": measure, "valid_from": valid_from},
            values,
            default="target",
        )


def _import_comparators(ctx: Context) -> None:
    dupes = Duplicates()
    for row in ctx.table.rows:
        cells = ctx.cells(row)
        contract = ctx.contract_of(cells)
        measure = ctx.measure_of(cells, contract)
        group = cells.text("group", required=True, max_length=100)
        label = cells.get("period", parse_period_text, required=True, default="")
        values: dict[str, Any] = {"value": cells.get("value", parse_number, required=True)}
        if cells.has("source"):
            values["source"] = cells.text("source", max_length=300)
        if cells.has("comparable"):
            values["comparable"] = cells.get("comparable", parse_boolean, default=True)
        if cells.has("note"):
            values["note"] = cells.text("note")
        if measure is None or not label or cells.bad:
            continue
        try:
            label = periods.parse_period(label, measure.year_type).label
        except periods.PeriodError as exc:
            cells.problem("period", str(exc))
            continue
        if not dupes.check(
            cells,
            (measure.pk, group, label),
            "period",
            f"{measure.code}'s {group} comparator for {label}",
        ):
            continue
        _upsert_for_measure(
            ctx,
            cells,
            Comparator,
            {"measure": measure, "group": group, "period": label},
            values,
            default="period",
            exclude=["period_end"],
        )


def _import_series_breaks(ctx: Context) -> None:
    dupes = Duplicates()
    for row in ctx.table.rows:
        cells = ctx.cells(row)
        contract = ctx.contract_of(cells)
        measure = ctx.measure_of(cells, contract)
        label = cells.get("from_period", parse_period_text, required=True, default="")
        reason = cells.text("reason", required=True)
        if measure is None or not label or cells.bad:
            continue
        try:
            label = periods.parse_period(label, measure.year_type).label
        except periods.PeriodError as exc:
            cells.problem("from_period", str(exc))
            continue
        if not dupes.check(
            cells, (measure.pk, label), "from_period", f"{measure.code}'s series break from {label}"
        ):
            continue
        _upsert_for_measure(
            ctx,
            cells,
            SeriesBreak,
            {"measure": measure, "from_period": label},
            {"reason": reason},
            default="from_period",
            exclude=["from_date"],
        )


def _import_data_gaps(ctx: Context) -> None:
    dupes = Duplicates()
    for row in ctx.table.rows:
        cells = ctx.cells(row)
        contract = ctx.contract_of(cells)
        measure = ctx.measure_of(cells, contract)
        start = cells.get("start", parse_day, required=True)
        end = cells.get("end", parse_day, required=True)
        reason = cells.text("reason", required=True)
        if start and end and end < start:
            cells.problem("end", f"is before the start ({start.isoformat()}).")
        if measure is None or start is None or cells.bad:
            continue
        if not dupes.check(
            cells, (measure.pk, start), "start", f"{measure.code}'s gap from {start.isoformat()}"
        ):
            continue
        _upsert_for_measure(
            ctx,
            cells,
            DataGap,
            {"measure": measure, "start": start},
            {"end": end, "reason": reason},
            default="start",
        )


# --- retained-service datasets -----------------------------------------------------------


def _dataset_of(
    ctx: Context, cells: Cells, kind: str, datasets: dict[tuple[int, str], Dataset]
) -> Dataset | None:
    council = ctx.organisation_of(cells, "council", Organisation.Kind.COUNCIL)
    year = cells.get("year", parse_text, required=True, default="")
    if council is None or not year:
        return None
    probe = Dataset(council=council, kind=kind, year=year)
    try:
        probe.clean()  # the year as R11 writes it: 2018 for admissions, 2017/18 for EHE
    except ValidationError as exc:
        for message in exc.message_dict.get("year", exc.messages):
            cells.problem("year", message)
        return None
    key = (council.pk, probe.year)
    if key not in datasets:
        dataset = Dataset.objects.filter(council=council, kind=kind, year=probe.year).first()
        if dataset is None:
            try:
                probe.full_clean()
            except ValidationError as exc:
                cells.problem("year", " ".join(exc.messages))
                return None
            stamp(probe, ctx)
            probe.save()
            dataset = probe
            ctx.report.notes.append(f"New dataset: {dataset}.")
        datasets[key] = dataset
    dataset = datasets[key]
    if dataset.is_final:
        # The same rule as the dataset page (retained_services.datasets.save_rows).
        cells.problem(
            "year",
            f"the {dataset.get_kind_display().lower()} dataset for {dataset.year} is final: the officer "
            "must reopen it, with a reason, before its figures can change (R14).",
        )
        return None
    return dataset


def _import_retained(
    ctx: Context,
    kind: str,
    model: type[models.Model],
    key: str,
    key_parser: Callable[[Any], str],
    fields: dict[str, Callable[[Any], Any]],
) -> None:
    dupes = Duplicates()
    datasets: dict[tuple[int, str], Dataset] = {}
    for row in ctx.table.rows:
        cells = ctx.cells(row)
        dataset = _dataset_of(ctx, cells, kind, datasets)
        which = cells.get(key, key_parser, required=True, default="")
        values: dict[str, Any] = {}
        for name, parse in fields.items():
            if cells.has(name):
                values[name] = cells.get(name, parse, default="" if name == "note" else None)
        if dataset is None or not which or cells.bad:
            continue
        if not dupes.check(cells, (dataset.pk, which), key, f"{dataset.year} {which}"):
            continue
        record = model._default_manager.filter(dataset=dataset, **{key: which}).first()
        is_new = record is None
        if record is None:
            record = model(dataset=dataset, **{key: which})
        changed = _assign(record, values)
        _save_checked(ctx, cells, record, is_new=is_new, changed=changed, default=key)


def _import_admissions(ctx: Context) -> None:
    percent = {
        name: parse_number
        for name in (
            "first_choice_percent",
            "any_of_three_percent",
            "target_percent",
            "region_percent",
            "england_percent",
        )
    }
    _import_retained(
        ctx,
        Dataset.Kind.ADMISSIONS,
        AdmissionsFigure,
        "phase",
        choice_parser(AdmissionsFigure.Phase.values),
        {"first_choice_number": parse_whole, **percent},
    )


def _import_ehe(ctx: Context) -> None:
    _import_retained(
        ctx,
        Dataset.Kind.EHE,
        EHEFigure,
        "term",
        choice_parser(EHEFigure.Term.values),
        {
            "new_ehe": parse_whole,
            "new_year11_ehe": parse_whole,
            "total_in_period": parse_whole,
            "note": parse_text,
        },
    )


# --- observations, in bulk ---------------------------------------------------------------

OBSERVATION_NUMBERS = ("value", "numerator", "denominator", "second_value")
OBSERVATION_TEXTS = {"note": None, "source": 300, "second_source": 300}
# The fields an observation import may set, in Observation.FIGURE_FIELDS' terms.
OBSERVATION_FIELDS = (
    "value",
    "numerator",
    "denominator",
    "as_at",
    "flags",
    "second_value",
    "note",
    "source",
    "second_source",
)


def figure_column(message: str) -> str:
    """The column a figure problem of ``rating.figure_problems`` is about."""
    if "denominator is" in message or ("denominator " in message and "is negative" in message):
        return "denominator"
    if "numerator" in message and ("larger than" in message or "is negative" in message):
        return "numerator"
    return "value"


@dataclass
class _Figure:
    row: int
    contract: Contract
    measure: Measure
    period: periods.Period
    values: dict[str, Any]


def return_month_of(measure: Measure, period: periods.Period) -> str:
    """The month whose return a figure for ``period`` is due in (R13, workflow.due_measures)."""
    return _due_month(period.end.year, period.end.month, measure.lag_months)


@functools.lru_cache(maxsize=4096)
def _due_month(year: int, month: int, lag_months: int) -> str:
    return periods.add_months(periods.month(year, month), lag_months).label


def _import_observations(ctx: Context) -> None:
    """Every row checked with the rules ``Observation.clean`` applies, then written in bulk.

    Bulk because onboarding brings years of history (tens of thousands of rows): the
    measures, existing figures and returns are read once, up front, and new figures, their
    history records and their place in the import batch are written by ``bulk_insert``.
    """
    today = timezone.localdate()
    present = ctx.present
    figures: list[_Figure] = []
    seen: dict[tuple[int, str], int] = {}
    definitions: dict[int, rating.Definition] = {}
    parsed_periods: dict[tuple[int, str], periods.Period | str] = {}
    texts = [(name, limit) for name, limit in OBSERVATION_TEXTS.items() if name in present]
    numbers = [name for name in OBSERVATION_NUMBERS if name in present]
    for row in ctx.table.rows:
        cells = ctx.cells(row)
        contract = ctx.contract_of(cells)
        measure = ctx.measure_of(cells, contract)
        label = cells.get("period", parse_period_text, required=True, default="")
        values: dict[str, Any] = {}
        for name in numbers:
            values[name] = cells.get(name, parse_number)
        if "as_at" in present:
            values["as_at"] = cells.get("as_at", parse_day)
        if "flags" in present:
            values["flags"] = cells.get("flags", parse_flags, default=[])
        for name, limit in texts:
            values[name] = cells.text(name, max_length=limit)
        if measure is None or not label:
            continue
        key = (measure.pk, label)
        period = parsed_periods.get(key)
        if period is None:
            try:
                period = measure.parse_period(label)  # R11: the label, of the measure's frequency
            except periods.PeriodError as exc:
                period = str(exc)
            parsed_periods[key] = period
        if isinstance(period, str):
            cells.problem("period", period)
            continue
        if period.end > today:
            cells.problem(
                "period",
                f"has not ended yet (it ends {period.end:%d %B %Y}): a figure for a period still "
                "running belongs in its monthly return, not an import of past figures.",
            )
        if cells.bad:
            continue
        if all(values.get(n) is None for n in ("value", "numerator", "denominator")):
            cells.problem(
                "value", "is blank, and so are the numerator and denominator: a row needs a figure."
            )
            continue
        definition = definitions.get(measure.pk)
        if definition is None:
            definition = definitions[measure.pk] = measure.as_definition()
        figure = rating.Figure(
            values.get("value"), values.get("numerator"), values.get("denominator")
        )
        for message in rating.figure_problems(definition, figure):  # R6, as Observation.clean
            column = figure_column(message)
            cells.problem(column, message)
        if cells.bad:
            continue
        row_key = (measure.pk, period.label)
        first = seen.get(row_key)
        if first is not None:
            cells.problem(
                "period",
                f"{measure.code} {period.label} is already in row {first} of this file: a figure can be given once.",
            )
            continue
        seen[row_key] = row.number
        figures.append(_Figure(row.number, contract, measure, period, values))
    if not figures:
        return
    _write_observations(ctx, figures)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def bulk_insert(
    model: type[models.Model], rows: Iterable[dict[str, Any]], fields: list[Any] | None = None
) -> None:
    """Insert rows of plain values (dicts by field attname) in bulk.

    Why not ``bulk_create``: for tens of thousands of rows most of its time goes on making
    a model instance per row and compiling every value into one statement. On PostgreSQL
    the rows stream through one COPY (psycopg adapts decimals, dates, texts and booleans
    itself; JSON goes as its text); elsewhere through ``executemany``, each value prepared
    by its own field (``get_db_prep_save``), as the ORM writes it. No instance is made.
    The rows' ids are the database's own: callers that need them read them back by a
    unique key.
    """
    connection = connections[router.db_for_write(model)]
    if fields is None:
        fields = [f for f in model._meta.concrete_fields if not isinstance(f, AutoFieldMixin)]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    names = [f.attname for f in fields]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    values = [row.get(name) for name in names]
                    for i in json_at:
                        values[i] = json.dumps(values[i])
                    copy.write_row(values)
            return
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
        preparers = [(f.attname, f.get_db_prep_save) for f in fields]
        rows = iter(rows)
        while chunk := list(itertools.islice(rows, 5000)):
            cursor.executemany(
                sql,
                [[prep(row.get(name), connection) for name, prep in preparers] for row in chunk],
            )


TRACKED = [f.attname for f in Observation._meta.concrete_fields]


def history_rows(
    values: Iterable[dict[str, Any]], kind: str, user: Any, reason: str
) -> Iterator[dict[str, Any]]:
    """django-simple-history's records of figures written in bulk: the figure as it now
    is, when, by whom and why (``kind`` "+" created, "~" changed), as ``save()`` records."""
    when = timezone.now()
    user_id = user.pk if user is not None else None
    for row in values:
        yield {
            **row,
            "history_date": when,
            "history_change_reason": reason,
            "history_type": kind,
            "history_user_id": user_id,
        }


def _write_observations(ctx: Context, figures: list[_Figure]) -> None:
    measure_ids = sorted({f.measure.pk for f in figures})
    labels = sorted({f.period.label for f in figures})
    existing: dict[tuple[int, str], Observation] = {}
    in_returns: dict[tuple[int, str], tuple[str, str]] = {}
    for ids in _chunks(measure_ids, 500):
        for obs in Observation.objects.filter(measure_id__in=ids, period__in=labels):
            existing[(obs.measure_id, obs.period)] = obs
        for measure_id, label, state, month in Entry.objects.filter(
            measure_id__in=ids, period__in=labels
        ).values_list("measure_id", "period", "monthly_return__state", "monthly_return__period"):
            in_returns[(measure_id, label)] = (state, month)
    # The signed-off returns of the months the figures are due in (R13), even where the
    # return has no entry for the measure (one added to the contract since, say).
    months = {(f.contract.pk, return_month_of(f.measure, f.period)) for f in figures}
    signed_off = set(
        MonthlyReturn.objects.filter(
            contract_id__in={c for c, _ in months},
            period__in={m for _, m in months},
            state=ReturnState.SIGNED_OFF,
        ).values_list("contract_id", "period")
    )
    new: list[tuple[_Figure, dict[str, Any]]] = []
    changed: list[tuple[_Figure, Observation]] = []
    blank = {
        "as_at": None,
        "flags": [],
        "note": "",
        "source": "",
        "second_source": "",
        "second_value": None,
        "value": None,
        "numerator": None,
        "denominator": None,
    }
    for figure in figures:
        key = (figure.measure.pk, figure.period.label)
        code, label = figure.measure.code, figure.period.label
        cells = Cells(Row(figure.row, {}), ctx.present, ctx.problems)
        in_return = in_returns.get(key)
        if in_return is None:
            month = return_month_of(figure.measure, figure.period)
            if (figure.contract.pk, month) in signed_off:
                in_return = (ReturnState.SIGNED_OFF, month)
        obs = existing.get(key)
        if obs is not None and all(getattr(obs, n) == v for n, v in figure.values.items()):
            ctx.report.outcomes[figure.row] = "skip"  # the same figure again: nothing to do
            continue
        if in_return is not None:
            state, month = in_return
            if state == ReturnState.SIGNED_OFF:
                cells.problem(
                    "period",
                    f"{code} {label} is a figure of the {month} return, which is signed off: it changes "
                    "only when a commissioner reopens that return, with a reason (R15).",
                    label,
                )
            else:
                cells.problem(
                    "period",
                    f"{code} {label} belongs to the {month} return, which is "
                    f"{ReturnState(state).label.lower()}: enter it there, or upload the return's "
                    "spreadsheet, so it is part of the return (R13).",
                    label,
                )
            continue
        if obs is not None and obs.is_official:
            cells.problem(
                "period",
                f"{code} {label} is an official figure: it changes only when a commissioner reopens "
                "its return, with a reason (R15).",
                label,
            )
            continue
        if obs is None:
            new.append(
                (
                    figure,
                    {
                        **blank,
                        **figure.values,
                        "measure_id": figure.measure.pk,
                        "period": label,
                        "period_start": figure.period.start,
                        "period_end": figure.period.end,
                        "is_official": False,
                    },
                )
            )
        else:
            for name, value in figure.values.items():
                setattr(obs, name, value)
            obs.is_official = False
            changed.append((figure, obs))
    if ctx.problems:
        return
    user = ctx.history_user
    history = Observation.history.model
    if new:
        bulk_insert(Observation, [row for _, row in new])
        # The new figures' ids, by their unique key (measure, period).
        ids: dict[tuple[int, str], int] = {}
        new_measures = sorted({row["measure_id"] for _, row in new})
        new_labels = sorted({row["period"] for _, row in new})
        for chunk in _chunks(new_measures, 500):
            for pk, measure_id, label in Observation.objects.filter(
                measure_id__in=chunk, period__in=new_labels
            ).values_list("id", "measure_id", "period"):
                ids[(measure_id, label)] = pk
        for _, row in new:
            row["id"] = ids[(row["measure_id"], row["period"])]
        bulk_insert(history, history_rows([row for _, row in new], "+", user, ctx.reason))
    if changed:
        updated = [obs for _, obs in changed]
        Observation.objects.bulk_update(
            updated, [*OBSERVATION_FIELDS, "is_official"], batch_size=500
        )
        bulk_insert(
            history,
            history_rows(
                [{n: getattr(o, n) for n in TRACKED} for o in updated], "~", user, ctx.reason
            ),
        )
    by_contract: dict[int, list[tuple[_Figure, int]]] = defaultdict(list)
    for figure, row in new:
        ctx.report.outcomes[figure.row] = "new"
        by_contract[figure.contract.pk].append((figure, row["id"]))
    for figure, obs in changed:
        ctx.report.outcomes[figure.row] = "update"
        by_contract[figure.contract.pk].append((figure, obs.pk))
    now = timezone.now()
    through = ImportBatch.observations.through
    for pairs in by_contract.values():
        batch = ImportBatch(
            contract=pairs[0][0].contract,
            kind=ctx.kind,
            file_name=(ctx.file_name or "")[:300],
            rows=len(pairs),
            uploaded_by=user,
            uploaded_at=now,
        )
        stamp(batch, ctx)
        batch.save()
        bulk_insert(
            through, [{"importbatch_id": batch.pk, "observation_id": pk} for _, pk in pairs]
        )
        ctx.report.batches.append(batch)


IMPORTERS: dict[str, Callable[[Context], None]] = {
    "contracts": _import_contracts,
    "measures": _import_measures,
    "targets": _import_targets,
    "observations": _import_observations,
    "comparators": _import_comparators,
    "series_breaks": _import_series_breaks,
    "data_gaps": _import_data_gaps,
    "admissions": _import_admissions,
    "ehe": _import_ehe,
}


# --- accepting an import batch (R14) -----------------------------------------------------


class BatchError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def may_accept(user: Any, contract: Contract) -> bool:
    """Accepting history is the commissioner's word that it is right, as signing off a
    return is (R14): the same right, ``Do.SIGN_OFF``."""
    return access.may(user, Do.SIGN_OFF, contract)


def batches_for(user: Any) -> models.QuerySet[ImportBatch]:
    """Import batches of the contracts whose history the user may accept."""
    contracts = [c.pk for c in access.contracts_for(user) if may_accept(user, c)]
    return ImportBatch.objects.filter(contract_id__in=contracts).select_related(
        "contract", "uploaded_by", "accepted_by"
    )


def accept_batch(batch_id: int, user: Any) -> tuple[ImportBatch, int]:
    """The commissioner accepts a batch in one audited act: its figures become official
    (R14). Returns the batch and how many figures it made official.

    Figures since taken into a return (opened after the import) are left to that return:
    they become official when it is signed off (R13, R14).
    """
    with transaction.atomic():
        batch = (
            ImportBatch.objects.select_for_update()
            .select_related("contract")
            .filter(pk=batch_id)
            .first()
        )
        if batch is None:
            raise BatchError("There is no such import batch.")
        if not may_accept(user, batch.contract):
            raise PermissionDenied(
                f"Only a commissioner of {batch.contract} may accept its imported history."
            )
        if batch.state != ImportBatch.State.PENDING:
            raise BatchError(
                f"Import batch {batch.pk} was already accepted by {batch.accepted_by} "
                f"on {timezone.localtime(batch.accepted_at):%d %B %Y at %H:%M}."
            )
        drafts = Observation.objects.filter(
            import_batches=batch, is_official=False, entry__isnull=True
        )
        accepted = [{**row, "is_official": True} for row in drafts.values(*TRACKED)]
        Observation.objects.filter(pk__in=drafts.values("pk")).update(is_official=True)
        reason = f"Accepted as official in import batch {batch.pk} ({batch.file_name})"[:100]
        bulk_insert(Observation.history.model, history_rows(accepted, "~", user, reason))
        batch.state = ImportBatch.State.ACCEPTED
        batch.accepted_by = user
        batch.accepted_at = timezone.now()
        batch._change_reason = reason  # type: ignore[attr-defined]
        batch._history_user = user  # type: ignore[attr-defined]
        batch.save(update_fields=["state", "accepted_by", "accepted_at"])
    return batch, len(accepted)
