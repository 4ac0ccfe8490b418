"""Lists as .xlsx and .csv: formula-safe, in the import headings, drafts only for those who see them."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from contracts import imports
from contracts.models import MonthlyReturn
from kpis.models import Observation
from tests.factories import ObservationFactory

pytestmark = pytest.mark.django_db

DANGEROUS = [
    '=HYPERLINK("http://evil.example","click")',
    "+44 191 000",
    "-3 on March",
    "@SUM(A1:A2)",
    "\tcmd",
    "\rcmd",
]


@pytest.fixture
def risky(cast):
    """Figures whose notes would run as formulas if written as they are."""
    contract, people = cast
    kpi1 = contract.measure_set.measures.get(code="KPI 1")
    kpi1.title = "=1+1 measure"
    kpi1.save()
    for month, note in zip(
        ("2017-10", "2017-11", "2017-12", "2018-01", "2018-02", "2018-03"), DANGEROUS, strict=True
    ):
        ObservationFactory(
            measure=kpi1, period=month, value=Decimal("-2.5"), note=note, is_official=False
        )
    return contract, people


def xlsx_cells(content: bytes) -> list:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [cell for row in sheet.iter_rows() for cell in row]


def test_xlsx_exports_never_hold_a_formula_and_escape_formula_like_text(risky, client):
    contract, people = risky
    client.force_login(people["editor"])
    for kind in ("measures", "observations"):
        answer = client.get(reverse("spreadsheets:export", args=[contract.slug, kind, "xlsx"]))
        assert answer.status_code == 200
        assert answer["Content-Disposition"] == f'attachment; filename="c-{kind}.xlsx"'
        cells = xlsx_cells(answer.content)
        assert cells and not any(c.data_type == "f" for c in cells)
        texts = [c.value for c in cells if isinstance(c.value, str)]
        assert not any(t[0] in "=+-@\t\r" for t in texts if t)
    notes = {
        c.value
        for c in xlsx_cells(
            client.get(
                reverse("spreadsheets:export", args=[contract.slug, "observations", "xlsx"])
            ).content
        )
    }
    assert {"'" + d for d in DANGEROUS} <= notes
    assert Decimal("-2.5") in notes or -2.5 in notes  # numbers stay numbers, negative ones too


def test_csv_exports_escape_formula_like_text_and_keep_numbers(risky, client):
    contract, people = risky
    client.force_login(people["editor"])
    answer = client.get(reverse("spreadsheets:export", args=[contract.slug, "observations", "csv"]))
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))
    notes = {r["note"] for r in rows}
    assert {"'" + d for d in DANGEROUS} <= notes
    assert {r["value"] for r in rows if r["period"] < "2018-04"} == {"-2.5"}


def test_an_export_imports_back_unchanged(risky, client):
    contract, people = risky
    client.force_login(people["editor"])
    # Text is read as the pages read it, without surrounding spaces, tabs or line breaks.
    Observation.objects.filter(note__in=["\tcmd", "\rcmd"]).delete()
    exported = client.get(
        reverse("spreadsheets:export", args=[contract.slug, "observations", "xlsx"])
    ).content
    before = {o.period: o.note for o in Observation.objects.filter(measure__code="KPI 1")}
    report = imports.import_file("observations", exported, "observations.xlsx")
    assert report.ok, report.lines()
    assert report.created == 0 and report.updated == 0 and report.unchanged == report.rows == 6
    assert {o.period: o.note for o in Observation.objects.filter(measure__code="KPI 1")} == before


def test_readers_export_official_figures_only(risky, client):
    contract, people = risky
    client.force_login(people["reader"])
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    reverse("spreadsheets:export", args=[contract.slug, "observations", "csv"])
                ).content.decode("utf-8-sig")
            )
        )
    )
    assert [(r["code"], r["period"]) for r in rows] == [("KPI 1", "2018-04"), ("KPI 2", "2018-04")]


def test_the_scorecard_exports_every_verdict_with_its_reason(cast, client):
    contract, people = cast
    client.force_login(people["reader"])
    answer = client.get(
        reverse("spreadsheets:scorecard", args=[contract.slug, "xlsx"]) + "?period=2018-04"
    )
    assert answer.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    headings = rows[0]
    line = dict(zip(headings, rows[1], strict=True))
    assert (line["code"], line["period"], line["status"], line["verdict"]) == (
        "KPI 1",
        "2018-04",
        "on_target",
        "On target",
    )
    assert "meeting target" in line["reason"]
    assert line["target_words"] == "95%, tolerance from 85%"
    assert [r[0] for r in rows[1:]] == ["KPI 1", "KPI 2", "KPI 4"]
    assert (
        client.get(
            reverse("spreadsheets:scorecard", args=[contract.slug, "csv"]) + "?period=April"
        ).status_code
        == 400
    )
    assert (
        client.get(reverse("spreadsheets:scorecard", args=[contract.slug, "pdf"])).status_code
        == 404
    )


def test_a_returns_history_exports_every_event(cast, client):
    contract, people = cast
    client.force_login(people["commissioner"])
    april = MonthlyReturn.objects.get(contract=contract, period="2018-04")
    answer = client.get(reverse("spreadsheets:history", args=[april.pk, "csv"]))
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [r["action"] for r in rows] == [
        "Opened",
        "Figures saved",
        "Figures saved",
        "Submitted",
        "Signed off",
    ]
    assert rows[1]["by"] == "editor" and rows[1]["detail"].startswith("code: KPI 1; value:")


def test_other_organisations_cannot_export_a_contract(cast, client):
    from contracts.models import Role
    from tests.factories import ContractFactory, member

    contract, _ = cast
    client.force_login(member(ContractFactory().provider, Role.PROVIDER_EDITOR, "outsider"))
    assert (
        client.get(
            reverse("spreadsheets:export", args=[contract.slug, "measures", "csv"])
        ).status_code
        == 404
    )
    april = MonthlyReturn.objects.get(contract=contract, period="2018-04")
    assert client.get(reverse("spreadsheets:history", args=[april.pk, "csv"])).status_code == 404
