"""The dashboard, a measure's page and the committee report read a fixed number of
queries, whatever the number of measures and periods: 60 measures of 36 months each cost
what 2 measures of 3 months cost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import Action, Entry, MonthlyReturn, ReturnState, Role
from kpis import models as k
from kpis import periods
from reports import charts
from reports.models import MeasureCommentary
from tests.factories import ContractFactory, member

pytestmark = pytest.mark.django_db

APRIL = periods.month(2018, 4)


def build(prefix: str, measures: int, months: int):
    """A contract of ``measures`` monthly measures with ``months`` official figures each,
    targets, comparators, a signed-off April return with narratives and actions, and
    reviewed commentary, all in bulk."""
    contract = ContractFactory(slug=prefix)
    user = member(contract.commissioner, Role.COMMISSIONER)
    made = k.Measure.objects.bulk_create(
        k.Measure(
            measure_set=contract.measure_set, code=f"Q {i}", slug=f"q-{i}", title=f"Measure {i}",
            kind="kpi", unit="percent", decimals=1, polarity="up", display_order=i,
        )
        for i in range(measures)
    )
    k.Target.objects.bulk_create(
        k.Target(measure=m, valid_from=dt.date(2015, 4, 1), target=Decimal(95), tolerance_low=Decimal(85))
        for m in made
    )
    observations = []
    for m in made:
        for back in range(months):
            p = periods.add_months(APRIL, -back)
            observations.append(
                k.Observation(
                    measure=m, period=p.label, period_start=p.start, period_end=p.end,
                    value=Decimal(80 + (back * 7 + m.pk) % 20), is_official=True,
                )
            )
    k.Observation.objects.bulk_create(observations)
    k.Comparator.objects.bulk_create(
        k.Comparator(measure=m, group="England", period="2017/18", period_end=dt.date(2018, 3, 31), value=Decimal(90))
        for m in made
    )
    k.SeriesBreak.objects.bulk_create(
        k.SeriesBreak(measure=m, from_period="2017-01", from_date=dt.date(2017, 1, 1), reason="New method")
        for m in made[::2]
    )
    monthly_return = MonthlyReturn.objects.create(
        contract=contract, period="2018-04", period_start=APRIL.start, period_end=APRIL.end,
        state=ReturnState.SIGNED_OFF,
    )
    entries = Entry.objects.bulk_create(
        Entry(monthly_return=monthly_return, measure=m, period="2018-04", variance_reason="Because.")
        for m in made
    )
    Action.objects.bulk_create(Action(entry=e, description="Act.") for e in entries for _ in range(2))
    MeasureCommentary.objects.bulk_create(
        MeasureCommentary(measure=m, period="2018-04", text="Reviewed.", drafted_text="", state="edited",
                          reviewed_by=user, reviewed_at=dt.datetime(2018, 5, 20, tzinfo=dt.UTC))
        for m in made
    )
    return contract, user


@pytest.fixture(autouse=True)
def _quick_charts(monkeypatch):
    # Drawing is not what is counted here: the charts' SVG is stubbed out.
    monkeypatch.setattr(charts, "history_svg", lambda spec: "<svg></svg>")


def queries(client, user, url: str) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


URLS = (
    "/contracts/{slug}/dashboard/?period=2018-04",
    "/contracts/{slug}/dashboard/",
    "/contracts/{slug}/measures/q-1/?period=2018-04",
    "/reports/{slug}/2018-04/",
    "/reports/{slug}/2018-04/?draft=1",
)


def test_a_fixed_number_of_queries(client, django_assert_num_queries):
    """One test for every page, so that the large contract is built once."""
    small, small_user = build("small", measures=2, months=3)
    large, large_user = build("large", measures=60, months=36)
    for url in URLS:
        expected = queries(client, small_user, url.format(slug=small.slug))
        client.force_login(large_user)
        with django_assert_num_queries(expected):
            response = client.get(url.format(slug=large.slug))
        assert response.status_code == 200
        if "dashboard" in url:
            assert len(response.context["lines"]) == 60
        if "reports" in url:
            assert len(response.context["report"]["measures"]) == 60

    # The published report, and which of its figures changed since (R17), read no more.
    for contract, user in ((small, small_user), (large, large_user)):
        client.force_login(user)
        assert client.post(f"/reports/{contract.slug}/2018-04/publish/").status_code == 302
    k.Observation.objects.filter(measure__measure_set=large.measure_set, period="2018-04").update(
        value=Decimal("99.5")
    )
    url = "/reports/{slug}/2018-04/published/"
    expected = queries(client, small_user, url.format(slug=small.slug))
    client.force_login(large_user)
    with django_assert_num_queries(expected):
        response = client.get(url.format(slug=large.slug))
    assert len(response.context["changes"]) == 60
