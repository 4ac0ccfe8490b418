"""The return as a spreadsheet: download prefilled, fill in, upload, preview, confirm; the
result is what entering the same figures on the entry pages gives."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contracts import spreadsheets, workflow
from contracts.models import MonthlyReturn, ReturnEvent
from kpis.models import Observation

from .conftest import row_counts

pytestmark = pytest.mark.django_db

FILLED = {
    "KPI 1": {
        "value": 90,
        "variance_reason": "Two staff were absent in the month.",
        "note": "-3 on March",
    },
    "KPI 2": {
        "numerator": 47,
        "denominator": 50,
        "as_at": dt.date(2018, 6, 3),
        "flags": "provisional",
        "second_value": 93.5,
        "second_source": "Council's own count",
        "variance_reason": "Fewer referrals were decided in time.",
    },
}


def page_data(filled: dict, version: int) -> dict:
    """The entry page's form, as a person would type the same figures on it."""
    data = {
        "version": str(version),
        "value": "",
        "numerator": "",
        "denominator": "",
        "as_at": "",
        "note": "",
        "second_value": "",
        "second_source": "",
        "variance_reason": "",
        "no_data_reason": "",
        "reason": "",
    }
    for key, value in filled.items():
        if key == "flags":
            data["flags"] = value.split()
        elif isinstance(value, dt.date):
            data[key] = value.isoformat()
        else:
            data[key] = str(value)
    return data


def download(client, monthly_return) -> openpyxl.Workbook:
    answer = client.get(reverse("spreadsheets:download", args=[monthly_return.pk]))
    assert answer.status_code == 200
    assert (
        answer["Content-Disposition"]
        == f'attachment; filename="c-return-{monthly_return.period}.xlsx"'
    )
    return openpyxl.load_workbook(io.BytesIO(answer.content))


def rows_by_code(sheet) -> dict[str, int]:
    keys = {cell.value: cell.column for cell in sheet[spreadsheets.KEY_ROW]}
    return {
        sheet.cell(row=r, column=keys["code"]).value: r
        for r in range(spreadsheets.FIRST_DATA_ROW, sheet.max_row + 1)
        if sheet.cell(row=r, column=keys["code"]).value
    }


def fill(workbook: openpyxl.Workbook, filled: dict) -> bytes:
    sheet = workbook[spreadsheets.SHEET_TITLE]
    keys = {cell.value: cell.column for cell in sheet[spreadsheets.KEY_ROW]}
    rows = rows_by_code(sheet)
    for code, values in filled.items():
        for key, value in values.items():
            sheet.cell(row=rows[code], column=keys[key], value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, monthly_return, data: bytes, name: str = "may.xlsx"):
    return client.post(
        reverse("spreadsheets:upload", args=[monthly_return.pk]),
        {"file": SimpleUploadedFile(name, data, content_type="application/octet-stream")},
    )


def record(monthly_return: MonthlyReturn) -> dict:
    """What a return holds after its figures are entered, except its own period labels."""
    entries = {}
    for entry in monthly_return.entries.select_related("measure", "observation", "updated_by"):
        obs = entry.observation
        entries[entry.measure.code] = (
            entry.variance_reason,
            entry.no_data_reason,
            entry.version,
            entry.updated_by.username if entry.updated_by else None,
            None
            if obs is None
            else tuple(
                getattr(obs, f)
                for f in (
                    "value",
                    "numerator",
                    "denominator",
                    "as_at",
                    "flags",
                    "note",
                    "second_value",
                    "second_source",
                    "source",
                    "is_official",
                )
            ),
        )
    events = [
        (
            e.action,
            e.actor.username if e.actor else None,
            e.from_state,
            e.to_state,
            e.reason,
            e.detail,
        )
        for e in monthly_return.events.exclude(action=ReturnEvent.Action.UPLOAD).order_by(
            "at", "pk"
        )
    ]
    return {"entries": entries, "events": events, "state": monthly_return.state}


def test_a_spreadsheet_filled_in_and_uploaded_saves_what_the_entry_pages_would(cast, client):
    contract, people = cast
    client.force_login(people["editor"])
    by_page = workflow.open_return(contract, "2018-05")
    by_upload = workflow.open_return(contract, "2018-07")  # the same measures due as May
    FILLED_JULY = {code: dict(values) for code, values in FILLED.items()}
    FILLED_JULY["KPI 2"]["as_at"] = dt.date(2018, 7, 3)

    # On the pages, one entry at a time.
    FILLED_MAY = {code: dict(values) for code, values in FILLED.items()}
    FILLED_MAY["KPI 2"]["as_at"] = dt.date(2018, 7, 3)
    for entry in by_page.entries.select_related("measure"):
        answer = client.post(
            reverse("returns:entry", args=[by_page.pk, entry.pk]),
            page_data(FILLED_MAY[entry.measure.code], entry.version),
        )
        assert answer.status_code == 302, answer.content.decode()[:2000]

    # By spreadsheet: download, fill in, upload, preview, confirm.
    data = fill(download(client, by_upload), FILLED_JULY)
    preview = upload(client, by_upload, data, "july.xlsx")
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "Check july.xlsx before saving it" in page and "Save the 2 changes" in page
    assert page.count("Within tolerance") == 2  # the engine's verdicts for the figures to be saved
    assert by_upload.entries.filter(observation__isnull=False).count() == 0  # nothing saved yet
    token = preview.context["token"]
    done = client.post(reverse("spreadsheets:confirm", args=[by_upload.pk]), {"token": token})
    assert done.status_code == 302 and done["Location"] == reverse(
        "returns:detail", args=[by_upload.pk]
    )

    by_page.refresh_from_db()
    by_upload.refresh_from_db()
    assert record(by_upload) == record(by_page)
    uploads = list(by_upload.events.filter(action=ReturnEvent.Action.UPLOAD))
    assert len(uploads) == 1
    assert (uploads[0].actor, uploads[0].detail) == (
        people["editor"],
        {"file": "july.xlsx", "measures": "KPI 1, KPI 2"},
    )
    kpi2 = Observation.objects.get(measure__code="KPI 2", period="2018-07")
    assert (
        kpi2.flags == ["provisional"] and kpi2.as_at == dt.date(2018, 7, 3) and not kpi2.is_official
    )
    assert Observation.objects.get(measure__code="KPI 1", period="2018-07").note == "-3 on March"

    # The same confirmation twice saves nothing more.
    again = client.post(reverse("spreadsheets:confirm", args=[by_upload.pk]), {"token": token})
    assert again.status_code == 409 and "expired or was already saved" in again.content.decode()


def test_the_download_is_prefilled_with_the_measures_due_their_targets_and_cells_to_fill(
    cast, client
):
    contract, people = cast
    client.force_login(people["editor"])
    april = MonthlyReturn.objects.get(contract=contract, period="2018-04")
    may = workflow.open_return(contract, "2018-05")
    sheet = download(client, may)[spreadsheets.SHEET_TITLE]
    keys = {cell.value: cell.column for cell in sheet[spreadsheets.KEY_ROW]}
    rows = rows_by_code(sheet)
    assert list(rows) == ["KPI 1", "KPI 2"]
    row = rows["KPI 1"]
    assert sheet.cell(row=row, column=keys["period"]).value == "2018-05"
    assert sheet.cell(row=row, column=keys["target"]).value == "95%, tolerance from 85%"
    assert sheet.cell(row=row, column=keys["verdict"]).value.startswith("No data")
    assert sheet.cell(row=row, column=keys["value"]).protection.locked is False
    assert sheet.cell(row=row, column=keys["code"]).protection.locked is True
    assert sheet.protection.sheet is True
    assert sheet.column_dimensions["A"].hidden and sheet.column_dimensions["B"].hidden

    signed = download(client, april)[spreadsheets.SHEET_TITLE]
    row = rows_by_code(signed)["KPI 1"]
    assert signed.cell(row=row, column=keys["value"]).value == 96
    assert (
        signed.cell(row=row, column=keys["value"]).protection.locked is True
    )  # signed off: for reading
    assert "For reading" in signed["A3"].value


def test_an_upload_with_problems_shows_every_one_and_saves_nothing(cast, client):
    contract, people = cast
    client.force_login(people["editor"])
    may = workflow.open_return(contract, "2018-05")
    data = fill(
        download(client, may),
        {
            "KPI 1": {"value": "92,1", "as_at": "someday"},
            "KPI 2": {"numerator": 60, "denominator": 50, "note": '=HYPERLINK("http://x")'},
        },
    )
    before = row_counts()
    answer = upload(client, may, data)
    assert answer.status_code == 400
    problems = [(p.row, p.column) for p in answer.context["result"].problems]
    first = spreadsheets.FIRST_DATA_ROW
    assert problems == [(first, "value"), (first, "as_at"), (first + 1, "note")]
    page = answer.content.decode()
    assert "3 problems: nothing was saved" in page and "holds a formula" in page
    assert "is not a number" in page and "is not a date" in page
    assert row_counts() == before

    # The numerator larger than its denominator is the page's own refusal (R6), by save_entry.
    data = fill(download(client, may), {"KPI 2": {"numerator": 60, "denominator": 50}})
    answer = upload(client, may, data)
    assert answer.status_code == 400
    assert "KPI 2: the numerator 60 is larger than the denominator 50" in answer.content.decode()
    assert row_counts() == before


def test_a_row_saved_on_the_page_since_the_download_is_refused_as_stale(cast, client):
    contract, people = cast
    client.force_login(people["editor"])
    may = workflow.open_return(contract, "2018-05")
    workbook = download(client, may)
    entry = may.entries.get(measure__code="KPI 1")
    workflow.save_entry(entry.pk, people["lead"], version=entry.version, figures={"value": 99})
    data = fill(workbook, {"KPI 1": {"value": 90}})
    answer = upload(client, may, data)
    assert answer.status_code == 400
    assert (
        "KPI 1 was saved by lead after this spreadsheet was downloaded" in answer.content.decode()
    )
    # An untouched row is no conflict: the page's change stands.
    untouched = upload(client, may, fill(download(client, may), {"KPI 2": {"value": 96}}))
    assert untouched.status_code == 200 and "Save the 1 change" in untouched.content.decode()


def test_a_50_mb_upload_is_refused_unread(cast, client):
    contract, people = cast
    client.force_login(people["editor"])
    may = workflow.open_return(contract, "2018-05")
    before = row_counts()
    answer = upload(client, may, b"PK\x03\x04" + b"\x00" * (50 * 1024 * 1024), "huge.xlsx")
    assert answer.status_code == 413
    assert answer.wsgi_request.upload_too_large and not answer.wsgi_request.FILES  # skipped unread
    assert re.search(
        r"The upload is 50\.0 MB, larger than the 10\.0 MB allowed: nothing was read",
        answer.content.decode(),
    )
    assert row_counts() == before


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("may.xlsx", b"", "may.xlsx is empty"),
        ("may.csv", b"a,b\n", "may.csv is not an .xlsx workbook"),
        (
            "may.xlsx",
            b"code,value\nKPI 1,90\n",
            "may.xlsx is named .xlsx but is not an Excel workbook",
        ),
    ],
)
def test_a_bad_file_is_refused_with_its_message(cast, client, name, data, message):
    contract, people = cast
    client.force_login(people["editor"])
    may = workflow.open_return(contract, "2018-05")
    answer = upload(client, may, data, name)
    assert answer.status_code == 400 and message in answer.content.decode()


def test_only_the_providers_staff_upload_and_other_organisations_see_nothing(cast, client):
    from contracts.models import Role
    from tests.factories import ContractFactory, member

    contract, people = cast
    may = workflow.open_return(contract, "2018-05")
    client.force_login(people["commissioner"])
    assert client.get(reverse("spreadsheets:download", args=[may.pk])).status_code == 200
    assert upload(client, may, b"PK\x03\x04").status_code == 403
    outsider = member(ContractFactory().provider, Role.PROVIDER_EDITOR, "outsider")
    client.force_login(outsider)
    assert client.get(reverse("spreadsheets:download", args=[may.pk])).status_code == 404
    assert client.get(reverse("spreadsheets:return", args=[may.pk])).status_code == 404


def test_the_spreadsheet_page_offers_the_upload_only_to_those_who_may_change_the_return(
    cast, client
):
    contract, people = cast
    may = workflow.open_return(contract, "2018-05")
    client.force_login(people["editor"])
    page = client.get(reverse("spreadsheets:return", args=[may.pk])).content.decode()
    assert "Download c-return-2018-05.xlsx" in page and "Upload and preview" in page
    unchanged = upload(client, may, fill(download(client, may), {}))
    assert unchanged.status_code == 200 and "there is nothing to save" in unchanged.content.decode()
    assert not unchanged.context["token"]
    client.force_login(people["commissioner"])
    page = client.get(reverse("spreadsheets:return", args=[may.pk])).content.decode()
    assert "Upload and preview" not in page and "for reading" in page


def test_the_upload_checks_csrf_itself(cast):
    from django.test import Client

    contract, people = cast
    may = workflow.open_return(contract, "2018-05")
    client = Client(enforce_csrf_checks=True)
    client.force_login(people["editor"])
    answer = upload(client, may, b"PK\x03\x04")
    assert answer.status_code == 403 and b"CSRF" in answer.content
