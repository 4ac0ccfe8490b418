"""The monthly return's workflow through the API: the same rules and errors as the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from contracts import workflow
from contracts.models import Entry, MonthlyReturn, Query, ReturnEvent, ReturnState, Role
from kpis.models import Frequency, Observation
from tests.api.helpers import token_client
from tests.factories import ContractFactory, MeasureFactory, TargetFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract():
    contract = ContractFactory(slug="fostering")
    kpi1 = MeasureFactory(measure_set=contract.measure_set, code="KPI 1", display_order=1)
    TargetFactory(measure=kpi1, target=Decimal("95"), tolerance_low=Decimal("85"))
    kpi4 = MeasureFactory(
        measure_set=contract.measure_set,
        code="KPI 4",
        frequency=Frequency.QUARTERLY,
        lag_months=7,
        unit="rate",
        per=100000,
        polarity="down",
        display_order=2,
    )
    TargetFactory(measure=kpi4, target=Decimal("560"), tolerance_low=None, tolerance_high=None)
    return contract


@pytest.fixture
def people(contract):
    return {
        "editor": member(contract.provider, Role.PROVIDER_EDITOR, "editor"),
        "lead": member(contract.provider, Role.PROVIDER_LEAD, "lead"),
        "commissioner": member(contract.commissioner, Role.COMMISSIONER, "commissioner"),
    }


@pytest.fixture
def clients(people):
    return {name: token_client(user) for name, user in people.items()}


@pytest.fixture
def april(contract):
    return workflow.open_return(contract, "2018-04")


def entry_in(document: dict, code: str) -> dict:
    (entry,) = [e for e in document["entries"] if e["code"] == code]
    return entry


def owed(document: dict) -> list[tuple[str, str]]:
    return [(item["code"], item["kind"]) for item in document["owed"]]


def unchanged(monthly_return: MonthlyReturn) -> tuple:
    """What a refused request must leave as it was."""
    return (
        MonthlyReturn.objects.get(pk=monthly_return.pk).state,
        sorted(Entry.objects.filter(monthly_return=monthly_return).values_list("pk", "version")),
        sorted(Observation.objects.values_list("pk", "value", "is_official")),
        monthly_return.events.count(),
    )


# --- the whole cycle -------------------------------------------------------------------


def test_the_whole_cycle_through_the_api(april, clients):
    editor, lead, commissioner = clients["editor"], clients["lead"], clients["commissioner"]
    url = f"/api/v1/returns/{april.pk}/"

    document = editor.get(url).json()
    assert (document["contract"], document["period"], document["state"]) == (
        "fostering",
        "2018-04",
        "draft",
    )
    assert owed(document) == [("KPI 1", "no_data_reason"), ("KPI 4", "no_data_reason")]
    kpi1, kpi4 = entry_in(document, "KPI 1"), entry_in(document, "KPI 4")
    assert (kpi1["status"], kpi1["version"], kpi1["editable"]) == ("no_data", 1, True)
    assert kpi4["period"] == "2017/18 Q2"  # what the figure covers, not the return's month

    # The editor enters the figures.
    saved = editor.patch(
        f"/api/v1/entries/{kpi1['id']}/", {"version": 1, "value": "92.1"}, format="json"
    )
    assert saved.status_code == 200, saved.json()
    assert (saved.json()["value"], saved.json()["status"], saved.json()["version"]) == (
        "92.1",
        "within_tolerance",
        2,
    )
    saved = editor.patch(
        f"/api/v1/entries/{kpi4['id']}/",
        {"version": 1, "value": 402, "as_at": "2017-08-31"},
        format="json",
    )
    assert saved.status_code == 200, saved.json()
    assert (saved.json()["value"], saved.json()["as_at"], saved.json()["status"]) == (
        "402",
        "2017-08-31",
        "on_target",
    )

    # The lead may not submit while KPI 1 owes its narrative (R9): the 400 says exactly what.
    refused = lead.post(f"{url}submit/")
    assert refused.status_code == 400
    assert [(i["code"], i["kind"]) for i in refused.json()["owed"]] == [
        ("KPI 1", "narrative"),
        ("KPI 1", "actions"),
    ]
    assert "cannot be submitted" in refused.json()["detail"]
    assert lead.get(url).json()["state"] == "draft"

    saved = editor.patch(
        f"/api/v1/entries/{kpi1['id']}/",
        {
            "version": 2,
            "variance_reason": "Data entry errors and late replies from referrers.",
            "actions": [
                {"description": "Process maps", "owner": "Head of MASH", "due_date": "2018-06-30"}
            ],
        },
        format="json",
    )
    assert saved.status_code == 200, saved.json()
    body = saved.json()
    assert body["value"] == "92.1"  # fields not sent keep their values
    assert body["variance_reason"] == "Data entry errors and late replies from referrers."
    assert [
        (a["description"], a["owner"], a["due_date"], a["recorded_without_owner"])
        for a in body["actions"]
    ] == [("Process maps", "Head of MASH", "2018-06-30", False)]

    submitted = lead.post(f"{url}submit/")
    assert submitted.status_code == 200, submitted.json()
    assert (submitted.json()["state"], submitted.json()["owed"]) == ("submitted", [])
    assert [e["editable"] for e in editor.get(url).json()["entries"]] == [False, False]

    # The commissioner queries KPI 1; only KPI 1 may change now.
    queried = commissioner.post(
        f"{url}query/",
        {"queries": [{"entry": kpi1["id"], "comment": "Which teams were late?"}]},
        format="json",
    )
    assert queried.status_code == 200, queried.json()
    document = editor.get(url).json()
    assert document["state"] == "queried"
    assert owed(document) == [("KPI 1", "answer")]
    assert [(e["code"], e["editable"]) for e in document["entries"]] == [
        ("KPI 1", True),
        ("KPI 4", False),
    ]
    (query,) = entry_in(document, "KPI 1")["queries"]
    assert (query["comment"], query["raised_by"], query["answer"], query["closed_at"]) == (
        "Which teams were late?",
        "commissioner",
        "",
        None,
    )

    answered = editor.post(
        f"{url}answer/",
        {"answers": [{"query": query["id"], "answer": "Two locality teams."}]},
        format="json",
    )
    assert answered.status_code == 200, answered.json()
    (query,) = entry_in(answered.json(), "KPI 1")["queries"]
    assert (query["answer"], query["answered_by"]) == ("Two locality teams.", "editor")

    resubmitted = lead.post(f"{url}submit/")
    assert resubmitted.status_code == 200, resubmitted.json()
    assert resubmitted.json()["state"] == "submitted"
    assert entry_in(resubmitted.json(), "KPI 1")["queries"][0]["closed_at"] is not None

    signed = commissioner.post(f"{url}sign-off/")
    assert signed.status_code == 200, signed.json()
    assert signed.json()["state"] == "signed_off"
    assert not Observation.objects.filter(is_official=False).exists()

    # Signed off: frozen. Nothing changes, and the 409 says why.
    before = unchanged(april)
    late = editor.patch(
        f"/api/v1/entries/{kpi1['id']}/", {"version": 3, "value": "96"}, format="json"
    )
    assert late.status_code == 409
    assert "signed off" in late.json()["detail"]
    assert unchanged(april) == before

    no_reason = commissioner.post(f"{url}reopen/", {}, format="json")
    assert no_reason.status_code == 400
    assert no_reason.json() == {
        "detail": "Give the reason for reopening the return.",
        "field": "reason",
    }
    assert unchanged(april) == before

    reopened = commissioner.post(
        f"{url}reopen/", {"reason": "Late referrals were miscounted."}, format="json"
    )
    assert reopened.status_code == 200, reopened.json()
    assert reopened.json()["state"] == "draft"

    steps = list(april.events.values_list("action", "to_state", "actor__username", "reason"))
    assert steps == [
        ("open", "draft", None, ""),
        ("save", "draft", "editor", ""),
        ("save", "draft", "editor", ""),
        ("save", "draft", "editor", ""),
        ("submit", "submitted", "lead", ""),
        ("query", "queried", "commissioner", ""),
        ("answer", "queried", "editor", ""),
        ("submit", "submitted", "lead", ""),
        ("sign_off", "signed_off", "commissioner", ""),
        ("reopen", "draft", "commissioner", "Late referrals were miscounted."),
    ]


def test_a_return_document_has_the_fields_promised(april, clients):
    document = clients["editor"].get(f"/api/v1/returns/{april.pk}/").json()

    assert set(document) == {
        "id",
        "url",
        "contract",
        "period",
        "state",
        "due_date",
        "owed",
        "entries",
    }
    assert document["url"].endswith(f"/api/v1/returns/{april.pk}/")
    assert set(document["owed"][0]) == {"entry", "code", "kind", "message"}
    assert set(entry_in(document, "KPI 1")) == {
        "id",
        "code",
        "slug",
        "title",
        "period",
        "value",
        "numerator",
        "denominator",
        "as_at",
        "flags",
        "note",
        "second_value",
        "second_source",
        "status",
        "reason",
        "variance_reason",
        "no_data_reason",
        "actions",
        "queries",
        "version",
        "updated_by",
        "updated_at",
        "editable",
    }


def test_an_entry_reads_as_in_its_return(april, clients):
    kpi1 = april.entries.get(measure__code="KPI 1")

    body = clients["editor"].get(f"/api/v1/entries/{kpi1.pk}/").json()

    assert body == entry_in(clients["editor"].get(f"/api/v1/returns/{april.pk}/").json(), "KPI 1")


def test_a_change_of_narrative_alone_keeps_the_figure(april, people, clients):
    kpi1 = april.entries.get(measure__code="KPI 1")
    workflow.save_entry(
        kpi1.pk,
        people["editor"],
        version=1,
        figures={"value": Decimal("50"), "numerator": Decimal("1"), "denominator": Decimal("2")},
    )

    response = clients["editor"].patch(
        f"/api/v1/entries/{kpi1.pk}/",
        {"version": 2, "variance_reason": "Two referrers replied late."},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["value"], body["numerator"], body["denominator"]) == ("50", "1", "2")
    assert Observation.objects.get().value == Decimal("50")


def test_null_clears_the_figure(april, people, clients):
    kpi1 = april.entries.get(measure__code="KPI 1")
    workflow.save_entry(kpi1.pk, people["editor"], version=1, figures={"value": Decimal("92.1")})

    response = clients["editor"].patch(
        f"/api/v1/entries/{kpi1.pk}/", {"version": 2, "value": None}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["value"], response.json()["status"]) == (None, "no_data")
    assert not Observation.objects.exists()


# --- refusals of a change --------------------------------------------------------------


@pytest.mark.parametrize(
    "field, written",
    [
        ("value", "9x2"),
        ("value", "92,1"),
        ("value", "92.1%"),
        ("value", "1e3"),
        ("value", ""),
        ("value", True),
        ("numerator", "12 000"),
        ("denominator", "-"),
        ("second_value", "1.1234567"),
        ("value", "1234567890123"),
    ],
)
def test_a_malformed_number_is_refused_naming_the_field_and_what_was_written(
    april, clients, field, written
):
    kpi1 = april.entries.get(measure__code="KPI 1")
    before = unchanged(april)

    response = clients["editor"].patch(
        f"/api/v1/entries/{kpi1.pk}/", {"version": 1, field: written}, format="json"
    )

    assert response.status_code == 400
    (message,) = response.json()[field]
    assert f"'{written}'" in message
    assert unchanged(april) == before


def test_a_malformed_date_is_refused_naming_what_was_written(april, clients):
    kpi4 = april.entries.get(measure__code="KPI 4")

    response = clients["editor"].patch(
        f"/api/v1/entries/{kpi4.pk}/",
        {"version": 1, "value": "402", "as_at": "31/08/2017"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "as_at": ["'31/08/2017' is not a date: write it YYYY-MM-DD, e.g. 2018-04-30."]
    }


def test_a_change_must_name_its_version(april, clients):
    kpi1 = april.entries.get(measure__code="KPI 1")

    response = clients["editor"].patch(
        f"/api/v1/entries/{kpi1.pk}/", {"value": "92"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"version": ["This field is required."]}


def test_a_new_action_needs_an_owner_and_a_due_date(april, clients):
    kpi1 = april.entries.get(measure__code="KPI 1")
    before = unchanged(april)

    response = clients["editor"].patch(
        f"/api/v1/entries/{kpi1.pk}/",
        {"version": 1, "actions": [{"description": "Triage contacts"}]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"actions": ["Action 1 on KPI 1 needs an owner and a due date."]}
    assert unchanged(april) == before


def test_a_figure_that_contradicts_its_numerator_and_denominator_is_refused(april, clients):
    """R6: 1 of 2 is 50%, not 60%."""
    kpi1 = april.entries.get(measure__code="KPI 1")
    before = unchanged(april)

    response = clients["editor"].patch(
        f"/api/v1/entries/{kpi1.pk}/",
        {"version": 1, "value": "60", "numerator": "1", "denominator": "2"},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["value"]
    assert unchanged(april) == before


def test_the_draft_flag_is_not_the_providers_to_set(april, clients):
    kpi1 = april.entries.get(measure__code="KPI 1")

    response = clients["editor"].patch(
        f"/api/v1/entries/{kpi1.pk}/",
        {"version": 1, "value": "92", "flags": ["draft"]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"flags": ["Unknown flag(s): draft."]}


def test_while_queried_only_the_queried_measures_change(april, people, clients):
    kpi1 = april.entries.get(measure__code="KPI 1")
    kpi4 = april.entries.get(measure__code="KPI 4")
    workflow.save_entry(kpi1.pk, people["editor"], version=1, figures={"value": Decimal("96")})
    workflow.save_entry(kpi4.pk, people["editor"], version=1, figures={"value": Decimal("402")})
    workflow.submit(april.pk, people["lead"])
    workflow.raise_query(april.pk, people["commissioner"], [(kpi1.pk, "Source?")])

    refused = clients["editor"].patch(
        f"/api/v1/entries/{kpi4.pk}/", {"version": 2, "value": "401"}, format="json"
    )
    allowed = clients["editor"].patch(
        f"/api/v1/entries/{kpi1.pk}/", {"version": 2, "value": "97"}, format="json"
    )

    assert refused.status_code == 409
    assert "KPI 4 is not queried" in refused.json()["detail"]
    assert allowed.status_code == 200


def test_a_query_must_say_what_it_is(april, people, clients):
    kpi1 = april.entries.get(measure__code="KPI 1")
    kpi4 = april.entries.get(measure__code="KPI 4")
    workflow.save_entry(kpi1.pk, people["editor"], version=1, figures={"value": Decimal("96")})
    workflow.save_entry(kpi4.pk, people["editor"], version=1, figures={"value": Decimal("402")})
    workflow.submit(april.pk, people["lead"])
    before = unchanged(april)

    response = clients["commissioner"].post(
        f"/api/v1/returns/{april.pk}/query/",
        {"queries": [{"entry": kpi1.pk, "comment": "  "}]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "KPI 1: say what the query is.", "field": "queries"}
    assert unchanged(april) == before
    assert not Query.objects.exists()


# --- the list and its filters ----------------------------------------------------------


@pytest.fixture
def three_returns(contract, people):
    """April and May of fostering, and April of another contract (submitted) with the
    same commissioner."""
    other = ContractFactory(slug="adoption", commissioner=contract.commissioner)
    april = workflow.open_return(contract, "2018-04")
    may = workflow.open_return(contract, "2018-05")
    other_april = workflow.open_return(other, "2018-04")  # no measures: nothing owed
    workflow.submit(other_april.pk, member(other.provider, Role.PROVIDER_LEAD))
    return april, may, other_april


def listed(client, query: str = "") -> list[int]:
    response = client.get(f"/api/v1/returns/{query}")
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_the_list_is_paginated_and_newest_first_within_each_contract(three_returns, clients):
    april, may, other_april = three_returns

    body = clients["commissioner"].get("/api/v1/returns/").json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert [row["id"] for row in body["results"]] == [other_april.pk, may.pk, april.pk]
    assert body["results"][0] == {
        "id": other_april.pk,
        "url": body["results"][0]["url"],
        "contract": "adoption",
        "period": "2018-04",
        "state": "submitted",
        "due_date": None,
    }
    assert body["results"][0]["url"].endswith(f"/api/v1/returns/{other_april.pk}/")


def test_filters(three_returns, clients):
    april, may, other_april = three_returns
    client = clients["commissioner"]

    assert listed(client, "?contract=fostering") == [may.pk, april.pk]
    assert listed(client, "?period=2018-04") == [other_april.pk, april.pk]
    assert listed(client, "?state=submitted") == [other_april.pk]
    assert listed(client, "?contract=fostering&period=2018-05&state=draft") == [may.pk]
    assert listed(client, "?contract=fostering&state=signed_off") == []


@pytest.mark.parametrize(
    "field, written",
    [
        ("state", "approved"),
        ("period", "2018-13"),
        ("period", "2018/19 Q1"),
        ("contract", "no-such-contract"),
    ],
)
def test_a_bad_filter_is_refused_naming_the_value(three_returns, clients, field, written):
    response = clients["commissioner"].get("/api/v1/returns/", {field: written})

    assert response.status_code == 400
    (message,) = response.json()[field]
    assert written in message


def test_another_organisations_contract_filters_like_one_that_does_not_exist(
    three_returns, clients
):
    hidden = ContractFactory(slug="hidden")

    response = clients["commissioner"].get("/api/v1/returns/?contract=hidden")

    assert response.status_code == 400
    assert response.json() == {"contract": ["'hidden' is not a contract you may see."]}
    assert hidden.pk  # it exists; the answer does not say so


# --- bulk sign-off ---------------------------------------------------------------------


def test_bulk_sign_off_answers_for_each_return_and_hides_other_organisations(
    contract, people, clients
):
    empty = ContractFactory(slug="adoption", commissioner=contract.commissioner)
    lead = member(empty.provider, Role.PROVIDER_LEAD)
    march, april = (workflow.open_return(empty, month) for month in ("2018-03", "2018-04"))
    for monthly_return in (march, april):
        workflow.submit(monthly_return.pk, lead)
    draft = workflow.open_return(empty, "2018-05")
    elsewhere = workflow.open_return(ContractFactory(), "2018-04")

    response = clients["commissioner"].post(
        "/api/v1/returns/sign-off/",
        {"returns": [march.pk, draft.pk, elsewhere.pk, april.pk, march.pk]},
        format="json",
    )

    assert response.status_code == 200
    results = [(r["id"], r["signed_off"]) for r in response.json()["results"]]
    assert results == [
        (march.pk, True),
        (draft.pk, False),
        (elsewhere.pk, False),
        (april.pk, True),
    ]
    messages = {r["id"]: r["message"] for r in response.json()["results"]}
    assert "it can be signed off only when submitted" in messages[draft.pk]
    assert messages[elsewhere.pk] == "No such return."
    assert ReturnEvent.objects.filter(action="sign_off").count() == 2
    assert MonthlyReturn.objects.get(pk=elsewhere.pk).state == ReturnState.DRAFT


def test_bulk_sign_off_needs_a_list_of_ids(clients):
    response = clients["commissioner"].post(
        "/api/v1/returns/sign-off/", {"returns": []}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["returns"]


# --- cost ------------------------------------------------------------------------------


def _detail_queries(size: int) -> int:
    """Queries for a return of ``size`` entries, each with a figure, a narrative, an action
    and an answered query: every relation the document shows."""
    contract = ContractFactory()
    for _ in range(size):
        TargetFactory(measure=MeasureFactory(measure_set=contract.measure_set))
    editor = member(contract.provider, Role.PROVIDER_EDITOR)
    lead = member(contract.provider, Role.PROVIDER_LEAD)
    commissioner = member(contract.commissioner, Role.COMMISSIONER)
    monthly_return = workflow.open_return(contract, "2018-04")
    entries = list(monthly_return.entries.all())
    for entry in entries:
        workflow.save_entry(
            entry.pk,
            editor,
            version=1,
            figures={"value": Decimal("90")},
            narrative={"variance_reason": "Late referrals."},
            actions=[{"description": "Chase", "owner": "Head", "due_date": dt.date(2018, 6, 30)}],
        )
    workflow.submit(monthly_return.pk, lead)
    workflow.raise_query(monthly_return.pk, commissioner, [(e.pk, "Why?") for e in entries])
    answers = [(q.pk, "Because.") for q in Query.objects.filter(entry__in=entries)]
    workflow.answer_queries(monthly_return.pk, editor, answers)
    client = token_client(editor)

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/api/v1/returns/{monthly_return.pk}/")

    assert response.status_code == 200
    assert len(response.json()["entries"]) == size
    assert all(
        e["queries"][0]["answered_by"] == editor.username for e in response.json()["entries"]
    )
    return len(ctx.captured_queries)


def test_a_return_costs_a_fixed_number_of_queries_whatever_its_size():
    assert _detail_queries(3) == _detail_queries(30)


# --- schema ----------------------------------------------------------------------------


def test_schema_documents_the_workflow_with_its_errors():
    paths = APIClient().get("/api/schema/?format=json").json()["paths"]

    assert set(paths) >= {
        "/api/v1/returns/",
        "/api/v1/returns/{id}/",
        "/api/v1/returns/{id}/submit/",
        "/api/v1/returns/{id}/query/",
        "/api/v1/returns/{id}/answer/",
        "/api/v1/returns/{id}/sign-off/",
        "/api/v1/returns/{id}/reopen/",
        "/api/v1/returns/sign-off/",
        "/api/v1/entries/{id}/",
    }
    patch = paths["/api/v1/entries/{id}/"]["patch"]
    assert {"200", "400", "403", "404", "409"} <= set(patch["responses"])
    for step in ("submit", "query", "answer", "sign-off", "reopen"):
        responses = paths[f"/api/v1/returns/{{id}}/{step}/"]["post"]["responses"]
        assert {"200", "400", "403", "404", "409"} <= set(responses), step
    schemas = APIClient().get("/api/schema/?format=json").json()["components"]["schemas"]
    assert "version" in schemas["EntryChange"]["required"]
