"""The committee report through the test client and the command line: its structure, the
official figures only (R14, R18) unless a draft (watermarked), narratives and actions from
the signed-off return, editable text, target revisions (R16), publishing (R17)."""

from __future__ import annotations

import io
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from docx import Document

from contracts import revisions
from contracts.models import ReturnState
from kpis.models import Observation
from reports.document import DEFAULT_TEXTS
from reports.models import PublishedReport, ReportText
from retained_services.models import AdmissionsFigure, Dataset
from tests.reports.helpers import require_pdf_tools, signed_off_return

pytestmark = pytest.mark.django_db

KPI1_CLOSING = (
    "At the end of April 2018 this measure is not meeting target but within tolerance (target 95%)."
)


def report(client, user, query: str = "", period: str = "2018-04"):
    client.force_login(user)
    return client.get(f"/reports/contract-a/{period}/{query}")


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def pdf_pages(content: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True)
    return out.stdout.split("\f")[:-1]


def docx_text(content: bytes) -> tuple[str, list[str]]:
    doc = Document(io.BytesIO(content))
    body = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        body += [cell.text for row in table.rows for cell in row.cells]
    headers = [" ".join(p.text for p in s.header.paragraphs) for s in doc.sections]
    return " ".join(" ".join(body).split()), headers


def test_the_report_follows_the_reference_structure(client, alice):
    response = report(client, alice)
    assert response.status_code == 200
    text = text_of(response.content.decode())
    headings = [
        "1. Purpose of the report", "2. Background", "3. Current position",
        "4. Assurance and improvement activity", "5. Future developments", "6. Recommendations",
        "7. Background papers",
    ]
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions)
    assert "Key performance indicator KPI 1: Referrals decided in 24 hours Target 95% Tolerance from 85%" in text
    assert KPI1_CLOSING in text
    assert "At the end of April 2018 this measure is not rated: no target is set." in text
    assert "Management information MI 1: Children looked after No target or tolerance set" in text
    # Numbered paragraphs, then one numbered block per measure after the introduction.
    assert "3.4 Key performance indicator KPI 1" in text
    assert '<svg role="img" aria-labelledby="chart-kpi-1-title chart-kpi-1-desc"' in response.content.decode()


def test_official_figures_only_unless_a_draft(client, alice):
    official = text_of(report(client, alice, period="2018-05").content.decode())
    assert "70.0%" not in official  # KPI 2's May figure is a draft
    assert "80.0%" in official and "DRAFT" not in official
    draft = text_of(report(client, alice, "?draft=1", period="2018-05").content.decode())
    assert "70.0%" in draft
    assert "DRAFT : this report includes figures, narratives and commentary that are not yet signed off" in draft


def test_a_reader_may_not_ask_for_the_draft(client, rita):
    assert report(client, rita, "?draft=1").status_code == 403
    assert "Show the draft" not in report(client, rita).content.decode()


def test_narratives_and_actions_come_from_the_signed_off_return(client, alice, contract_a):
    kpi1 = contract_a.measure_set.measures.get(code="KPI 1")
    signed_off_return(contract_a, "2018-04", {kpi1: ("Data entry errors delayed decisions.", ["Triage every contact."])})
    text = text_of(report(client, alice).content.decode())
    assert "Data entry errors delayed decisions." in text
    assert "4.1 KPI 1: Referrals decided in 24 hours Triage every contact. (owner: Head of service; due 30 June 2018)" in text


def test_an_unsigned_return_shows_only_in_the_draft(client, alice, contract_a):
    kpi1 = contract_a.measure_set.measures.get(code="KPI 1")
    signed_off_return(
        contract_a, "2018-04", {kpi1: ("Not yet agreed.", ["An action in draft."])}, state=ReturnState.SUBMITTED
    )
    assert "Not yet agreed." not in report(client, alice).content.decode()
    draft = report(client, alice, "?draft=1").content.decode()
    assert "Not yet agreed." in draft and "An action in draft." in draft


def test_drafted_commentary_appears_in_the_draft_only_until_reviewed(client, alice):
    drafted = "This is down 3.2 percentage points on the previous figure, 95.3% in March 2018."
    assert drafted not in report(client, alice).content.decode()
    draft = text_of(report(client, alice, "?draft=1").content.decode())
    assert f"Drafted from the figures, not yet reviewed: In April 2018 the figure was 92.1%. {drafted}" in draft
    client.post("/contracts/contract-a/measures/kpi-1/commentary/", {"period": "2018-04", "decision": "accept"})
    assert drafted in report(client, alice).content.decode()


# --- the report's text ------------------------------------------------------------------


def test_the_standard_wording_names_no_council(contract_a):
    for text in DEFAULT_TEXTS.values():
        for name in ("Sunderland", "Together for Children", "TfC", "Chief Executive"):
            assert name not in text


def test_the_standard_wording_names_the_contracts_parties(client, alice, contract_a):
    text = text_of(report(client, alice).content.decode())
    assert f"1.1 To provide performance information in relation to {contract_a.provider.name}" in text


def test_commissioners_write_the_report_text_and_later_months_carry_it(client, alice):
    client.force_login(alice)
    form = client.get("/reports/contract-a/2018-04/text/")
    assert form.status_code == 200
    data = {name: field.initial for name, field in form.context["form"].fields.items()}
    data["future"] = "The dataset will be reviewed in the autumn.\n\nNew measures start in April."
    data["recommendations"] = ""
    response = client.post("/reports/contract-a/2018-04/text/", data)
    assert response.status_code == 302
    saved = ReportText.objects.get(section="future")
    assert (saved.period, saved.updated_by) == ("2018-04", alice)
    text = text_of(report(client, alice).content.decode())
    assert "5.1 The dataset will be reviewed in the autumn. 5.2 New measures start in April." in text
    assert "6.1 The Committee is asked to consider and comment on the performance to date." in text
    assert "5.1 The dataset will be reviewed in the autumn." in text_of(
        report(client, alice, period="2018-05").content.decode()
    )


@pytest.mark.parametrize("who", ["rita", "pat"])
def test_readers_and_the_provider_may_not_write_the_report(client, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    assert client.get("/reports/contract-a/2018-04/text/").status_code == 403
    assert client.post("/reports/contract-a/2018-04/text/", {"future": "x"}).status_code == 403


# --- targets revised during the year (R16) ----------------------------------------------


def test_a_target_revised_mid_year_is_reported(client, alice, adam, contract_a):
    revision = revisions.draft_revision(
        contract_a, adam, title="Revised targets", effective_from="2018-10", rationale="Mid-year review"
    )
    line = revision.lines.get(measure__code="KPI 1")
    revisions.save_line(
        line.pk, adam, values={"target": Decimal("90"), "tolerance_low": Decimal("80"),
                                "tolerance_high": Decimal("100")}, rationale="Realistic",
    )
    revisions.approve_revision(revision.pk, alice)
    kpi1 = contract_a.measure_set.measures.get(code="KPI 1")
    Observation.objects.create(
        measure=kpi1, period="2018-11", period_start="2018-11-01", period_end="2018-11-30",
        value=Decimal("91"), is_official=True,
    )
    text = text_of(report(client, alice, period="2018-11").content.decode())
    assert (
        "The target changed during 2018/19: from October 2018 it is 90%, tolerance from 80% "
        "(Revised targets); before then it was 95%, tolerance from 85%."
    ) in text
    assert "Targets and tolerances were revised from October 2018 (Revised targets)" in text
    assert "At the end of November 2018 this measure is meeting target (target 90%)." in text
    # April's report keeps April's target (R16).
    assert KPI1_CLOSING in text_of(report(client, alice).content.decode())


# --- retained services ------------------------------------------------------------------


@pytest.fixture
def admissions(contract_a):
    for year, percent in (("2017", "96"), ("2018", "95")):
        dataset = Dataset.objects.create(
            council=contract_a.commissioner, kind="admissions", year=year, is_final=True
        )
        AdmissionsFigure.objects.create(
            dataset=dataset, phase="primary", first_choice_number=2720,
            first_choice_percent=Decimal(percent), any_of_three_percent=Decimal("99"),
            region_percent=Decimal("94.1"), england_percent=Decimal("90"),
        )
    Dataset.objects.create(council=contract_a.commissioner, kind="admissions", year="2016", is_final=False)


def test_the_council_sees_the_retained_services_tables(client, alice, admissions):
    text = text_of(report(client, alice).content.decode())
    assert "Primary 1st choice preference (%) 96.0% 95.0% n/a 94.1% 90.0%" in text
    assert (
        "In 2018, 95.0% of children achieved their first choice of primary school, and 99.0% one "
        "of their first three choices. This is down 1.0 percentage point on 2017. It is above the "
        "regional figure (94.1%) and above England (90.0%)."
    ) in text
    assert "2016" not in text.split("Admissions:")[1].split("Primary")[0]  # not final


def test_the_provider_never_sees_the_retained_services(client, pat, admissions):
    assert "Admissions" not in report(client, pat).content.decode()


# --- formats ------------------------------------------------------------------------------


def test_a_draft_pdf_says_draft_on_every_page(client, alice, tmp_path):
    require_pdf_tools()
    response = report(client, alice, "?format=pdf&draft=1", period="2018-05")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="contract-a-report-2018-05-draft.pdf"'
    pages = pdf_pages(response.content, tmp_path)
    assert len(pages) > 1
    assert all("DRAFT" in page for page in pages)
    text = " ".join(" ".join(pages).split())
    assert "70.0%" in text


def test_the_word_document_has_the_report_and_a_draft_header_on_every_section(client, alice):
    response = report(client, alice, "?format=docx&draft=1")
    text, headers = docx_text(response.content)
    assert KPI1_CLOSING in text
    assert "Target 95%" in text and "Tolerance from 85%" in text
    assert headers and all(h.startswith("DRAFT") for h in headers)
    official, headers = docx_text(report(client, alice, "?format=docx").content)
    assert not any("DRAFT" in h for h in headers)


def test_an_unknown_format_or_month(client, alice):
    assert report(client, alice, "?format=rtf").status_code == 400
    assert report(client, alice, period="2018-13").status_code == 404


def test_the_latest_report(client, alice):
    client.force_login(alice)
    response = client.get("/reports/contract-a/")
    assert response.status_code == 302 and response["Location"] == "/reports/contract-a/2018-04/"


def test_build_report_from_the_command_line(contract_a, tmp_path):
    out = tmp_path / "report.html"
    stdout = io.StringIO()
    call_command("build_report", "contract-a", "2018-05", "--format", "html", "--output", str(out), stdout=stdout)
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and "70.0%" not in html
    assert "Wrote the report for Children's services A, May 2018, as HTML" in stdout.getvalue()
    call_command("build_report", "contract-a", "2018-05", "--format", "html", "--output", str(out), "--draft",
                 stdout=stdout)
    assert "70.0%" in out.read_text() and 'class="app-watermark"' in out.read_text()
    call_command("build_report", "contract-a", "2018-04", "--format", "docx", "--output", str(tmp_path / "r.docx"),
                 stdout=stdout)
    assert KPI1_CLOSING in docx_text((tmp_path / "r.docx").read_bytes())[0]
    with pytest.raises(CommandError, match="No contract with the slug ‘nope’"):
        call_command("build_report", "nope", "2018-04", "--output", str(out))
    with pytest.raises(CommandError, match="is not a month"):
        call_command("build_report", "contract-a", "2018", "--output", str(out))


# --- publishing ---------------------------------------------------------------------------


def test_a_published_report_is_frozen_and_says_which_figures_changed(client, alice, rita, contract_a, tmp_path):
    require_pdf_tools()
    client.force_login(alice)
    response = client.post("/reports/contract-a/2018-04/publish/")
    assert response["Location"] == "/reports/contract-a/2018-04/published/"
    published = PublishedReport.objects.get()
    assert (published.period, published.published_by) == ("2018-04", alice)
    assert published.data["figures"]["KPI 1"]["2018-04"] == "92.1%"
    assert KPI1_CLOSING in published.html

    # Later the return is reopened and the figure corrected (R15).
    Observation.objects.filter(measure__code="KPI 1", period="2018-04").update(value=Decimal("93"))
    assert "93.0%" in report(client, alice).content.decode()
    client.force_login(rita)
    html = client.get("/reports/contract-a/2018-04/published/").content.decode()
    assert KPI1_CLOSING in text_of(html)
    assert "KPI 1 2018-04: published as 92.1%, now 93.0%" in html
    assert "1 figure has changed since it was published" in html
    pages = pdf_pages(client.get("/reports/contract-a/2018-04/published/?format=pdf").content, tmp_path)
    assert "92.1%" in " ".join(pages) and "93.0%" not in " ".join(pages)


def test_a_report_is_published_once_and_only_by_a_commissioner(client, alice, adam, rita):
    for user in (adam, rita):
        client.force_login(user)
        assert client.post("/reports/contract-a/2018-04/publish/").status_code == 403
    client.force_login(alice)
    client.post("/reports/contract-a/2018-04/publish/")
    response = client.post("/reports/contract-a/2018-04/publish/", follow=True)
    assert "The report for April 2018 is already published." in response.content.decode()
    assert PublishedReport.objects.count() == 1
    assert "Publish this report" not in report(client, alice).content.decode()


def test_an_unpublished_report_has_no_published_page(client, alice):
    client.force_login(alice)
    assert client.get("/reports/contract-a/2018-04/published/").status_code == 404


def test_without_weasyprints_libraries_the_pdf_says_what_to_install(client, alice, monkeypatch):
    from reports import render

    def missing():
        raise render.PdfUnavailable(f"PDF output needs WeasyPrint's system libraries: apt-get install -y {render.PDF_LIBRARIES}")

    monkeypatch.setattr(render, "weasyprint", missing)
    response = report(client, alice, "?format=pdf")
    assert response.status_code == 503
    assert "apt-get install -y libpango-1.0-0" in response.content.decode()
    with pytest.raises(CommandError, match="libpango-1.0-0"):
        call_command("build_report", "contract-a", "2018-04", "--format", "pdf", "--output", "/dev/null")
