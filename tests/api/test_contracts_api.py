"""The contracts and measures endpoints: who sees what, and the fields promised."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from contracts.models import Role
from kpis.models import Comparator, Polarity, SeriesBreak, Unit
from tests.api.helpers import client_for
from tests.factories import ContractFactory, MeasureFactory, TargetFactory, UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def outsider():
    """A provider user of a different contract: must learn nothing of ``contract``."""
    return member(ContractFactory().provider, Role.PROVIDER_EDITOR)


def test_list_shows_own_contracts_with_pagination_keys(contract, commissioner):
    body = client_for(commissioner).get("/api/v1/contracts/").json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    row = body["results"][0]
    assert row["slug"] == "fostering"
    assert row["commissioner"] == {
        "slug": contract.commissioner.slug,
        "name": contract.commissioner.name,
    }
    assert row["provider"] == {"slug": contract.provider.slug, "name": contract.provider.name}
    assert row["start"] == "2017-04-01"
    assert row["end"] is None
    assert row["url"].endswith("/api/v1/contracts/fostering/")
    assert row["measures_url"].endswith("/api/v1/contracts/fostering/measures/")
    assert row["scorecard_url"].endswith("/api/v1/contracts/fostering/scorecard/")


def test_provider_sees_the_contract_it_provides(contract):
    provider = member(contract.provider, Role.PROVIDER_LEAD)

    body = client_for(provider).get("/api/v1/contracts/").json()

    assert [c["slug"] for c in body["results"]] == ["fostering"]


def test_other_organisation_sees_none_of_them(contract, outsider):
    body = client_for(outsider).get("/api/v1/contracts/").json()

    assert "fostering" not in [c["slug"] for c in body["results"]]
    assert body["count"] == 1  # only its own


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/contracts/fostering/",
        "/api/v1/contracts/fostering/measures/",
        "/api/v1/contracts/fostering/measures/kpi-1/",
        "/api/v1/contracts/fostering/scorecard/",
    ],
)
def test_another_organisations_contract_is_not_found(contract, outsider, path):
    MeasureFactory(measure_set=contract.measure_set, code="KPI 1")

    response = client_for(outsider).get(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "No such contract."}


def test_unknown_contract_reads_the_same_as_a_hidden_one(outsider):
    response = client_for(outsider).get("/api/v1/contracts/no-such-thing/")

    assert response.status_code == 404
    assert response.json() == {"detail": "No such contract."}


def test_detail(contract, commissioner):
    body = client_for(commissioner).get("/api/v1/contracts/fostering/").json()

    assert body["slug"] == "fostering"
    assert body["name"] == "Fostering"


@pytest.mark.parametrize(
    "path",
    ["/api/v1/contracts/", "/api/v1/contracts/fostering/", "/api/v1/contracts/fostering/measures/"],
)
def test_anonymous_is_refused(contract, path):
    response = APIClient().get(path)

    assert response.status_code in (401, 403)


def test_user_without_membership_sees_nothing(contract):
    user = UserFactory()
    user.save()

    assert client_for(user).get("/api/v1/contracts/").json()["count"] == 0
    assert client_for(user).get("/api/v1/contracts/fostering/").status_code == 404


# --- measures --------------------------------------------------------------------------


@pytest.fixture
def sm11(contract):
    measure = MeasureFactory(
        measure_set=contract.measure_set,
        code="SM 1.1",
        title="Children looked after",
        unit=Unit.COUNT,
        polarity=Polarity.DOWN,
        decimals=0,
        definition="Children looked after at the month end.",
        data_source="Case management system",
        comparability_note="Counted at the month end.",
    )
    TargetFactory(
        measure=measure,
        valid_from=dt.date(2017, 4, 1),
        valid_to=dt.date(2018, 3, 31),
        target=Decimal("560"),
        tolerance_low=None,
        tolerance_high=None,
        tolerance_relative=Decimal("10"),
        tolerance_unit="percent",
    )
    return measure


MEASURE_FIELDS = {
    "url",
    "code",
    "slug",
    "title",
    "kind",
    "unit",
    "per",
    "decimals",
    "polarity",
    "frequency",
    "year_type",
    "cumulative",
    "lag_months",
    "definition",
    "data_source",
    "comparability_note",
    "targets",
}


def test_measures_list_fields(sm11, commissioner):
    body = client_for(commissioner).get("/api/v1/contracts/fostering/measures/").json()

    assert set(body) == {"count", "next", "previous", "results"}
    (row,) = body["results"]
    assert set(row) == MEASURE_FIELDS
    assert row["code"] == "SM 1.1"
    assert row["slug"] == "sm-1-1"
    assert row["url"].endswith("/api/v1/contracts/fostering/measures/sm-1-1/")
    assert row["kind"] == "kpi"
    assert row["unit"] == "count"
    assert row["per"] is None
    assert row["decimals"] == 0
    assert row["polarity"] == "down"
    assert row["frequency"] == "monthly"
    assert row["year_type"] == "financial"
    assert row["cumulative"] is False
    assert row["definition"] == "Children looked after at the month end."
    assert row["data_source"] == "Case management system"
    assert row["comparability_note"] == "Counted at the month end."


def test_relative_tolerance_is_resolved_on_the_worse_side(sm11, commissioner):
    """R4: target 560, +10% on a lower-is-better measure -> ceiling 616, floor open."""
    body = client_for(commissioner).get("/api/v1/contracts/fostering/measures/").json()

    (target,) = body["results"][0]["targets"]
    assert target["valid_from"] == "2017-04-01"
    assert target["valid_to"] == "2018-03-31"
    assert target["target"] == "560"
    assert target["target_low"] is None
    assert target["target_high"] is None
    assert target["tolerance_high"] == "616"
    assert target["tolerance_low"] is None
    assert target["tolerance_as_written"] == {
        "tolerance_low": None,
        "tolerance_high": None,
        "tolerance_relative": "10",
        "tolerance_unit": "percent",
    }


def test_written_band_reports_only_the_worse_side(contract, commissioner):
    """R3: "target 95, tolerance 85-100" on higher-is-better is floor 85, ceiling open."""
    measure = MeasureFactory(measure_set=contract.measure_set, code="KPI 1")
    TargetFactory(measure=measure)

    body = client_for(commissioner).get("/api/v1/contracts/fostering/measures/kpi-1/").json()

    (target,) = body["targets"]
    assert (target["target"], target["tolerance_low"], target["tolerance_high"]) == (
        "95",
        "85",
        None,
    )
    assert target["tolerance_as_written"]["tolerance_high"] == "100"
    assert target["tolerance_as_written"]["tolerance_unit"] is None


def test_blank_polarity_is_null(contract, commissioner):
    MeasureFactory(measure_set=contract.measure_set, code="MI 1", polarity="", kind="mi")

    body = client_for(commissioner).get("/api/v1/contracts/fostering/measures/mi-1/").json()

    assert body["polarity"] is None


def test_measure_detail_has_comparators_and_series_breaks(sm11, commissioner):
    Comparator.objects.create(
        measure=sm11,
        group="England",
        period="2017/18",
        period_end=dt.date(2018, 3, 31),
        value=Decimal("64.000000"),
        source="DfE SSDA903",
    )
    SeriesBreak.objects.create(
        measure=sm11, from_period="2018-04", from_date=dt.date(2018, 4, 1), reason="New system."
    )

    body = client_for(commissioner).get("/api/v1/contracts/fostering/measures/sm-1-1/").json()

    assert set(body) == MEASURE_FIELDS | {"comparators", "series_breaks"}
    assert body["comparators"] == [
        {
            "group": "England",
            "period": "2017/18",
            "value": "64",
            "source": "DfE SSDA903",
            "comparable": True,
            "note": "",
        }
    ]
    assert body["series_breaks"] == [{"from_period": "2018-04", "reason": "New system."}]
    assert body["targets"][0]["tolerance_high"] == "616"


def test_measure_of_another_contract_is_not_found(contract, commissioner):
    MeasureFactory(code="KPI 9")  # in some other measure set

    response = client_for(commissioner).get("/api/v1/contracts/fostering/measures/kpi-9/")

    assert response.status_code == 404


def _measures_list_queries(user, slug: str) -> int:
    client = client_for(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/api/v1/contracts/{slug}/measures/")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_measures_list_costs_a_fixed_number_of_queries(commissioner):
    small = ContractFactory(commissioner=commissioner.membership.organisation)
    for _ in range(2):
        measure = MeasureFactory(measure_set=small.measure_set)
        TargetFactory(
            measure=measure, valid_from=dt.date(2017, 4, 1), valid_to=dt.date(2018, 3, 31)
        )
        TargetFactory(measure=measure, valid_from=dt.date(2018, 4, 1))
    large = ContractFactory(commissioner=commissioner.membership.organisation)
    for _ in range(20):
        measure = MeasureFactory(measure_set=large.measure_set)
        for year in range(2016, 2020):
            TargetFactory(
                measure=measure, valid_from=dt.date(year, 4, 1), valid_to=dt.date(year + 1, 3, 31)
            )

    assert _measures_list_queries(commissioner, small.slug) == _measures_list_queries(
        commissioner, large.slug
    )


def test_schema_documents_every_endpoint_with_its_errors():
    schema = APIClient().get("/api/schema/?format=json").json()

    paths = schema["paths"]
    assert set(paths) >= {
        "/api/v1/contracts/",
        "/api/v1/contracts/{slug}/",
        "/api/v1/contracts/{contract_slug}/measures/",
        "/api/v1/contracts/{contract_slug}/measures/{slug}/",
        "/api/v1/contracts/{slug}/scorecard/",
    }
    scorecard = paths["/api/v1/contracts/{slug}/scorecard/"]["get"]
    # Paged as every list is, with the contract and month it is of.
    assert "Paginated as every list is" in scorecard["description"]
    assert {"200", "400", "404"} <= set(scorecard["responses"])
    assert {"period", "kind", "status", "page", "page_size"} <= {
        p["name"] for p in scorecard["parameters"]
    }
    page = schema["components"]["schemas"]["Scorecard"]["properties"]
    assert list(page) == ["contract", "period", "count", "next", "previous", "results"]
    assert "404" in paths["/api/v1/contracts/{slug}/"]["get"]["responses"]
