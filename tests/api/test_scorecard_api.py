"""The scorecard endpoint: the interface fields, verdict words, drafts, lag, periods, cost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contracts.models import Role
from kpis import periods
from kpis.models import Frequency, Observation, Polarity, Unit
from tests.api.helpers import client_for
from tests.factories import (
    ContractFactory,
    MeasureFactory,
    ObservationFactory,
    TargetFactory,
    member,
)

pytestmark = pytest.mark.django_db


INTERFACE_FIELDS = {
    "code",
    "slug",
    "title",
    "kind",
    "unit",
    "period",
    "value",
    "numerator",
    "denominator",
    "target",
    "target_low",
    "target_high",
    "tolerance_low",
    "tolerance_high",
    "status",
    "reason",
    "direction_previous",
    "direction_year",
    "as_at",
    "flags",
    # Statistical process control (interfaces.md: "once SPC exists").
    "variation",
    "assurance",
    "tolerance_assurance",
}
EXTRA_FIELDS = {"per", "decimals", "display_value"}


@pytest.fixture
def contract():
    return ContractFactory(slug="fostering")


def measure(contract, code: str, **kwargs):
    return MeasureFactory(measure_set=contract.measure_set, code=code, **kwargs)


def scorecard(user, period: str | None = "2018-04", slug: str = "fostering"):
    query = f"?period={period}" if period else ""
    return client_for(user).get(f"/api/v1/contracts/{slug}/scorecard/{query}")


def rows_by_code(body) -> dict[str, dict]:
    return {row["code"]: row for row in body["results"]}


def test_every_row_has_exactly_the_interface_fields(contract, commissioner):
    rated = measure(contract, "KPI 1")
    TargetFactory(measure=rated)
    ObservationFactory(measure=rated, period="2018-03", value=Decimal("88"))
    ObservationFactory(
        measure=rated,
        period="2018-04",
        value=None,
        numerator=Decimal("96"),
        denominator=Decimal("100"),
        as_at=dt.date(2018, 5, 10),
    )
    measure(contract, "KPI 2")  # no figure, no target

    response = scorecard(commissioner)

    assert response.status_code == 200
    body = response.json()
    # Every list's envelope (interfaces.md), with the contract and month.
    assert list(body) == ["contract", "period", "count", "next", "previous", "results"]
    assert (body["contract"], body["period"], body["count"]) == ("fostering", "2018-04", 2)
    assert (body["next"], body["previous"]) == (None, None)
    for row in body["results"]:
        assert set(row) == INTERFACE_FIELDS | EXTRA_FIELDS
    row = rows_by_code(body)["KPI 1"]
    assert row == {
        "code": "KPI 1",
        "slug": "kpi-1",
        "title": "Measure KPI 1",
        "kind": "kpi",
        "unit": "percent",
        "per": None,
        "decimals": 1,
        "period": "2018-04",
        "value": "96",
        "display_value": "96.0%",
        "numerator": "96",
        "denominator": "100",
        "target": "95",
        "target_low": None,
        "target_high": None,
        "tolerance_low": "85",
        "tolerance_high": None,
        "status": "on_target",
        "reason": "96.0% is meeting target (target 95%, tolerance from 85%).",
        "direction_previous": "improving",
        "direction_year": "not_comparable",
        "as_at": "2018-05-10",
        "flags": [],
        # Two figures are too few for process limits (kpis.spc: at least 12).
        "variation": "insufficient_data",
        "assurance": "not_applicable",
        "tolerance_assurance": "not_applicable",
    }
    empty = rows_by_code(body)["KPI 2"]
    assert (empty["status"], empty["period"], empty["value"], empty["as_at"]) == (
        "no_data",
        None,
        None,
        None,
    )
    assert empty["target"] is None and empty["tolerance_low"] is None


def test_status_words(contract, commissioner):
    for code, value in [("KPI 1", "96"), ("KPI 2", "85"), ("KPI 3", "84.9")]:
        m = measure(contract, code)
        TargetFactory(measure=m)
        ObservationFactory(measure=m, value=Decimal(value))
    ObservationFactory(measure=measure(contract, "KPI 4"), value=Decimal("50"))  # no target
    measure(contract, "KPI 5")  # no figure

    statuses = {
        code: row["status"] for code, row in rows_by_code(scorecard(commissioner).json()).items()
    }

    assert statuses == {
        "KPI 1": "on_target",
        "KPI 2": "within_tolerance",  # exactly at the floor is within (R2)
        "KPI 3": "outside_tolerance",
        "KPI 4": "not_rated",
        "KPI 5": "no_data",
    }


def test_reader_does_not_see_a_draft_figure(contract):
    ObservationFactory(measure=measure(contract, "KPI 1"), is_official=False)
    reader = member(contract.commissioner, Role.READER)

    (row,) = scorecard(reader).json()["results"]

    assert row["status"] == "no_data"
    assert row["value"] is None
    assert "draft" not in row["flags"]


def test_provider_editor_sees_a_draft_figure_flagged(contract):
    m = measure(contract, "KPI 1")
    TargetFactory(measure=m)
    ObservationFactory(measure=m, value=Decimal("90"), is_official=False)
    editor = member(contract.provider, Role.PROVIDER_EDITOR)

    (row,) = scorecard(editor).json()["results"]

    assert row["status"] == "within_tolerance"
    assert row["value"] == "90"
    assert row["flags"] == ["draft"]


def test_default_period_is_the_latest_month_the_viewer_may_see(contract):
    m = measure(contract, "KPI 1")
    ObservationFactory(measure=m, period="2018-04")
    ObservationFactory(measure=m, period="2018-05", is_official=False)

    reader = member(contract.commissioner, Role.READER)
    editor = member(contract.provider, Role.PROVIDER_EDITOR)

    assert scorecard(reader, period=None).json()["period"] == "2018-04"
    assert scorecard(editor, period=None).json()["period"] == "2018-05"


def test_quarterly_figure_older_than_the_month_is_flagged_lag(contract, commissioner):
    quarterly = measure(contract, "SM 2", frequency=Frequency.QUARTERLY)
    ObservationFactory(measure=quarterly, period="2018/19 Q1", value=Decimal("70"))

    (row,) = scorecard(commissioner, period="2018-08").json()["results"]

    assert row["period"] == "2018/19 Q1"
    assert row["as_at"] == "2018-06-30"  # no as_at given: the period's end
    assert "lag" in row["flags"]


def test_quarterly_figure_ending_in_the_month_is_not_lagged(contract, commissioner):
    quarterly = measure(contract, "SM 2", frequency=Frequency.QUARTERLY)
    ObservationFactory(measure=quarterly, period="2018/19 Q1", value=Decimal("70"))

    (row,) = scorecard(commissioner, period="2018-06").json()["results"]

    assert "lag" not in row["flags"]


def test_relative_tolerance_reaches_the_row(contract, commissioner):
    m = measure(contract, "SM 1.1", unit=Unit.COUNT, polarity=Polarity.DOWN, decimals=0)
    TargetFactory(
        measure=m,
        target=Decimal("560"),
        tolerance_low=None,
        tolerance_high=None,
        tolerance_relative=Decimal("10"),
        tolerance_unit="percent",
    )
    ObservationFactory(measure=m, value=Decimal("616"))

    (row,) = scorecard(commissioner).json()["results"]

    assert (row["slug"], row["status"]) == ("sm-1-1", "within_tolerance")
    assert (row["tolerance_low"], row["tolerance_high"]) == (None, "616")


@pytest.mark.parametrize(
    ("period", "words"),
    [
        ("2018-13", "'2018-13' is not a month"),
        ("April", "'April' is not a month"),
        ("2018/19 Q1", "'2018/19 Q1' is a quarter, not a month"),
        ("2018", "'2018' is a calendar year, not a month"),
    ],
)
def test_bad_period_is_a_400_naming_the_value(contract, commissioner, period, words):
    response = scorecard(commissioner, period=period)

    assert response.status_code == 400
    (message,) = response.json()["period"]
    assert words in message
    assert "YYYY-MM" in message


def test_token_auth_works(contract):
    user = member(contract.commissioner, Role.COMMISSIONER)
    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.get("/api/v1/contracts/fostering/scorecard/?period=2018-04")

    assert response.status_code == 200
    assert response.json()["contract"] == "fostering"


def test_bad_token_is_refused(contract):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")

    assert client.get("/api/v1/contracts/fostering/scorecard/").status_code in (401, 403)


def test_anonymous_is_refused(contract):
    assert APIClient().get("/api/v1/contracts/fostering/scorecard/").status_code in (401, 403)


def _build(contract, n_measures: int, n_months: int) -> None:
    """``n_measures`` with a target, a series break and ``n_months`` of figures to 2018-04."""
    last = periods.month(2018, 4)
    months = [last]
    while len(months) < n_months:
        months.append(periods.previous(months[-1]))
    figures = []
    for i in range(n_measures):
        m = measure(contract, f"KPI {i}")
        TargetFactory(measure=m)
        m.series_breaks.create(from_period="2017-10", from_date=dt.date(2017, 10, 1), reason="New")
        m.data_gaps.create(start=dt.date(2017, 1, 1), end=dt.date(2017, 1, 31), reason="Outage")
        figures += [
            Observation(
                measure=m,
                period=p.label,
                period_start=p.start,
                period_end=p.end,
                value=Decimal(80 + (i + j) % 20),
                is_official=j % 3 != 0,
            )
            for j, p in enumerate(months)
        ]
    Observation.objects.bulk_create(figures)


def _scorecard_queries(user, slug: str, period: str | None, pages: str = "") -> int:
    client = client_for(user)
    query = "?" + "&".join(q for q in (f"period={period}" if period else "", pages) if q)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/api/v1/contracts/{slug}/scorecard/{query}")
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("role", [Role.COMMISSIONER, Role.READER])
@pytest.mark.parametrize("period", ["2018-04", None])
def test_scorecard_costs_a_fixed_number_of_queries(role, period):
    small = ContractFactory()
    large = ContractFactory(commissioner=small.commissioner)
    _build(small, n_measures=2, n_months=2)
    _build(large, n_measures=20, n_months=24)
    user = member(small.commissioner, role)

    assert _scorecard_queries(user, small.slug, period) == _scorecard_queries(
        user, large.slug, period
    )


def test_a_page_of_the_scorecard_costs_what_the_whole_does():
    small = ContractFactory()
    large = ContractFactory(commissioner=small.commissioner)
    _build(small, n_measures=2, n_months=2)
    _build(large, n_measures=20, n_months=24)
    user = member(small.commissioner, Role.COMMISSIONER)

    whole = _scorecard_queries(user, small.slug, "2018-04")

    assert _scorecard_queries(user, large.slug, "2018-04", "page=2&page_size=7") == whole
    assert _scorecard_queries(user, large.slug, "2018-04", "page_size=200") == whole


# --- pages -----------------------------------------------------------------------------


def test_the_scorecard_pages_as_every_list_does(contract, commissioner):
    for n in range(1, 6):
        measure(contract, f"KPI {n}", display_order=n)
    client = client_for(commissioner)
    url = "/api/v1/contracts/fostering/scorecard/?period=2018-04&kind=kpi&page_size=2"

    first = client.get(url).json()
    second = client.get(first["next"]).json()
    last = client.get(second["next"]).json()

    assert (first["contract"], first["period"], first["count"]) == ("fostering", "2018-04", 5)
    assert [r["code"] for r in first["results"]] == ["KPI 1", "KPI 2"]
    assert first["previous"] is None
    # The links keep the month, the filters and the page size.
    assert "period=2018-04" in first["next"] and "kind=kpi" in first["next"]
    assert "page=2" in first["next"] and "page_size=2" in first["next"]
    assert [r["code"] for r in second["results"]] == ["KPI 3", "KPI 4"]
    assert client.get(second["previous"]).json()["results"] == first["results"]
    assert ([r["code"] for r in last["results"]], last["next"]) == (["KPI 5"], None)
    assert (last["contract"], last["period"], last["count"]) == ("fostering", "2018-04", 5)


def test_a_scorecard_page_past_the_last_is_a_404_and_a_malformed_one_a_400(contract, commissioner):
    measure(contract, "KPI 1")
    client = client_for(commissioner)
    url = "/api/v1/contracts/fostering/scorecard/?period=2018-04"

    beyond = client.get(f"{url}&page=2")
    malformed = client.get(f"{url}&page=two&page_size=0")

    assert beyond.status_code == 404
    assert malformed.status_code == 400
    assert malformed.json() == {
        "page": ["'two' is not a page number: write a whole number from 1."],
        "page_size": [
            "'0' is not a page size: write a whole number from 1 (200 at most are shown a page)."
        ],
    }
