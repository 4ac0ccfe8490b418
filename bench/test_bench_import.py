"""Benchmark: import 50,000 figures from .xlsx (issue 6). Not part of `make test`.

Run on PostgreSQL for the figures that count:
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/pytest -m bench -p no:xdist -s bench/test_bench_import.py``
(``BENCH_IMPORT_ROWS`` changes the number of rows).

It writes a workbook of 500 monthly measures by 100 months (value, numerator, denominator,
a flag on some, a note), times openpyxl alone reading it in read-only mode (the way the
import reads it), then times ``contracts.imports`` importing it: every row checked (R11
periods, R6 figure problems, flags, duplicates, official figures, returns), all written
in one transaction with the figures' history rows and the import batch. It reports rows
per second and peak memory, and requires the import to cost no more than three times the
reading.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import time
import tracemalloc
from pathlib import Path

import openpyxl
import pytest

from contracts import imports
from contracts.models import Contract, ImportBatch, Organisation
from kpis import models as k

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "50000"))
MONTHS = 100
HEADINGS = [
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
]


def build_contract(measures: int) -> Contract:
    council = Organisation.objects.create(
        slug="bench-council", name="Bench council", kind="council"
    )
    provider = Organisation.objects.create(
        slug="bench-provider", name="Bench provider", kind="provider"
    )
    measure_set = k.MeasureSet.objects.create(slug="bench", name="Bench measures")
    contract = Contract.objects.create(
        slug="bench",
        name="Bench contract",
        commissioner=council,
        provider=provider,
        start=dt.date(2000, 4, 1),
        measure_set=measure_set,
    )
    k.Measure.objects.bulk_create(
        k.Measure(
            measure_set=measure_set,
            code=f"KPI {i}",
            slug=f"kpi-{i}",
            title=f"Measure {i}",
            kind="kpi",
            unit="percent",
            polarity="up",
            decimals=1,
            display_order=i,
        )
        for i in range(measures)
    )
    return contract


def write_workbook(path: Path, measures: int, months: int) -> int:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("observations")
    sheet.append(HEADINGS)
    start = dt.date(2008, 1, 1)
    rows = 0
    for m in range(months):
        year, month = start.year + (start.month - 1 + m) // 12, (start.month - 1 + m) % 12 + 1
        period = f"{year:04d}-{month:02d}"
        for i in range(measures):
            numerator = (i * 7 + m * 3) % 200
            value = numerator / 2  # numerator / 200 as a percentage, exact to one decimal
            sheet.append(
                [
                    "bench",
                    f"KPI {i}",
                    period,
                    value,
                    numerator,
                    200,
                    None,
                    "provisional" if (i + m) % 10 == 0 else None,
                    None,
                    f"Row {rows + 2}",
                ]
            )
            rows += 1
    workbook.save(path)
    return rows


def read_with_openpyxl(path: Path) -> int:
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    count = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    return count


def test_importing_50000_figures_costs_at_most_three_times_reading_them(tmp_path):
    from django.db import connection

    measures = 500
    months = max(1, ROWS // measures)
    build_contract(measures)
    path = tmp_path / "figures.xlsx"
    rows = write_workbook(path, measures, months)
    size = path.stat().st_size

    started = time.perf_counter()
    assert read_with_openpyxl(path) == rows + 1
    reading = time.perf_counter() - started

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    table = imports.read_path(path)
    read_by_import = time.perf_counter() - started
    report = imports.run_import("observations", table, file_name=path.name)
    importing = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert report.ok, report.lines()[:10]
    assert report.created == rows and k.Observation.objects.count() == rows
    assert ImportBatch.objects.get().observations.count() == rows
    del table

    # Peak memory of the import itself, traced apart (tracing slows Python, so not timed):
    # a dry run of the same file checks every row and writes it all, then rolls back.
    k.Observation.objects.all().delete()
    tracemalloc.start()
    dry = imports.run_import(
        "observations", imports.read_path(path), file_name=path.name, dry_run=True
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert dry.ok and dry.created == rows

    ratio = importing / reading
    print(
        f"\nImport benchmark on {connection.vendor} ({rows:,} rows, {size / 1e6:.1f} MB .xlsx):\n"
        f"  openpyxl alone reads the file (read-only) in {reading:.2f} s ({rows / reading:,.0f} rows/s)\n"
        f"  the import takes {importing:.2f} s ({rows / importing:,.0f} rows/s): reading {read_by_import:.2f} s, "
        f"checking and writing {importing - read_by_import:.2f} s\n"
        f"  import / reading = {ratio:.2f} (at most 3)\n"
        f"  peak memory: {peak / 1e6:.0f} MB traced by tracemalloc for the import; the process's peak "
        f"resident size rose by {(rss_after - rss_before) / 1024:.0f} MB to {rss_after / 1024:.0f} MB"
    )
    assert ratio <= 3.0
