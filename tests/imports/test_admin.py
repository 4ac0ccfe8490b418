"""The admin's import (django-import-export: file, preview, confirm) and export, through
the same import path as the command: every problem by row and column, all or nothing."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

import contracts.import_admin  # noqa: F401  (contracts.admin imports it; made sure here)
from contracts.models import ImportBatch
from kpis.models import Observation

from .conftest import csv_bytes, row_counts, xlsx_bytes

pytestmark = pytest.mark.django_db

HEADINGS = ["contract", "code", "period", "value", "note"]


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_user(
        "staff-admin", password="pw", is_staff=True, is_superuser=True
    )
    client.force_login(user)
    return user


def post_file(client, data: bytes, name: str, fmt: int):
    return client.post(
        reverse("admin:kpis_observation_import"),
        {"import_file": SimpleUploadedFile(name, data), "format": str(fmt), "resource": "0"},
    )


def test_the_admin_previews_every_problem_and_imports_nothing(cast, staff, client):
    page = client.get(reverse("admin:kpis_observation_import"))
    assert page.status_code == 200
    assert "contract, code, period, value, numerator, denominator" in page.content.decode().replace(
        "</code>, <code>", ", "
    )
    before = row_counts()
    answer = post_file(
        client,
        csv_bytes(HEADINGS, [["c", "KPI 9", "2018-03", "90"], ["c", "KPI 1", "2018-13", "x"]]),
        "bad.csv",
        0,
    )
    assert answer.status_code == 200
    result = answer.context["result"]
    assert [(row.number, sorted(row.error_dict)) for row in result.invalid_rows] == [
        (2, ["code"]),
        (3, ["period", "value"]),
    ]
    assert "confirm_form" not in answer.context
    page = answer.content.decode()
    assert "is not the code of a measure of c" in page and "is not a number" in page
    assert row_counts() == before


def test_a_bad_file_gets_its_message_in_the_admin(cast, staff, client):
    data = "contract,code,period,value,note\nc,KPI 1,2018-03,90,Dip – see note\n".encode("cp1252")
    answer = post_file(client, data, "figures.csv", 0)
    assert "is not UTF-8: the byte 0x96 on line 2" in answer.content.decode()
    answer = post_file(
        client, xlsx_bytes(HEADINGS, [["c", "KPI 1", "2018-03", "=1/0"]]), "figures.xlsx", 1
    )
    assert "cell D2 holds a formula" in answer.content.decode()


def test_the_admin_imports_after_its_preview_is_confirmed(cast, staff, client):
    data = xlsx_bytes(
        HEADINGS, [["c", "KPI 1", "2018-03", 90, "dip"], ["c", "KPI 2", "2018-03", 97, None]]
    )
    before = row_counts()
    preview = post_file(client, data, "march.xlsx", 1)
    assert preview.status_code == 200 and "confirm_form" in preview.context
    assert row_counts() == before  # the preview is a dry run
    confirm = preview.context["confirm_form"]
    done = client.post(
        reverse("admin:kpis_observation_process_import"), {k: v for k, v in confirm.initial.items()}
    )
    assert done.status_code == 302
    assert Observation.objects.filter(period="2018-03", is_official=False).count() == 2
    batch = ImportBatch.objects.get()
    assert (batch.file_name, batch.uploaded_by, batch.rows) == ("march.xlsx", staff, 2)


def test_the_admin_exports_formula_safe_files(cast, staff, client):
    kpi1 = cast[0].measure_set.measures.get(code="KPI 1")
    Observation.objects.filter(measure=kpi1).update(note="=2+2")
    from contracts.resources import ObservationResource

    fields = {
        f"observationresource_{name}": "on" for name in ObservationResource().get_export_order()
    }
    answer = client.post(
        reverse("admin:kpis_observation_export"), {"format": "1", "resource": "0", **fields}
    )
    assert answer.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert "'=2+2" in [c.value for c in cells] and not any(c.data_type == "f" for c in cells)
