"""Helpers for the import and export tests: files built in memory, and row counts."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.apps import apps

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def xlsx_bytes(
    headings: Sequence[Any], rows: Iterable[Sequence[Any]], title: str = "Sheet1"
) -> bytes:
    """A workbook as a person's spreadsheet program would save it (not through our exports)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(list(headings))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(
    headings: Sequence[Any], rows: Iterable[Sequence[Any]], encoding: str = "utf-8"
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headings)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue().encode(encoding)


def row_counts() -> dict[str, int]:
    """How many rows every table of the apps holds, history included: nothing may change."""
    counts = {}
    for app in ("kpis", "contracts", "retained_services"):
        for model in apps.get_app_config(app).get_models():
            counts[model._meta.label] = model._default_manager.count()
    return counts


@pytest.fixture
def counts():
    return row_counts


@pytest.fixture
def cast():
    """A contract with two monthly percentage measures (target 95, floor 85), a quarterly
    rate, its people, and its April 2018 return signed off with KPI 1 at 96 and KPI 2 at 97."""
    from decimal import Decimal

    from contracts import workflow
    from contracts.models import Role
    from kpis.models import Frequency
    from tests.factories import ContractFactory, MeasureFactory, TargetFactory, member

    contract = ContractFactory(slug="c", name="Contract C")
    kpi1 = MeasureFactory(measure_set=contract.measure_set, code="KPI 1", display_order=1)
    kpi2 = MeasureFactory(measure_set=contract.measure_set, code="KPI 2", display_order=2)
    kpi4 = MeasureFactory(
        measure_set=contract.measure_set,
        code="KPI 4",
        unit="rate",
        per=100000,
        polarity="down",
        frequency=Frequency.QUARTERLY,
        decimals=0,
        display_order=3,
    )
    for measure in (kpi1, kpi2):
        TargetFactory(
            measure=measure,
            target=Decimal("95"),
            tolerance_low=Decimal("85"),
            tolerance_high=Decimal("100"),
        )
    TargetFactory(measure=kpi4, target=Decimal("560"), tolerance_low=None, tolerance_high=None)
    people = {
        "editor": member(contract.provider, Role.PROVIDER_EDITOR, "editor"),
        "lead": member(contract.provider, Role.PROVIDER_LEAD, "lead"),
        "commissioner": member(contract.commissioner, Role.COMMISSIONER, "commissioner"),
        "admin": member(contract.commissioner, Role.ADMIN, "council-admin"),
        "reader": member(contract.commissioner, Role.READER, "reader"),
    }
    april = workflow.open_return(contract, "2018-04")
    for entry, value in zip(
        april.entries.order_by("measure__display_order"), ("96", "97"), strict=True
    ):
        workflow.save_entry(
            entry.pk, people["editor"], version=entry.version, figures={"value": Decimal(value)}
        )
    workflow.submit(april.pk, people["lead"])
    workflow.sign_off(april.pk, people["commissioner"])
    return contract, people
