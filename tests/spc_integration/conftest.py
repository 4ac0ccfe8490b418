"""The contract of issue 7's acceptance test (its figures are worked by hand in
test_spc_acceptance.py's docstring): imported from spreadsheets and accepted."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command

from contracts import imports
from contracts.models import ImportBatch, Role
from kpis import periods
from tests.factories import ContractFactory, member

FIRST = periods.month(2016, 5)
VALUES = [91 if i % 2 == 0 else 88 for i in range(14)] + [92 if i % 2 == 0 else 93 for i in range(10)]
SHIFT_PERIODS = [periods.add_months(FIRST, i).label for i in range(14, 24)]


def workbook(path: Path, headings: list[str], rows: list[list]) -> Path:
    """A workbook as a person's spreadsheet program saves it."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headings)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def imported(tmp_path):
    """The contract, its measure, target and 24 figures, all from .xlsx files through the
    import command, the figures accepted by a commissioner (R14)."""
    contract = ContractFactory(slug="family-support", name="Family support")
    commissioner = member(contract.commissioner, Role.COMMISSIONER, "cora")
    reader = member(contract.commissioner, Role.READER, "rex")
    out = io.StringIO()
    files = {
        "measures": workbook(
            tmp_path / "measures.xlsx",
            ["code", "title", "kind", "unit", "polarity", "frequency", "decimals"],
            [["KPI 9", "Assessments completed within 45 days", "kpi", "percent", "up", "monthly", 1]],
        ),
        "targets": workbook(
            tmp_path / "targets.xlsx",
            ["code", "valid_from", "target", "tolerance_low"],
            [["KPI 9", "2016-04-01", 83, 78]],
        ),
        "observations": workbook(
            tmp_path / "observations.xlsx",
            ["code", "period", "value"],
            [["KPI 9", periods.add_months(FIRST, i).label, v] for i, v in enumerate(VALUES)],
        ),
    }
    for kind, path in files.items():
        call_command(
            "import_data", str(path), "--kind", kind, "--contract", contract.slug,
            "--user", "cora", stdout=out,
        )
    batch = ImportBatch.objects.get(contract=contract)
    _, made_official = imports.accept_batch(batch.pk, commissioner)
    assert made_official == 24
    return contract, commissioner, reader


