"""A monthly return as a spreadsheet: download it prefilled, fill it in, upload it (issue 6).

The download is an .xlsx with one row per measure due: its period, the target and
tolerance in force (in the engine's words, ``rating.target_words``), the verdict and
what is owed when it was downloaded, and a cell for each figure and narrative the entry
page has. Only the cells the provider may change now are unlocked; each row carries
its entry's id and the version it was downloaded at (hidden columns).

An upload is read into the entry page's own form (``returns_forms.EntryForm``, so a
number or date is read exactly as typed on the page), and then:

* ``preview`` runs ``workflow.save_entry`` for every changed row inside a transaction
  it rolls back, so every check is the page's own (R6 figure problems, flags, who may
  change what in which state, optimistic locking) and the verdicts shown are the
  engine's for the figures as they would be saved (``workflow.entry_statuses``);
* ``apply`` saves the same rows through ``workflow.save_entry``, each with the version
  it was downloaded at, all in one transaction (one refusal saves nothing), then
  records one ``upload`` event in the return's history naming the file and measures.

So the result is what entering the same figures on the entry pages gives, event for
event, plus the upload event. A row left as downloaded changes nothing, even if the
entry was saved on the page since; a changed row whose entry was saved since is
refused as stale, naming who saved it.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone

from contracts import access, workflow
from contracts.access import Do
from contracts.exports import xlsx_value
from contracts.imports import (
    FORMULA_TRIGGERS,
    CellError,
    ImportFileError,
    Problem,
    column_letter,
    formula_text,
    max_upload_bytes,
    normalise_heading,
    parse_flags,
    shown,
    size_words,
)
from contracts.models import Entry, MonthlyReturn, ReturnEvent
from contracts.returns_forms import EntryForm, plain_number
from kpis import rating
from kpis.scorecard import target_in_force
from kpis.words import VERDICT_WORDS

SHEET_TITLE = "Return"
KEY_ROW = 6  # the hidden row of column keys; labels above it, data below
FIRST_DATA_ROW = KEY_ROW + 1


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    editable: bool = False
    hidden: bool = False


COLUMNS = (
    Column("entry_id", "Entry (do not change)", 8, hidden=True),
    Column("version", "Version (do not change)", 8, hidden=True),
    Column("code", "Measure", 10),
    Column("title", "Title", 40),
    Column("period", "Period covered", 14),
    Column("target", "Target and tolerance", 26),
    Column("verdict", "Verdict when downloaded", 22),
    Column("owed", "Still owed when downloaded", 30),
    Column("value", "Value", 11, editable=True),
    Column("numerator", "Numerator", 11, editable=True),
    Column("denominator", "Denominator", 12, editable=True),
    Column("as_at", "As at (date)", 12, editable=True),
    Column("flags", "Flags", 16, editable=True),
    Column("note", "Note", 30, editable=True),
    Column("second_value", "Second source value", 12, editable=True),
    Column("second_source", "Second source name", 18, editable=True),
    Column("variance_reason", "Reason for the variance", 40, editable=True),
    Column("no_data_reason", "Reason there is no figure", 30, editable=True),
)
INPUTS = tuple(c.key for c in COLUMNS if c.editable)
LETTERS = {c.key: column_letter(i) for i, c in enumerate(COLUMNS)}
FLAG_WORDS = "Flags, separated by spaces: gap, illustrative, lag, provisional, second_source_disagrees, series_break."


def file_name_for(monthly_return: MonthlyReturn) -> str:
    return f"{monthly_return.contract.slug}-return-{monthly_return.period}.xlsx"


def _cell_text(value: Any) -> str:
    """A stored value as the entry page shows it in its box."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return plain_number(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def _owed_words(status: workflow.EntryStatus) -> str:
    return " ".join(item.message for item in status.owed)


def _target_words(entry: Entry) -> str:
    measure = entry.measure
    try:
        day = measure.parse_period(entry.period).end
    except ValueError:
        day = entry.monthly_return.period_end
    target = target_in_force(list(measure.targets.all()), day)
    return rating.target_words(measure.as_definition(), target.as_spec() if target else None)


# --- download --------------------------------------------------------------------------


def build_workbook(monthly_return: MonthlyReturn, user: Any) -> bytes:
    """The return as an .xlsx, prefilled with what is saved now."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.worksheet.datavalidation import DataValidation

    statuses = workflow.entry_statuses(monthly_return)
    editable = workflow.editable_entry_ids(monthly_return)
    may_edit = access.may(user, Do.EDIT_ENTRIES, monthly_return.contract)
    contract = monthly_return.contract

    workbook = Workbook()
    ws = workbook.active
    ws.title = SHEET_TITLE
    ws["A1"] = f"{contract.name}: monthly return for {monthly_return.period}"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = (
        f"State: {monthly_return.get_state_display().lower()}. Downloaded "
        f"{timezone.localtime():%d %B %Y at %H:%M} by {user.get_username()}."
    )
    if may_edit and editable != set():
        ws["A3"] = (
            "Fill in the white cells only, then upload this file on the return's spreadsheet page: "
            "you will see the verdicts and any problems before anything is saved. Numbers as on the "
            "page (92.5, no commas or % signs), dates as 2018-04-30 or 30/4/2018. Formulas are not read."
        )
    else:
        ws["A3"] = "For reading: this return cannot be changed by you now, so every cell is locked."
    ws["A4"] = FLAG_WORDS + " Actions are added on the entry's page."
    for row in (2, 3, 4):
        ws.cell(row=row, column=1).alignment = Alignment(wrap_text=False)

    label_row = KEY_ROW - 1
    heading_font = Font(bold=True)
    grey = PatternFill("solid", fgColor="F3F2F1")
    for index, column in enumerate(COLUMNS, start=1):
        label = ws.cell(row=label_row, column=index, value=column.label)
        label.font = heading_font
        label.alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(row=KEY_ROW, column=index, value=column.key)
        letter = column_letter(index - 1)
        ws.column_dimensions[letter].width = column.width
        if column.hidden:
            ws.column_dimensions[letter].hidden = True
    ws.cell(
        row=label_row, column=COLUMNS.index(next(c for c in COLUMNS if c.key == "flags")) + 1
    ).comment = Comment(FLAG_WORDS, "Contract Monitor")
    ws.row_dimensions[KEY_ROW].hidden = True
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=4)

    numbers = DataValidation(
        type="decimal",
        operator="between",
        formula1="-999999999999",
        formula2="999999999999",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Not a number",
        error="Write a plain number, e.g. 92.5.",
    )
    ws.add_data_validation(numbers)
    for offset, status in enumerate(statuses):
        entry = status.entry
        obs = entry.observation
        row = FIRST_DATA_ROW + offset
        can_change = may_edit and (editable is None or entry.pk in editable)
        values = {
            "entry_id": entry.pk,
            "version": entry.version,
            "code": entry.measure.code,
            "title": entry.measure.title,
            "period": entry.period,
            "target": _target_words(entry),
            "verdict": f"{VERDICT_WORDS[status.verdict.status]}: {status.verdict.reason}",
            "owed": _owed_words(status),
            "variance_reason": entry.variance_reason,
            "no_data_reason": entry.no_data_reason,
        }
        if obs is not None:
            values.update(
                value=obs.value,
                numerator=obs.numerator,
                denominator=obs.denominator,
                as_at=obs.as_at,
                flags=" ".join(obs.flags or []),
                note=obs.note,
                second_value=obs.second_value,
                second_source=obs.second_source,
            )
        for index, column in enumerate(COLUMNS, start=1):
            value = values.get(column.key)
            value = xlsx_value(value)  # texts never formulas
            cell = ws.cell(row=row, column=index, value=value if value != "" else None)
            cell.alignment = Alignment(wrap_text=column.width >= 26, vertical="top")
            if column.key == "as_at":
                cell.number_format = "yyyy-mm-dd"
            if column.editable and can_change:
                cell.protection = Protection(locked=False)
            else:
                cell.fill = grey
        if can_change:
            for key in ("value", "numerator", "denominator", "second_value"):
                numbers.add(f"{LETTERS[key]}{row}")
    ws.protection.sheet = True
    # Protection guards the ids and what is not the provider's to change; people may still
    # resize, sort out of the way and format (the upload matches rows by entry, not place).
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.formatCells = False
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- upload ----------------------------------------------------------------------------


@dataclass
class Change:
    """One row that changes its entry: the entry page's form data, as typed."""

    entry_id: int
    code: str
    row: int
    data: dict[str, Any]

    def form(self) -> EntryForm:
        query = QueryDict(mutable=True)
        for key, value in self.data.items():
            if isinstance(value, list):
                query.setlist(key, value)
            else:
                query[key] = value
        return EntryForm(query)


@dataclass
class PreviewRow:
    code: str
    title: str
    period: str
    target: str
    value: str
    status: str
    verdict: str
    reason: str
    owed: list[str]
    changed: bool


@dataclass
class Preview:
    file_name: str
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    rows: list[PreviewRow] = field(default_factory=list)
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_session(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "changes": [
                {"entry_id": c.entry_id, "code": c.code, "row": c.row, "data": c.data}
                for c in self.changes
            ],
        }

    @classmethod
    def from_session(cls, stored: dict[str, Any]) -> Preview:
        return cls(file_name=stored["file_name"], changes=[Change(**c) for c in stored["changes"]])


class UploadRefused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def _input_text(raw: Any) -> str:
    """A cell as the text a person would have typed in the page's box."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float):
        return (
            format(Decimal(repr(raw)), "f") if raw == raw and abs(raw) != float("inf") else str(raw)
        )
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, (int, Decimal, date)):
        return str(raw)
    text = str(raw)
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_TRIGGERS:
        text = text[1:]  # the apostrophe the download put before a formula-like text
    return text


def _read_sheet(
    data: bytes, file_name: str
) -> tuple[dict[str, int], list[tuple[int, tuple[Any, ...]]], str]:
    """The key row's columns and the data rows (with their row numbers)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    name = Path(file_name or "").name or "the file"
    limit = max_upload_bytes()
    if len(data) > limit:
        raise ImportFileError(
            f"{name} is {size_words(len(data))}, larger than the {size_words(limit)} allowed."
        )
    if not data:
        raise ImportFileError(
            f"{name} is empty: upload the spreadsheet downloaded for this return, filled in."
        )
    if Path(name).suffix.lower() != ".xlsx":
        raise ImportFileError(
            f"{name} is not an .xlsx workbook: upload the spreadsheet downloaded for this return."
        )
    if not data.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            f"{name} is named .xlsx but is not an Excel workbook. Upload the spreadsheet downloaded for "
            "this return, saved as 'Excel Workbook (.xlsx)'."
        )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, TypeError):
        raise ImportFileError(
            f"{name} is not an Excel workbook that can be read; it may be damaged."
        ) from None
    try:
        sheet = (
            workbook[SHEET_TITLE] if SHEET_TITLE in workbook.sheetnames else workbook.worksheets[0]
        )
        keys: dict[str, int] | None = None
        rows: list[tuple[int, tuple[Any, ...]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if keys is None:
                found = {normalise_heading(v): i for i, v in enumerate(values) if v is not None}
                if "entry_id" in found and "version" in found:
                    keys = found
                elif number > 30:
                    break
                continue
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            rows.append((number, values))
    finally:
        workbook.close()
    if keys is None:
        raise ImportFileError(
            f"{name} is not a return spreadsheet: it has no row of column keys (entry_id, version, ...). "
            "Download the return's spreadsheet, fill it in and upload that."
        )
    return keys, rows, name


def read_upload(monthly_return: MonthlyReturn, data: bytes, file_name: str) -> Preview:
    """The rows of an uploaded return spreadsheet that change something, with every
    problem by row and column (nothing checked against the database yet)."""
    keys, rows, name = _read_sheet(data, file_name)
    preview = Preview(file_name=name)
    missing = [k for k in ("entry_id", "version", *INPUTS) if k not in keys]
    if missing:
        preview.problems.append(
            Problem(
                KEY_ROW,
                missing[0],
                "",
                f"the spreadsheet has no {', '.join(missing)} column: download it again.",
            )
        )
        return preview
    entries = {
        e.pk: e
        for e in monthly_return.entries.select_related("measure", "observation", "updated_by")
    }
    seen: dict[int, int] = {}
    for number, values in rows:

        def raw(key: str, values: tuple[Any, ...] = values) -> Any:
            index = keys.get(key)
            return values[index] if index is not None and index < len(values) else None

        def problem(key: str, why: str, value: Any = None, number: int = number) -> None:
            preview.problems.append(Problem(number, key, shown(value), why))

        formulas = False
        for key in ("entry_id", "version", *INPUTS):
            formula = formula_text(raw(key))
            if formula is not None:
                problem(
                    key,
                    f"cell {column_letter(keys[key])}{number} holds a formula. Only values are read: "
                    "replace it with its value (copy, then Paste Special > Values).",
                    formula,
                )
                formulas = True
        if formulas:
            continue
        try:
            entry_id = int(raw("entry_id"))
            version = int(raw("version"))
        except (TypeError, ValueError):
            problem(
                "entry_id",
                "is not an entry of this return: the row's hidden id and version were changed. Download the spreadsheet again.",
                raw("entry_id"),
            )
            continue
        entry = entries.get(entry_id)
        if entry is None:
            problem(
                "entry_id",
                f"is not an entry of the {monthly_return.contract.slug} {monthly_return.period} return: "
                "was the spreadsheet downloaded for another return?",
                entry_id,
            )
            continue
        if entry_id in seen:
            problem(
                "entry_id",
                f"{entry.measure.code} is already in row {seen[entry_id]}: a measure can be given once.",
                entry.measure.code,
            )
            continue
        seen[entry_id] = number
        data_in: dict[str, Any] = {"version": str(version)}
        for key in INPUTS:
            data_in[key] = _input_text(raw(key))
        try:
            data_in["flags"] = parse_flags(data_in["flags"]) if data_in["flags"].strip() else []
        except CellError as exc:
            problem("flags", str(exc), raw("flags"))
            continue
        change = Change(entry_id=entry.pk, code=entry.measure.code, row=number, data=data_in)
        form = change.form()
        if not form.is_valid():
            for key, errors in form.errors.items():
                for message in errors:
                    problem(key if key in keys else "value", message, raw(key))
            continue
        if _same_as_saved(entry, form):
            preview.unchanged += 1
            continue
        if entry.version != version:
            who = entry.updated_by.get_username() if entry.updated_by else "someone else"
            problem(
                "",
                f"{entry.measure.code} was saved by {who} after this spreadsheet was downloaded "
                f"(version {entry.version}, the spreadsheet has {version}): nothing was saved. Download "
                "the spreadsheet again and copy your changes into it.",
            )
            continue
        preview.changes.append(change)
    return preview


def _same_as_saved(entry: Entry, form: EntryForm) -> bool:
    """Whether a row says what its entry holds now (so it asks for no change)."""
    obs = entry.observation
    figures = form.figures()
    for name in workflow.FIGURE_FIELDS:
        saved = getattr(obs, name) if obs is not None else None
        wanted = figures.get(name)
        if name == "flags":
            if list(saved or []) != list(wanted or []):
                return False
        elif name in ("note", "second_source"):
            if (saved or "") != (wanted or ""):
                return False
        elif saved != wanted:
            return False
    narrative = form.narrative()
    return all(
        getattr(entry, n) == (narrative.get(n) or "").strip() for n in workflow.NARRATIVE_FIELDS
    )


def _save_all(monthly_return: MonthlyReturn, changes: list[Change], user: Any) -> list[Problem]:
    """Save every change through the page's own path; the problems of those refused."""
    problems: list[Problem] = []
    for change in changes:
        form = change.form()
        if not form.is_valid():
            for key, errors in form.errors.items():
                problems.extend(Problem(change.row, key, "", m) for m in errors)
            continue
        try:
            with transaction.atomic():
                workflow.save_entry(
                    change.entry_id,
                    user,
                    version=form.cleaned_data["version"],
                    figures=form.figures(),
                    narrative=form.narrative(),
                    actions=(),
                    reason=form.cleaned_data["reason"],
                )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"value": exc.messages}
            for key, messages in errors.items():
                column = key if key in INPUTS else "value"
                found = change.data.get(column, "")
                found = " ".join(found) if isinstance(found, list) else found
                problems.extend(Problem(change.row, column, found, m) for m in messages)
        except workflow.StaleEntry as exc:
            problems.append(
                Problem(
                    change.row,
                    "",
                    "",
                    exc.message + " Nothing was saved: download the spreadsheet again.",
                )
            )
        except workflow.WorkflowError as exc:
            problems.append(Problem(change.row, "", "", exc.message))
        except PermissionDenied as exc:
            problems.append(
                Problem(change.row, "", "", str(exc) or "You may not change this return.")
            )
    return problems


class _Undo(Exception):
    pass


def preview(monthly_return: MonthlyReturn, data: bytes, file_name: str, user: Any) -> Preview:
    """Read an upload and show what saving it would give: the engine's verdicts for the
    figures as they would be saved, and every problem, with nothing saved."""
    access.require(user, Do.EDIT_ENTRIES, monthly_return.contract)
    result = read_upload(monthly_return, data, file_name)
    if not result.ok:
        return result
    try:
        with transaction.atomic():
            result.problems.extend(_save_all(monthly_return, result.changes, user))
            monthly_return.refresh_from_db()
            changed = {c.entry_id for c in result.changes}
            result.rows = [
                _preview_row(status, status.entry.pk in changed)
                for status in workflow.entry_statuses(monthly_return)
            ]
            raise _Undo
    except _Undo:
        pass
    return result


def _preview_row(status: workflow.EntryStatus, changed: bool) -> PreviewRow:
    entry = status.entry
    definition = entry.measure.as_definition()
    return PreviewRow(
        code=entry.measure.code,
        title=entry.measure.title,
        period=entry.period,
        target=_target_words(entry),
        value=rating.display_value(definition, status.verdict),
        status=str(status.verdict.status),
        verdict=VERDICT_WORDS[status.verdict.status],
        reason=status.verdict.reason,
        owed=[item.message for item in status.owed],
        changed=changed,
    )


def apply(monthly_return: MonthlyReturn, stored: Preview, user: Any) -> ReturnEvent:
    """Save a previewed upload: every change through ``workflow.save_entry`` in one
    transaction, then the upload event. Raises ``UploadRefused`` (nothing saved) if any
    change is refused now, for instance because the entry was saved since the preview."""
    access.require(user, Do.EDIT_ENTRIES, monthly_return.contract)
    if not stored.changes:
        raise UploadRefused(
            [Problem(None, "", "", "The upload changes nothing: there is nothing to save.")]
        )
    with transaction.atomic():
        locked = MonthlyReturn.objects.select_for_update().get(pk=monthly_return.pk)
        problems = _save_all(locked, stored.changes, user)
        if problems:
            raise UploadRefused(problems)  # leaving the block undoes every save
        locked.refresh_from_db()
        event = workflow._record(
            locked,
            ReturnEvent.Action.UPLOAD,
            user,
            locked.state,
            f"Uploaded {stored.file_name}",
            file=stored.file_name,
            measures=", ".join(c.code for c in stored.changes),
        )
    return event
