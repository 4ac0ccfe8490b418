"""Every list is paginated and filtered, with its filters in the schema; the schema is
valid; the documentation page is served from the app's own static files."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from contracts.models import Role
from kpis.models import Kind, Measure, Polarity
from retained_services.models import Dataset
from tests.api.helpers import client_for
from tests.factories import (
    ContractFactory,
    MeasureFactory,
    ObservationFactory,
    OrganisationFactory,
    TargetFactory,
    member,
)

pytestmark = pytest.mark.django_db


def codes(body: dict) -> list[str]:
    return [row["code"] for row in body["results"]]


# --- pagination ------------------------------------------------------------------------


def test_a_list_pages_by_page_size_and_refuses_a_page_past_the_last(contract, commissioner):
    for n in range(1, 4):
        MeasureFactory(measure_set=contract.measure_set, code=f"KPI {n}", display_order=n)
    client = client_for(commissioner)

    first = client.get("/api/v1/contracts/fostering/measures/?page_size=2").json()
    second = client.get(first["next"]).json()
    beyond = client.get("/api/v1/contracts/fostering/measures/?page_size=2&page=3")

    assert (first["count"], codes(first), first["previous"]) == (3, ["KPI 1", "KPI 2"], None)
    assert (codes(second), second["next"]) == (["KPI 3"], None)
    assert beyond.status_code == 404
    assert beyond.json() == {"detail": "Invalid page."}


def test_page_size_is_capped_at_200(contract, commissioner):
    Measure.objects.bulk_create(
        Measure(measure_set=contract.measure_set, code=f"MI {n}", slug=f"mi-{n}", title="x")
        for n in range(201)
    )

    body = (
        client_for(commissioner).get("/api/v1/contracts/fostering/measures/?page_size=500").json()
    )

    assert (body["count"], len(body["results"])) == (201, 200)
    assert "page=2" in body["next"]


@pytest.mark.parametrize("size", ["0", "-5", "abc", "2.5", "1e2"])
def test_a_malformed_page_size_is_refused_naming_it_and_the_value(contract, commissioner, size):
    MeasureFactory(measure_set=contract.measure_set, code="KPI 1")

    response = client_for(commissioner).get(
        f"/api/v1/contracts/fostering/measures/?page_size={size}"
    )

    assert response.status_code == 400
    assert response.json() == {
        "page_size": [
            f"'{size}' is not a page size: write a whole number from 1 (200 at most are shown "
            "a page)."
        ]
    }


@pytest.mark.parametrize("number", ["0", "-1", "abc", "last", "1.0"])
def test_a_malformed_page_is_a_400_naming_it_not_a_404(contract, commissioner, number):
    MeasureFactory(measure_set=contract.measure_set, code="KPI 1")

    response = client_for(commissioner).get(f"/api/v1/contracts/?page={number}")

    assert response.status_code == 400
    assert response.json() == {
        "page": [f"'{number}' is not a page number: write a whole number from 1."]
    }


def test_every_list_refuses_a_malformed_page_naming_both_parameters(contract):
    officer = member(contract.commissioner, Role.OFFICER)
    client = client_for(officer)
    lists = [
        "/api/v1/contracts/",
        "/api/v1/contracts/fostering/measures/",
        "/api/v1/contracts/fostering/targets/",
        "/api/v1/returns/",
        "/api/v1/retained/datasets/",
        "/api/v1/contracts/fostering/scorecard/",
    ]

    for url in lists:
        response = client.get(f"{url}?page=x&page_size=-5")

        assert response.status_code == 400, url
        assert set(response.json()) == {"page", "page_size"}, url


def test_a_blank_page_or_page_size_is_as_if_not_given(contract, commissioner):
    for n in range(1, 4):
        MeasureFactory(measure_set=contract.measure_set, code=f"KPI {n}", display_order=n)
    client = client_for(commissioner)

    body = client.get("/api/v1/contracts/fostering/measures/?page=&page_size=").json()

    assert (body["count"], codes(body)) == (3, ["KPI 1", "KPI 2", "KPI 3"])


# --- filters ---------------------------------------------------------------------------


def test_contracts_filter_by_party_and_date(contract, commissioner):
    council = contract.commissioner
    ended = ContractFactory(
        slug="old",
        name="Adoption",
        commissioner=council,
        start=dt.date(2010, 4, 1),
        end=dt.date(2015, 3, 31),
    )
    client = client_for(commissioner)

    def slugs(query: str) -> list[str]:
        return [c["slug"] for c in client.get(f"/api/v1/contracts/?{query}").json()["results"]]

    assert slugs("") == ["old", "fostering"]  # by name
    assert slugs("active_on=2018-04-30") == ["fostering"]
    assert slugs("active_on=2012-01-01") == ["old"]
    assert slugs(f"provider={ended.provider.slug}") == ["old"]
    assert slugs(f"commissioner={council.slug}") == ["old", "fostering"]
    assert slugs("commissioner=nobody") == []


def test_measures_filter_by_kind_polarity_and_frequency(contract, commissioner):
    MeasureFactory(measure_set=contract.measure_set, code="KPI 1", display_order=1)
    MeasureFactory(
        measure_set=contract.measure_set,
        code="MI 1",
        kind=Kind.MI,
        polarity="",
        frequency="quarterly",
        display_order=2,
    )
    MeasureFactory(
        measure_set=contract.measure_set, code="SM 1", kind=Kind.SUPPORTING, display_order=3
    )
    client = client_for(commissioner)
    url = "/api/v1/contracts/fostering/measures/"

    assert codes(client.get(f"{url}?kind=kpi").json()) == ["KPI 1"]
    assert codes(client.get(f"{url}?polarity=none").json()) == ["MI 1"]
    assert codes(client.get(f"{url}?polarity={Polarity.UP}").json()) == ["KPI 1", "SM 1"]
    assert codes(client.get(f"{url}?frequency=quarterly").json()) == ["MI 1"]


def test_a_filter_value_it_does_not_take_is_refused_naming_the_filter(contract, commissioner):
    client = client_for(commissioner)

    kind = client.get("/api/v1/contracts/fostering/measures/?kind=kpii")
    day = client.get("/api/v1/contracts/?active_on=2018-02-30")
    scorecard = client.get("/api/v1/contracts/fostering/scorecard/?status=great")

    assert kind.status_code == 400
    assert "kpii" in kind.json()["kind"][0]
    assert day.status_code == 400
    assert list(day.json()) == ["active_on"]
    assert scorecard.status_code == 400
    assert '"great" is not a valid choice.' in scorecard.json()["status"]


def test_measures_filter_by_cumulative_and_refuse_a_word_that_is_not_true_or_false(
    contract, commissioner
):
    MeasureFactory(measure_set=contract.measure_set, code="KPI 1", display_order=1)
    MeasureFactory(measure_set=contract.measure_set, code="SM 1", cumulative=True, display_order=2)
    client = client_for(commissioner)
    url = "/api/v1/contracts/fostering/measures/"

    maybe = client.get(f"{url}?cumulative=maybe")

    assert maybe.status_code == 400
    assert maybe.json() == {
        "cumulative": ["'maybe' is not true or false: write true or false (or 1 or 0)."]
    }
    assert codes(client.get(f"{url}?cumulative=true").json()) == ["SM 1"]
    assert codes(client.get(f"{url}?cumulative=False").json()) == ["KPI 1"]
    assert codes(client.get(f"{url}?cumulative=1").json()) == ["SM 1"]
    assert codes(client.get(f"{url}?cumulative=").json()) == ["KPI 1", "SM 1"]


def test_targets_filter_by_measure_and_day_in_force(contract, commissioner):
    kpi1 = MeasureFactory(measure_set=contract.measure_set, code="KPI 1", display_order=1)
    kpi2 = MeasureFactory(measure_set=contract.measure_set, code="KPI 2", display_order=2)
    TargetFactory(measure=kpi1, valid_from=dt.date(2017, 4, 1), valid_to=dt.date(2018, 3, 31))
    TargetFactory(measure=kpi1, valid_from=dt.date(2018, 4, 1))
    TargetFactory(measure=kpi2, valid_from=dt.date(2017, 4, 1))
    client = client_for(commissioner)
    url = "/api/v1/contracts/fostering/targets/"

    def rows(query: str) -> list[tuple[str, str]]:
        return [
            (t["code"], t["valid_from"]) for t in client.get(f"{url}?{query}").json()["results"]
        ]

    assert rows("") == [
        ("KPI 1", "2017-04-01"),
        ("KPI 1", "2018-04-01"),
        ("KPI 2", "2017-04-01"),
    ]
    assert rows("measure=kpi-1") == [("KPI 1", "2017-04-01"), ("KPI 1", "2018-04-01")]
    assert rows("in_force_on=2018-03-31") == [("KPI 1", "2017-04-01"), ("KPI 2", "2017-04-01")]
    assert rows("measure=kpi-1&in_force_on=2018-04-01") == [("KPI 1", "2018-04-01")]


def _list_queries(user, path: str) -> int:
    client = client_for(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_targets_list_costs_a_fixed_number_of_queries(commissioner):
    council = commissioner.membership.organisation
    small, large = ContractFactory(commissioner=council), ContractFactory(commissioner=council)
    TargetFactory(measure=MeasureFactory(measure_set=small.measure_set))
    for _ in range(10):
        measure = MeasureFactory(measure_set=large.measure_set)
        for year in (2017, 2018):
            TargetFactory(
                measure=measure, valid_from=dt.date(year, 4, 1), valid_to=dt.date(year + 1, 3, 31)
            )

    assert _list_queries(commissioner, f"/api/v1/contracts/{small.slug}/targets/") == (
        _list_queries(commissioner, f"/api/v1/contracts/{large.slug}/targets/")
    )


def test_another_organisations_targets_are_not_found(contract):
    TargetFactory(measure=MeasureFactory(measure_set=contract.measure_set))
    outsider = member(OrganisationFactory(slug="elsewhere"), Role.ADMIN)

    response = client_for(outsider).get("/api/v1/contracts/fostering/targets/")

    assert response.status_code == 404


def test_the_scorecard_filters_by_kind_and_verdict(contract, commissioner):
    on = MeasureFactory(measure_set=contract.measure_set, code="KPI 1", display_order=1)
    off = MeasureFactory(measure_set=contract.measure_set, code="KPI 2", display_order=2)
    MeasureFactory(
        measure_set=contract.measure_set, code="MI 1", kind=Kind.MI, polarity="", display_order=3
    )
    for measure, value in ((on, "96"), (off, "80")):
        TargetFactory(measure=measure)
        ObservationFactory(measure=measure, period="2018-04", value=value)
    client = client_for(commissioner)
    url = "/api/v1/contracts/fostering/scorecard/?period=2018-04"

    kpis = client.get(f"{url}&kind=kpi").json()
    outside = client.get(f"{url}&status=outside_tolerance").json()

    assert (kpis["count"], codes(kpis)) == (2, ["KPI 1", "KPI 2"])
    assert (outside["count"], codes(outside)) == (1, ["KPI 2"])


def test_retained_datasets_are_paginated_and_filtered(contract):
    council = contract.commissioner
    for year in ("2017", "2018"):
        Dataset.objects.create(council=council, kind=Dataset.Kind.ADMISSIONS, year=year)
    Dataset.objects.create(council=council, kind=Dataset.Kind.EHE, year="2017/18")
    officer = member(council, Role.OFFICER)
    client = client_for(officer)

    page = client.get("/api/v1/retained/datasets/?kind=admissions&page_size=1").json()
    bad = client.get("/api/v1/retained/datasets/?kind=schools")
    # The next page keeps the filter and the page size: the other admissions year, last.
    second = client.get(page["next"]).json()

    assert (page["count"], [d["year"] for d in page["results"]]) == (2, ["2017"])
    assert ([d["year"] for d in second["results"]], second["next"]) == (["2018"], None)
    assert bad.status_code == 400
    assert list(bad.json()) == ["kind"]


def test_retained_datasets_filter_by_is_final_and_refuse_a_word_that_is_not_true_or_false(
    contract,
):
    council = contract.commissioner
    Dataset.objects.create(
        council=council, kind=Dataset.Kind.ADMISSIONS, year="2017", is_final=True
    )
    Dataset.objects.create(council=council, kind=Dataset.Kind.ADMISSIONS, year="2018")
    client = client_for(member(council, Role.OFFICER))
    url = "/api/v1/retained/datasets/"

    def years(query: str) -> list[str]:
        return [d["year"] for d in client.get(f"{url}?{query}").json()["results"]]

    maybe = client.get(f"{url}?is_final=maybe")

    assert maybe.status_code == 400
    assert maybe.json() == {
        "is_final": ["'maybe' is not true or false: write true or false (or 1 or 0)."]
    }
    assert years("is_final=true") == ["2017"]
    assert years("is_final=0") == ["2018"]


# --- the schema and its documentation page ---------------------------------------------


def schema() -> dict:
    return APIClient().get("/api/schema/?format=json").json()


def test_every_list_documents_its_pages_and_filters():
    schema_ = schema()
    paths = schema_["paths"]
    lists = {
        "/api/v1/contracts/": {"commissioner", "provider", "active_on"},
        "/api/v1/contracts/{contract_slug}/measures/": {
            "kind",
            "unit",
            "polarity",
            "frequency",
            "year_type",
            "cumulative",
        },
        "/api/v1/contracts/{contract_slug}/targets/": {"measure", "in_force_on"},
        "/api/v1/returns/": {"contract", "period", "state"},
        "/api/v1/retained/datasets/": {"kind", "year", "is_final"},
    }
    for path, filters in lists.items():
        operation = paths[path]["get"]
        names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
        assert names >= {"page", "page_size", *filters}, path
        pages = {p["name"]: p["schema"] for p in operation["parameters"] if "page" in p["name"]}
        assert pages == {"page": {"type": "integer", "minimum": 1}} | {
            "page_size": {"type": "integer", "minimum": 1}
        }, path
        assert {"200", "400", "404"} <= set(operation["responses"]), path
        refused = operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
        errors = schema_["components"]["schemas"][refused.split("/")[-1]]["properties"]
        assert {"page", "page_size", *filters} <= set(errors), path
        listed = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert listed.split("/")[-1].startswith("Paginated"), path


def test_the_writes_are_documented_with_their_refusals():
    paths = schema()["paths"]
    writes = {
        "/api/v1/contracts/": ["post"],
        "/api/v1/contracts/{slug}/": ["put", "patch"],
        "/api/v1/contracts/{contract_slug}/measures/": ["post"],
        "/api/v1/contracts/{contract_slug}/measures/{slug}/": ["put", "patch"],
        "/api/v1/contracts/{contract_slug}/targets/": ["post"],
        "/api/v1/contracts/{contract_slug}/targets/{id}/": ["put", "patch"],
    }
    for path, methods in writes.items():
        for method in methods:
            operation = paths[path][method]
            assert {"400", "401", "403"} <= set(operation["responses"]), (path, method)
            assert list(operation["requestBody"]["content"]) == ["application/json"]
    target_errors = schema()["components"]["schemas"]["TargetWriteErrors"]["properties"]
    assert {"measure", "valid_from", "target", "non_field_errors"} <= set(target_errors)


def test_the_schema_validates_without_a_warning(tmp_path: Path):
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    assert out.read_text().startswith("openapi: 3")


def test_the_documentation_page_loads_redoc_from_our_static_files():
    client = APIClient()

    page = client.get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in scripts
    # Nothing from another host: no CDN scripts, styles or fonts.
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)
    bundle = client.get("/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
    assert bundle.status_code == 200
    assert b"Redoc" in b"".join(bundle.streaming_content)[:200_000]
