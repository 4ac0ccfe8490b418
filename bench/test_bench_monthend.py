"""Benchmark: close a month for 150 contracts of 40 measures (issue 4). Not part of `make test`.

Run with ``make bench`` (``pytest -m bench -p no:xdist -s bench``), on PostgreSQL for the
figures that count: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/test make bench``.
It times the daily job on the month's last day, which rates every contract's return
(``RatingRun``), opens the narrative prompts owed (R9) and notifies the provider, each
contract in its own transaction, and counts the queries. The count per contract must
not grow with the number of measures: reads and writes are in bulk.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts import monthend, notifications
from contracts.models import (
    Contract,
    Entry,
    Membership,
    MonthlyReturn,
    NarrativePrompt,
    Notification,
    Organisation,
    RatingRun,
    Role,
)
from kpis import models as k

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]

MONTH_END = dt.date(2018, 4, 30)
# A third on target, a third within tolerance, a third outside; the last measure has no figure.
VALUES = (Decimal("96"), Decimal("90"), Decimal("70"))


def build(prefix: str, contracts: int, measures: int) -> list[int]:
    """``contracts`` contracts of ``measures`` monthly measures, April 2018 open, in bulk."""
    User = get_user_model()
    council, _ = Organisation.objects.get_or_create(
        slug="bench-council", defaults={"name": "Bench council", "kind": Organisation.Kind.COUNCIL}
    )
    providers = Organisation.objects.bulk_create(
        Organisation(
            name=f"{prefix} provider {i}", slug=f"{prefix}-p{i}", kind=Organisation.Kind.PROVIDER
        )
        for i in range(contracts)
    )
    users = User.objects.bulk_create(
        User(username=f"{prefix}-{role}-{i}", email=f"{prefix}-{role}-{i}@example.org")
        for i in range(contracts)
        for role in ("editor", "lead")
    )
    Membership.objects.bulk_create(
        Membership(
            user=user,
            organisation=providers[n // 2],
            role=Role.PROVIDER_EDITOR if n % 2 == 0 else Role.PROVIDER_LEAD,
        )
        for n, user in enumerate(users)
    )
    sets = k.MeasureSet.objects.bulk_create(
        k.MeasureSet(name=f"{prefix} set {i}", slug=f"{prefix}-s{i}") for i in range(contracts)
    )
    made = Contract.objects.bulk_create(
        Contract(
            slug=f"{prefix}-{i:03d}",
            name=f"{prefix} contract {i}",
            commissioner=council,
            provider=providers[i],
            start=dt.date(2017, 4, 1),
            measure_set=sets[i],
        )
        for i in range(contracts)
    )
    all_measures = k.Measure.objects.bulk_create(
        k.Measure(
            measure_set=measure_set,
            code=f"KPI {m}",
            slug=k.measure_slug(f"KPI {m}"),
            title=f"Measure {m}",
            kind=k.Kind.KPI,
            unit=k.Unit.PERCENT,
            polarity=k.Polarity.UP,
            display_order=m,
        )
        for measure_set in sets
        for m in range(1, measures + 1)
    )
    k.Target.objects.bulk_create(
        k.Target(
            measure=measure,
            valid_from=dt.date(2017, 4, 1),
            target=Decimal("95"),
            tolerance_low=Decimal("85"),
        )
        for measure in all_measures
    )
    returns = MonthlyReturn.objects.bulk_create(
        MonthlyReturn(
            contract=contract,
            period="2018-04",
            period_start=dt.date(2018, 4, 1),
            period_end=MONTH_END,
            due_date=dt.date(2018, 5, 15),
        )
        for contract in made
    )
    observations = k.Observation.objects.bulk_create(
        k.Observation(
            measure=measure,
            period="2018-04",
            period_start=dt.date(2018, 4, 1),
            period_end=MONTH_END,
            value=VALUES[n % measures % 3],
        )
        for n, measure in enumerate(all_measures)
        if n % measures != measures - 1
    )
    by_measure = {o.measure_id: o for o in observations}
    Entry.objects.bulk_create(
        Entry(
            monthly_return=returns[n // measures],
            measure=measure,
            period="2018-04",
            observation=by_measure.get(measure.pk),
        )
        for n, measure in enumerate(all_measures)
    )
    return [c.pk for c in made]


def close_month(ids: list[int]) -> tuple[float, float, int, monthend.Report]:
    """Wall time, this process's CPU time (the Python side, less sensitive to a busy
    machine), queries, and the report."""
    with CaptureQueriesContext(connection) as queries:
        started, cpu = time.perf_counter(), time.process_time()
        report = monthend.daily(MONTH_END, contract_ids=ids)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert not report.failures, report.failures
    return elapsed, cpu, len(queries.captured_queries), report


@pytest.fixture
def quiet(settings, monkeypatch):
    # Email is a separate step (the outbox), timed on its own below.
    monkeypatch.setattr(notifications, "kick_delivery", lambda: None)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_closing_a_month_for_150_contracts_of_40_measures(quiet):
    contracts = 150
    started = time.perf_counter()
    large = build("l", contracts, 40)
    small = build("s", contracts, 10)
    setup = time.perf_counter() - started

    small_time, small_cpu, small_queries, _ = close_month(small)
    large_time, large_cpu, large_queries, report = close_month(large)

    assert RatingRun.objects.count() == 2 * contracts
    # 40 measures: 13 within tolerance + 13 outside owe narratives; 1 has no figure.
    assert (
        NarrativePrompt.objects.filter(entry__monthly_return__contract_id__in=large).count()
        == 26 * contracts
    )
    assert Notification.objects.count() == 2 * 2 * contracts
    with CaptureQueriesContext(connection) as delivery_queries:
        started = time.perf_counter()
        sent = notifications.deliver_pending()
        delivery = time.perf_counter() - started
    assert sent == 2 * 2 * contracts
    engine = connection.vendor
    print()
    print(f"month-end close on {engine}: setup of the data {setup:.1f} s (bulk, not measured)")
    for label, elapsed, cpu, queries in (
        ("10 measures", small_time, small_cpu, small_queries),
        ("40 measures", large_time, large_cpu, large_queries),
    ):
        print(
            f"  {contracts} contracts x {label}: {elapsed:.2f} s wall, {cpu:.2f} s CPU in Python "
            f"({1000 * elapsed / contracts:.0f} ms wall per contract), "
            f"{queries} queries ({queries / contracts:.1f} per contract)"
        )
    print(
        f"  then emailing the {sent} notifications (outbox, one transaction each): {delivery:.2f} s, "
        f"{len(delivery_queries.captured_queries)} queries"
    )
    print(f"  e.g. {report.steps[0].line(False)[:140]}...")
    # Bulk reads and writes: the number of queries per contract does not depend on measures.
    assert large_queries == small_queries
