"""Benchmark: the committee report's PDF and the dashboard for a contract of 30 measures
with 36 months of history each (issue 5). Not part of `make test`.

Run with ``make bench`` (``pytest -m bench -p no:xdist -s bench``); on PostgreSQL for the
figures that count: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/test make bench``.
It prints the time to build the PDF (data, charts and WeasyPrint, from a cold chart cache)
and the dashboard's server time (the test client's request, no browser), with the
process's CPU time beside the wall-clock time: on a shared machine the wall clock also
counts time spent waiting for a CPU.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import Action, Entry, MonthlyReturn, ReturnState, Role
from kpis import models as k
from kpis import periods
from reports import charts, document, render
from tests.factories import ContractFactory, member

pytestmark = [pytest.mark.bench, pytest.mark.django_db]

APRIL = periods.month(2018, 4)
MEASURES, MONTHS = 30, 36


def build():
    contract = ContractFactory(slug="bench-report")
    user = member(contract.commissioner, Role.COMMISSIONER)
    made = k.Measure.objects.bulk_create(
        k.Measure(
            measure_set=contract.measure_set, code=f"KPI {i}", slug=f"kpi-{i}",
            title=f"Benchmark measure {i}", kind="kpi", unit="percent", decimals=1,
            polarity="up", display_order=i,
        )
        for i in range(1, MEASURES + 1)
    )
    k.Target.objects.bulk_create(
        k.Target(measure=m, valid_from=dt.date(2015, 4, 1), target=Decimal(95), tolerance_low=Decimal(85))
        for m in made
    )
    k.Observation.objects.bulk_create(
        k.Observation(
            measure=m, period=p.label, period_start=p.start, period_end=p.end,
            value=Decimal(80 + (back * 7 + m.pk) % 20), is_official=True,
        )
        for m in made
        for back in range(MONTHS)
        for p in [periods.add_months(APRIL, -back)]
    )
    k.Comparator.objects.bulk_create(
        k.Comparator(measure=m, group=g, period="2017/18", period_end=dt.date(2018, 3, 31), value=Decimal(v))
        for m in made
        for g, v in (("England", 90), ("Region", 88))
    )
    monthly_return = MonthlyReturn.objects.create(
        contract=contract, period="2018-04", period_start=APRIL.start, period_end=APRIL.end,
        state=ReturnState.SIGNED_OFF,
    )
    entries = Entry.objects.bulk_create(
        Entry(monthly_return=monthly_return, measure=m, period="2018-04",
              variance_reason="The reason for the variance, as the provider gave it. " * 3)
        for m in made
    )
    Action.objects.bulk_create(Action(entry=e, description="An improvement action.") for e in entries for _ in range(3))
    return contract, user


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def test_report_pdf_and_dashboard_at_30_measures_by_36_months(client, settings):
    settings.SECURE_SSL_REDIRECT = False  # the test client speaks plain HTTP
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    contract, user = build()
    charts._png_cached.cache_clear()
    charts._svg_cached.cache_clear()

    data, data_wall, data_cpu = timed(lambda: document.build_report(contract, APRIL, draft=False))
    pdf, pdf_wall, pdf_cpu = timed(lambda: render.pdf(data))
    assert pdf.startswith(b"%PDF") and len(data["measures"]) == MEASURES

    client.force_login(user)
    url = f"/contracts/{contract.slug}/dashboard/?period=2018-04"
    client.get(url)  # warm up: templates compiled, connection open
    runs = []
    for _ in range(5):
        with CaptureQueriesContext(connection) as ctx:
            response, wall, cpu = timed(lambda: client.get(url))
        assert response.status_code == 200 and len(response.context["lines"]) == MEASURES
        runs.append((wall, cpu))
    best_wall = min(w for w, _ in runs)
    median_wall = sorted(w for w, _ in runs)[len(runs) // 2]
    best_cpu = min(c for _, c in runs)

    print(
        f"\nReport for {MEASURES} measures x {MONTHS} months ({connection.vendor}):"
        f"\n  report data (queries and rating): {data_wall:.2f} s wall, {data_cpu:.2f} s CPU"
        f"\n  PDF (charts and WeasyPrint):      {pdf_wall:.2f} s wall, {pdf_cpu:.2f} s CPU,"
        f" {len(pdf) // 1024} KB"
        f"\n  total to the PDF:                 {data_wall + pdf_wall:.2f} s wall,"
        f" {data_cpu + pdf_cpu:.2f} s CPU"
        f"\nDashboard, server time over 5 requests: best {best_wall * 1000:.0f} ms, median"
        f" {median_wall * 1000:.0f} ms wall; best {best_cpu * 1000:.0f} ms CPU;"
        f" {len(ctx.captured_queries)} queries"
    )
