"""The April 2018 demo report reproduces the reference's measures, figures, targets,
tolerances and verdicts: read back from the generated PDF (pdftotext) and Word document
(python-docx), built once for the module by ``build_report`` as a scheduler would."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test.utils import override_settings
from docx import Document
from docx.table import Table

from tests.reports.helpers import require_pdf_tools

# The module's documents are built once, in a rolled-back transaction of their own; each
# test still asks for the database so that pytest-django sets the test database up first.
pytestmark = pytest.mark.django_db

# code: (value, heading lines, closing sentence after "At the end of April 2018 ")
EXPECTED = {
    "KPI 1": ("92.1%", ["Target 95%", "Tolerance from 85%"],
              "this measure is not meeting target but within tolerance (target 95%)."),
    "SM 1.1": ("91.2 per 10,000", ["Target 79", "Tolerance 69 to 89"],
               "this measure is not meeting target and outside tolerance (target 79)."),
    "KPI 2": ("89.2%", ["Target 95%", "Tolerance from 85%"],
              "this measure is not meeting target but within tolerance (target 95%)."),
    "KPI 3": ("84.6%", ["Target 70%", "Tolerance from 60%"], "this measure is meeting target (target 70%)."),
    "SM 3.1": ("87.5%", ["Target 75%", "Tolerance from 65%"], "this measure is meeting target (target 75%)."),
    "SM 3.2": ("36", ["Target 300 by the year end", "No tolerance"],
               "this measure is on track to meet the annual target (target 300 by the year end)."),
    "KPI 4": ("402 per 100,000", ["Target 560", "Tolerance up to 616"],
              "this measure is meeting target (target 560), on its latest figure (2017/18 Q2, "
              "July to September 2017, as at 31 August 2017)."),
    "SM 4.1": (None, ["Target 44%", "Tolerance up to 54%"], "there is no figure for this period."),
    "MI 5.19": ("112.1 per 10,000", ["No target or tolerance set"], "this measure is not rated: no target is set."),
    "KPI 6": ("84.4%", ["Target 80%", "Tolerance from 72%"], "this measure is meeting target (target 80%)."),
    "SM 6.2": ("80.0%", ["Target 71%", "Tolerance from 70%"], "this measure is meeting target (target 71%)."),
    "KPI 7": ("88.1%", ["Target 92.8%", "Tolerance from 92.3%"],
              "this measure is not meeting target and outside tolerance (target 92.8%)."),
    "SM 7.1": ("5.8%", ["Target 3.9%", "No tolerance"],
               "this measure is not meeting target and outside tolerance (target 3.9%)."),
    "KPI 8": ("44.3%", ["Target 90%", "Tolerance from 81%"],
              "this measure is not meeting target and outside tolerance (target 90%)."),
    "SM 8.1": ("39.2%", ["Target 60%", "Tolerance from 40%"],
               "this measure is not meeting target and outside tolerance (target 60%)."),
    "KPI 9": ("29.0%", ["Target 25%", "Tolerance up to 27.5%"],
              "this measure is not meeting target and outside tolerance (target 25%)."),
}
# Figures the reference gives beside the value.
COUNTS = {"SM 1.1": ["495"], "KPI 3": ["242", "286"], "KPI 7": ["5203", "5907"], "SM 8.1": ["47", "120"],
          "KPI 8": ["92.0%"], "KPI 9": ["151.8"], "MI 5.19": ["608"]}


@pytest.fixture(scope="module")
def documents(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo's April 2018 report as PDF text and Word text, built by the command."""
    require_pdf_tools()
    folder = tmp_path_factory.mktemp("demo-report")
    with django_db_blocker.unblock(), override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    ), transaction.atomic():
        call_command("load_demo", stdout=io.StringIO())
        for fmt in ("pdf", "docx"):
            call_command(
                "build_report", "sunderland-tfc", "2018-04", "--format", fmt,
                "--output", str(folder / f"report.{fmt}"), stdout=io.StringIO(),
            )
        transaction.set_rollback(True)
    pdf = subprocess.run(
        ["pdftotext", str(folder / "report.pdf"), "-"], capture_output=True, check=True, text=True
    ).stdout
    doc = Document(str(folder / "report.docx"))
    parts = []
    for item in doc.iter_inner_content():  # paragraphs and tables, in document order
        if isinstance(item, Table):
            parts += [cell.text for row in item.rows for cell in row.cells]
        else:
            parts.append(item.text)
    return {"pdf": " ".join(pdf.split()), "pages": pdf.split("\f")[:-1], "docx": " ".join(" ".join(parts).split())}


def block(text: str, code: str) -> str:
    """One measure's block: from its numbered heading to the next numbered heading."""
    start = re.search(rf"3\.\d+ [A-Z][a-z ]+ {re.escape(code)}: ", text)
    assert start, f"no heading for {code}"
    end = re.compile(r"3\.\d+ (Key performance indicator|Supporting measure|Management information|Admissions)")
    nxt = end.search(text, start.end())
    return text[start.start(): nxt.start() if nxt else len(text)]


def measure_problems(text: str, code: str) -> list[str]:
    value, lines, closing = EXPECTED[code]
    found = block(text, code)
    problems = [f"{code}: no '{line}'" for line in lines if line not in found]
    if value is not None and not re.search(rf"Figure {re.escape(value)}(?![\d.])", found):
        problems.append(f"{code}: no 'Figure {value}'")
    problems += [
        f"{code}: no '{count}'" for count in COUNTS.get(code, [])
        if count.replace(",", "") not in found.replace(",", "")
    ]
    if f"At the end of April 2018 {closing}" not in found:
        problems.append(f"{code}: no closing sentence 'At the end of April 2018 {closing}'")
    return problems


def test_the_demo_report_reproduces_the_reference(documents):
    """One test, so that under pytest-xdist one worker builds the documents, not each."""
    problems = []
    for fmt in ("pdf", "docx"):
        text = documents[fmt]
        for code in EXPECTED:
            problems += [f"{fmt}: {p}" for p in measure_problems(text, code)]
        positions = [text.index(block(text, code)) for code in EXPECTED]
        if positions != sorted(positions):
            problems.append(f"{fmt}: the measures are not in the reference's order")
        if "3.4 Key performance indicator KPI 1: % of referrals with a decision within 24 hours" not in text:
            problems.append(f"{fmt}: KPI 1 is not the first measure, 3.4")
        problems += [f"{fmt}: {p}" for p in narrative_problems(text) + retained_problems(text)]
    assert not problems, "\n".join(problems)

    pages = documents["pages"]
    assert len(pages) > 5
    assert not any("DRAFT" in page for page in pages)
    assert all(re.search(r"Page \d+ of \d+", page) for page in pages)


def narrative_problems(text: str) -> list[str]:
    """The signed-off narrative and the assurance actions of the April return."""
    problems = []
    if "29 referrals in April did not have a decision within 24 hours" not in block(text, "KPI 1"):
        problems.append("KPI 1: no signed-off narrative")
    assurance = text[text.index("4. Assurance and improvement activity"):].replace("• ", "")
    for wanted in (
        "4.1 KPI 1: % of referrals with a decision within 24 hours All contacts relating to referrals",
        "Understanding of cohort in terms of who is actually NEET.",
    ):
        if wanted not in assurance:
            problems.append(f"assurance: no '{wanted}'")
    return problems


def retained_problems(text: str) -> list[str]:
    """The admissions and elective home education tables, with their comparators."""
    problems = []
    admissions = text[text.index("Admissions: % of first choice preference achieved"):].replace(",", "")
    for figure in ("2702", "2722", "2720", "472", "503", "514", "2495", "2501", "2694",
                   "91.0%", "96.0%", "95.0%", "94.1%", "90.0%", "90.9%", "83.5%",
                   "99.0% one of their first three choices"):
        if figure not in admissions:
            problems.append(f"admissions: no '{figure}'")
    ehe = text[text.index("Electively home educated"):]
    for figure in ("44", "85", "38", "88", "75", "144", "77", "23"):
        if not re.search(rf"\b{figure}\b", ehe):
            problems.append(f"elective home education: no '{figure}'")
    return problems
