"""Contracts, measures and targets written through the API: by the council's admins only,
checked by the models' own rules (R6, R16), and every write in the record's history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from contracts.models import Contract, Organisation, Role
from kpis.models import Measure, MeasureSet, Target
from tests.api.helpers import token_client
from tests.factories import (
    ContractFactory,
    MeasureFactory,
    ObservationFactory,
    OrganisationFactory,
    TargetFactory,
    UserFactory,
    member,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def council(contract):
    return contract.commissioner


@pytest.fixture
def admin(council):
    return member(council, Role.ADMIN, username="council-admin")


@pytest.fixture
def provider():
    return OrganisationFactory(slug="new-trust", kind=Organisation.Kind.PROVIDER)


def new_contract(council: Organisation, provider: Organisation, **changes) -> dict:
    return {
        "slug": "residential",
        "name": "Residential care",
        "commissioner": council.slug,
        "provider": provider.slug,
        "start": "2019-04-01",
        **changes,
    }


# --- contracts -------------------------------------------------------------------------


def test_admin_creates_a_contract_with_its_measure_set_and_history(admin, council, provider):
    response = token_client(admin).post(
        "/api/v1/contracts/", new_contract(council, provider), format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["slug"], body["commissioner"]["slug"], body["provider"]["slug"]) == (
        "residential",
        council.slug,
        "new-trust",
    )
    assert body["url"].endswith("/api/v1/contracts/residential/")
    assert body["targets_url"].endswith("/api/v1/contracts/residential/targets/")
    contract = Contract.objects.get(slug="residential")
    assert contract.measure_set.slug == "residential"
    (record,) = contract.history.all()
    assert (record.history_type, record.history_user, record.history_change_reason) == (
        "+",
        admin,
        "Saved through the API",
    )
    assert contract.measure_set.history.get().history_user == admin


def test_new_contract_takes_another_measure_set_slug_when_its_own_is_taken(
    admin, council, provider
):
    # A measure set of that slug belongs to another contract already.
    ContractFactory(
        slug="other", measure_set=MeasureSet.objects.create(slug="residential", name="x")
    )

    response = token_client(admin).post(
        "/api/v1/contracts/", new_contract(council, provider), format="json"
    )

    assert response.status_code == 201, response.json()
    assert Contract.objects.get(slug="residential").measure_set.slug == "residential-measures"


@pytest.mark.parametrize("role", [Role.COMMISSIONER, Role.READER, Role.OFFICER, Role.PROVIDER_LEAD])
def test_only_admins_create_contracts(council, provider, role):
    someone = member(provider if role == Role.PROVIDER_LEAD else council, role)

    response = token_client(someone).post(
        "/api/v1/contracts/", new_contract(council, provider), format="json"
    )

    assert response.status_code == 403
    assert "admins" in response.json()["detail"]
    assert not Contract.objects.filter(slug="residential").exists()


def test_an_admin_creates_contracts_for_their_own_council_only(admin, provider):
    elsewhere = OrganisationFactory(slug="elsewhere", kind=Organisation.Kind.COUNCIL)

    response = token_client(admin).post(
        "/api/v1/contracts/", new_contract(elsewhere, provider), format="json"
    )

    assert response.status_code == 400
    assert "'elsewhere' is not your council" in response.json()["commissioner"][0]
    assert not Contract.objects.filter(slug="residential").exists()


def test_a_superuser_creates_a_contract_for_any_council(provider):
    elsewhere = OrganisationFactory(slug="elsewhere", kind=Organisation.Kind.COUNCIL)
    root = UserFactory(username="root", is_superuser=True, is_staff=True)

    response = token_client(root).post(
        "/api/v1/contracts/", new_contract(elsewhere, provider), format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["commissioner"]["slug"] == "elsewhere"


def test_a_bad_contract_is_refused_with_every_field_named(admin, council, contract):
    response = token_client(admin).post(
        "/api/v1/contracts/",
        new_contract(council, council, slug="fostering", start="1/4/2019"),
        format="json",
    )

    assert response.status_code == 400
    errors = response.json()
    assert errors["slug"] == ["There is already a contract 'fostering'."]
    assert errors["provider"] == [f"'{council.slug}' is not the slug of any provider."]
    assert errors["start"] == ["'1/4/2019' is not a date: write it YYYY-MM-DD, e.g. 2018-04-30."]


def test_a_contract_cannot_end_before_it_starts(admin, council, provider):
    response = token_client(admin).post(
        "/api/v1/contracts/", new_contract(council, provider, end="2019-03-31"), format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"end": ["The contract cannot end before it starts."]}
    assert not Contract.objects.filter(slug="residential").exists()


def test_admin_changes_a_contract_and_its_history_names_them(admin, contract):
    response = token_client(admin).patch(
        "/api/v1/contracts/fostering/", {"name": "Fostering services"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "Fostering services"
    latest = contract.history.latest()
    assert (latest.name, latest.history_type, latest.history_user) == (
        "Fostering services",
        "~",
        admin,
    )


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_new_slug_or_commissioner_is_refused_naming_each(admin, contract, provider, method):
    council = contract.commissioner.slug
    OrganisationFactory(slug="elsewhere", kind=Organisation.Kind.COUNCIL)

    response = getattr(token_client(admin), method)(
        "/api/v1/contracts/fostering/",
        {
            "slug": "renamed",
            "commissioner": "elsewhere",
            "name": "Fostering services",
            "provider": provider.slug,
            "start": "2017-04-01",
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "slug": [
            "The slug cannot change: this contract's is 'fostering', not 'renamed'. A contract "
            "under another slug is a new contract (POST)."
        ],
        "commissioner": [
            f"The commissioner cannot change: this contract's is '{council}', not 'elsewhere'."
        ],
    }
    contract.refresh_from_db()
    assert (contract.slug, contract.commissioner.slug, contract.name, contract.provider) == (
        "fostering",
        council,
        "Fostering",
        contract.provider,
    )
    assert contract.provider != provider
    assert contract.history.count() == 1


def test_a_bad_field_and_a_new_slug_are_refused_together(admin, contract):
    response = token_client(admin).patch(
        "/api/v1/contracts/fostering/", {"slug": None, "start": "soon"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "start": ["'soon' is not a date: write it YYYY-MM-DD, e.g. 2018-04-30."],
        "slug": [
            "The slug cannot change: this contract's is 'fostering', not 'null'. A contract "
            "under another slug is a new contract (POST)."
        ],
    }


def test_a_change_may_repeat_the_slug_and_commissioner_it_has(admin, contract, provider):
    response = token_client(admin).put(
        "/api/v1/contracts/fostering/",
        {
            "slug": "fostering",
            "commissioner": contract.commissioner.slug,
            "name": "Fostering services",
            "provider": provider.slug,
            "start": "2017-04-01",
        },
        format="json",
    )

    assert response.status_code == 200, response.json()
    contract.refresh_from_db()
    assert (contract.slug, contract.name, contract.provider) == (
        "fostering",
        "Fostering services",
        provider,
    )


def test_the_provider_cannot_change_the_contract(contract):
    lead = member(contract.provider, Role.PROVIDER_LEAD)

    response = token_client(lead).patch(
        "/api/v1/contracts/fostering/", {"name": "Ours now"}, format="json"
    )

    assert response.status_code == 403
    contract.refresh_from_db()
    assert contract.name == "Fostering"


def test_another_councils_admin_does_not_find_the_contract(contract):
    stranger = member(OrganisationFactory(slug="elsewhere"), Role.ADMIN)

    response = token_client(stranger).patch(
        "/api/v1/contracts/fostering/", {"name": "Ours now"}, format="json"
    )

    assert response.status_code == 404


# --- measures --------------------------------------------------------------------------


def test_admin_adds_a_measure_with_defaults_and_history(admin, contract):
    response = token_client(admin).post(
        "/api/v1/contracts/fostering/measures/",
        {"code": "SM 1.1", "title": "Carers recruited", "kind": "supporting", "unit": "count"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["slug"], body["polarity"], body["frequency"], body["decimals"]) == (
        "sm-1-1",
        None,
        "monthly",
        1,
    )
    assert body["url"].endswith("/api/v1/contracts/fostering/measures/sm-1-1/")
    assert (body["targets"], body["comparators"], body["series_breaks"]) == ([], [], [])
    measure = Measure.objects.get(measure_set=contract.measure_set, code="SM 1.1")
    assert measure.history.get().history_user == admin


def test_a_measure_code_already_used_is_refused(admin, contract):
    MeasureFactory(measure_set=contract.measure_set, code="KPI 1")
    client = token_client(admin)

    same = client.post(
        "/api/v1/contracts/fostering/measures/",
        {"code": "KPI 1", "title": "Again", "kind": "kpi", "unit": "percent"},
        format="json",
    )
    same_key = client.post(
        "/api/v1/contracts/fostering/measures/",
        {"code": "kpi-1", "title": "Again", "kind": "kpi", "unit": "percent"},
        format="json",
    )

    assert same.status_code == 400
    assert same.json() == {"code": ["fostering already has the measure KPI 1."]}
    assert same_key.status_code == 400
    assert same_key.json() == {
        "code": ["fostering already has the measure KPI 1, with the same URL key 'kpi-1'."]
    }
    assert contract.measure_set.measures.count() == 1


def test_a_measure_is_checked_by_the_model(admin, contract):
    response = token_client(admin).post(
        "/api/v1/contracts/fostering/measures/",
        {
            "code": "KPI 4",
            "title": "Offending",
            "kind": "kpi",
            "unit": "rate",
            "frequency": "quarterly",
            "year_type": "academic",
            "decimals": 7,
        },
        format="json",
    )

    assert response.status_code == 400
    # Field checks first: decimals beyond what is stored (six places).
    assert response.json() == {"decimals": ["Ensure this value is less than or equal to 6."]}

    response = token_client(admin).post(
        "/api/v1/contracts/fostering/measures/",
        {"code": "KPI 4", "title": "Offending", "kind": "kpi", "unit": "rate"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"per": ["A rate needs its population base, e.g. 10000."]}
    assert not contract.measure_set.measures.exists()


def test_a_measure_with_figures_keeps_its_frequency(admin, contract):
    measure = MeasureFactory(measure_set=contract.measure_set, code="KPI 1")
    ObservationFactory(measure=measure, period="2018-04")

    response = token_client(admin).patch(
        "/api/v1/contracts/fostering/measures/kpi-1/", {"frequency": "annual"}, format="json"
    )

    assert response.status_code == 400
    # The model's refusal (Measure.frozen_changes, R11), as the admin and the import give it.
    assert response.json() == {
        "frequency": [
            "KPI 1: the frequency cannot change from 'monthly' (Monthly) to 'annual' (Annual): "
            "its figures are labelled by its monthly financial periods (R11); its frequency and "
            "year type cannot change. Add a new measure instead."
        ]
    }
    measure.refresh_from_db()
    assert measure.frequency == "monthly"


def test_a_measure_with_figures_keeps_its_year_type_in_the_models_words(admin, contract):
    measure = MeasureFactory(measure_set=contract.measure_set, code="KPI 1")
    ObservationFactory(measure=measure, period="2018-04")

    response = token_client(admin).put(
        "/api/v1/contracts/fostering/measures/kpi-1/",
        {
            "code": "KPI 1",
            "title": measure.title,
            "kind": "kpi",
            "unit": "percent",
            "year_type": "calendar",
        },
        format="json",
    )

    assert response.status_code == 400
    (message,) = response.json()["year_type"]
    assert message.startswith("KPI 1: the year type cannot change from 'financial'")
    measure.refresh_from_db()
    assert measure.year_type == "financial"


def test_a_new_code_moves_the_measure_to_its_new_slug(admin, contract):
    MeasureFactory(measure_set=contract.measure_set, code="KPI 1")

    response = token_client(admin).patch(
        "/api/v1/contracts/fostering/measures/kpi-1/",
        {"code": "KPI 1a", "polarity": None},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["url"].endswith("/measures/kpi-1a/")
    measure = Measure.objects.get(measure_set=contract.measure_set)
    assert (measure.code, measure.slug, measure.polarity) == ("KPI 1a", "kpi-1a", "")


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_measure_slug_is_made_from_its_code_and_never_written(admin, contract, method):
    MeasureFactory(measure_set=contract.measure_set, code="KPI 1", title="Carers")
    client = token_client(admin)
    url = "/api/v1/contracts/fostering/measures/kpi-1/"
    body = {"code": "KPI 1", "title": "Carers", "kind": "kpi", "unit": "percent"}

    refused = getattr(client, method)(url, {**body, "slug": "carers"}, format="json")
    repeated = getattr(client, method)(url, {**body, "slug": "kpi-1"}, format="json")

    assert refused.status_code == 400
    assert refused.json() == {
        "slug": [
            "The slug cannot change by itself: it is made from the code ('KPI 1' makes "
            "'kpi-1'), not 'carers'. Change the code instead."
        ]
    }
    assert repeated.status_code == 200, repeated.json()
    assert Measure.objects.get(measure_set=contract.measure_set).slug == "kpi-1"


def test_a_new_measure_with_a_slug_not_made_from_its_code_is_refused(admin, contract):
    response = token_client(admin).post(
        "/api/v1/contracts/fostering/measures/",
        {"code": "SM 1.1", "slug": "carers", "title": "Carers", "kind": "mi", "unit": "count"},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["slug"]
    assert "('SM 1.1' makes 'sm-1-1'), not 'carers'" in response.json()["slug"][0]
    assert not contract.measure_set.measures.exists()


@pytest.mark.parametrize("role", [Role.COMMISSIONER, Role.READER])
def test_only_admins_add_measures(contract, role):
    someone = member(contract.commissioner, role)

    response = token_client(someone).post(
        "/api/v1/contracts/fostering/measures/",
        {"code": "SM 1.1", "title": "Carers", "kind": "supporting", "unit": "count"},
        format="json",
    )

    assert response.status_code == 403
    assert not contract.measure_set.measures.exists()


# --- targets ---------------------------------------------------------------------------


@pytest.fixture
def kpi1(contract):
    return MeasureFactory(measure_set=contract.measure_set, code="KPI 1", unit="percent")


def test_admin_adds_a_target_with_a_relative_tolerance(admin, kpi1):
    response = token_client(admin).post(
        "/api/v1/contracts/fostering/targets/",
        {
            "measure": "kpi-1",
            "valid_from": "2018-04-01",
            "target": "90",
            "tolerance_relative": 5,
            "tolerance_unit": "points",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["measure"], body["code"], body["target"]) == ("kpi-1", "KPI 1", "90")
    # R4: the relative tolerance is placed on the worse side, the better side open.
    assert (body["tolerance_low"], body["tolerance_high"]) == ("85", None)
    assert body["tolerance_as_written"] == {
        "tolerance_low": None,
        "tolerance_high": None,
        "tolerance_relative": "5",
        "tolerance_unit": "points",
    }
    target = Target.objects.get(pk=body["id"])
    assert body["url"].endswith(f"/api/v1/contracts/fostering/targets/{target.pk}/")
    assert target.history.get().history_user == admin


def test_a_slug_no_record_can_have_is_not_found_without_a_lookup(admin, contract, kpi1):
    # PostgreSQL cannot compare a text with a NUL character in it: such a slug must be
    # refused as not found, not reach the database (schemathesis found the 500).
    client = token_client(admin)
    changed = client.patch("/api/v1/contracts/fostering/", {"provider": "trust\x00"}, format="json")
    assert changed.status_code == 400
    assert changed.json()["provider"] == ["'trust' is not the slug of any provider."]
    added = client.post(
        "/api/v1/contracts/fostering/targets/",
        {"measure": "kpi-1\x00", "valid_from": "2018-04-01", "target": "90"},
        format="json",
    )
    assert added.status_code == 400
    assert list(added.json()) == ["measure"]


def test_a_self_contradicting_target_is_refused_in_the_engines_words(admin, kpi1):
    # R6: higher is better, yet the tolerance floor (97) is above the target (95).
    response = token_client(admin).post(
        "/api/v1/contracts/fostering/targets/",
        {
            "measure": "kpi-1",
            "valid_from": "2018-04-01",
            "target": "95",
            "tolerance_low": "97",
            "tolerance_high": "100",
        },
        format="json",
    )

    assert response.status_code == 400
    (message,) = response.json()["non_field_errors"]
    assert message.startswith("KPI 1")
    assert "97" in message and "95" in message
    assert not Target.objects.exists()


def test_a_percentage_target_over_100_is_refused(admin, kpi1):
    response = token_client(admin).post(
        "/api/v1/contracts/fostering/targets/",
        {"measure": "kpi-1", "valid_from": "2018-04-01", "target": "120"},
        format="json",
    )

    assert response.status_code == 400
    assert "0" in response.json()["non_field_errors"][0]
    assert "100" in response.json()["non_field_errors"][0]
    assert not Target.objects.exists()


def test_a_target_behind_official_figures_changes_only_by_revision(admin, kpi1):
    target = TargetFactory(measure=kpi1, valid_from=dt.date(2017, 4, 1))
    ObservationFactory(measure=kpi1, period="2018-04", is_official=True)

    response = token_client(admin).patch(
        f"/api/v1/contracts/fostering/targets/{target.pk}/", {"target": "90"}, format="json"
    )

    assert response.status_code == 400
    (message,) = response.json()["non_field_errors"]
    assert "official figures (2018-04)" in message
    assert "target revision" in message and "R16" in message
    target.refresh_from_db()
    assert target.target == Decimal("95")
    assert target.history.count() == 1


def test_a_target_changes_directly_while_no_official_figure_is_rated_against_it(admin, kpi1):
    target = TargetFactory(measure=kpi1, valid_from=dt.date(2017, 4, 1))
    ObservationFactory(measure=kpi1, period="2018-04", is_official=False)

    response = token_client(admin).patch(
        f"/api/v1/contracts/fostering/targets/{target.pk}/",
        {"target": "92", "note": "Agreed at the April review."},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["target"], response.json()["note"]) == (
        "92",
        "Agreed at the April review.",
    )
    latest = target.history.latest()
    assert (latest.target, latest.history_user) == (Decimal("92"), admin)


def test_overlapping_and_backwards_targets_are_refused(admin, kpi1):
    TargetFactory(measure=kpi1, valid_from=dt.date(2017, 4, 1))
    client = token_client(admin)

    overlapping = client.post(
        "/api/v1/contracts/fostering/targets/",
        {"measure": "kpi-1", "valid_from": "2018-04-01", "target": "90"},
        format="json",
    )
    backwards = client.post(
        "/api/v1/contracts/fostering/targets/",
        {"measure": "kpi-1", "valid_from": "2016-04-01", "valid_to": "2016-03-31", "target": "90"},
        format="json",
    )

    assert overlapping.status_code == 400
    assert "already has a target in force" in overlapping.json()["valid_from"][0]
    assert backwards.status_code == 400
    assert backwards.json() == {
        "valid_to": ["is before valid_from (2016-04-01): a target cannot end before it starts."]
    }
    assert Target.objects.count() == 1


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_target_change_refuses_another_measure(admin, contract, kpi1, method):
    target = TargetFactory(measure=kpi1, valid_from=dt.date(2017, 4, 1))
    MeasureFactory(measure_set=contract.measure_set, code="KPI 2")

    response = getattr(token_client(admin), method)(
        f"/api/v1/contracts/fostering/targets/{target.pk}/",
        {"measure": "kpi-2", "valid_from": "2017-04-01", "target": "90"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "measure": [
            "The measure cannot change: this target's is 'kpi-1', not 'kpi-2'. Add a target to "
            "that measure instead."
        ]
    }
    target.refresh_from_db()
    assert (target.measure, target.target) == (kpi1, Decimal("95"))
    assert target.history.count() == 1


def test_a_target_change_may_repeat_its_measure(admin, kpi1):
    target = TargetFactory(measure=kpi1, valid_from=dt.date(2017, 4, 1))

    response = token_client(admin).patch(
        f"/api/v1/contracts/fostering/targets/{target.pk}/",
        {"measure": "kpi-1", "target": "90"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    target.refresh_from_db()
    assert target.target == Decimal("90")


def test_a_target_names_a_measure_of_its_contract(admin, kpi1):
    elsewhere = MeasureFactory(code="KPI 9")  # another measure set's

    response = token_client(admin).post(
        "/api/v1/contracts/fostering/targets/",
        {
            "measure": elsewhere.slug,
            "valid_from": "2018-04-01",
            "target": "90",
            "tolerance_low": "1e2",
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["measure"] == ["'kpi-9' is not the slug of a measure of fostering."]
    assert "is not a number" in response.json()["tolerance_low"][0]


@pytest.mark.parametrize("role", [Role.COMMISSIONER, Role.READER, Role.PROVIDER_EDITOR])
def test_only_admins_change_targets(contract, kpi1, role):
    target = TargetFactory(measure=kpi1)
    side = contract.provider if role == Role.PROVIDER_EDITOR else contract.commissioner
    someone = member(side, role)

    response = token_client(someone).patch(
        f"/api/v1/contracts/fostering/targets/{target.pk}/", {"target": "50"}, format="json"
    )

    assert response.status_code == 403
    target.refresh_from_db()
    assert target.target == Decimal("95")


def test_targets_of_a_contract_are_read_by_everyone_party_to_it(contract, kpi1):
    TargetFactory(measure=kpi1)
    reader = member(contract.provider, Role.PROVIDER_EDITOR)

    body = token_client(reader).get("/api/v1/contracts/fostering/targets/").json()

    assert body["count"] == 1
    assert (body["results"][0]["code"], body["results"][0]["target"]) == ("KPI 1", "95")


# --- why: the reason in the history ----------------------------------------------------


def test_each_write_records_the_reason_it_gives(admin, council, provider, contract, kpi1):
    client = token_client(admin)
    target = TargetFactory(measure=kpi1, valid_from=dt.date(2017, 4, 1))

    made = client.post(
        "/api/v1/contracts/",
        new_contract(council, provider, reason="Residential care from April 2019"),
        format="json",
    )
    renamed = client.patch(
        "/api/v1/contracts/fostering/",
        {"name": "Fostering services", "reason": "Renamed by the 2019 variation"},
        format="json",
    )
    measured = client.put(
        "/api/v1/contracts/fostering/measures/kpi-1/",
        {
            "code": "KPI 1",
            "title": "Carers approved",
            "kind": "kpi",
            "unit": "percent",
            "reason": "Title agreed at the review",
        },
        format="json",
    )
    targeted = client.patch(
        f"/api/v1/contracts/fostering/targets/{target.pk}/",
        {"target": "92", "reason": "Target lowered for 2017/18"},
        format="json",
    )

    assert [r.status_code for r in (made, renamed, measured, targeted)] == [201, 200, 200, 200]
    assert "reason" not in made.json() and "reason" not in targeted.json()
    new = Contract.objects.get(slug="residential")
    assert new.history.get().history_change_reason == "Residential care from April 2019"
    assert new.measure_set.history.get().history_change_reason == (
        "Residential care from April 2019"
    )
    assert (contract.history.latest().history_change_reason, contract.history.latest().name) == (
        "Renamed by the 2019 variation",
        "Fostering services",
    )
    assert kpi1.history.latest().history_change_reason == "Title agreed at the review"
    latest = target.history.latest()
    assert (latest.history_change_reason, latest.history_user) == (
        "Target lowered for 2017/18",
        admin,
    )


def test_a_write_without_a_reason_records_the_apis(admin, kpi1):
    response = token_client(admin).post(
        "/api/v1/contracts/fostering/targets/",
        {"measure": "kpi-1", "valid_from": "2018-04-01", "target": "90"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert Target.objects.get().history.get().history_change_reason == "Saved through the API"


def test_a_reason_too_long_or_blank_is_refused_and_nothing_saved(admin, contract):
    client = token_client(admin)
    url = "/api/v1/contracts/fostering/"

    long = client.patch(url, {"name": "Renamed", "reason": "x" * 101}, format="json")
    blank = client.patch(url, {"name": "Renamed", "reason": ""}, format="json")

    assert long.status_code == 400
    assert long.json() == {"reason": ["Ensure this field has no more than 100 characters."]}
    assert blank.status_code == 400
    assert blank.json() == {"reason": ["This field may not be blank."]}
    contract.refresh_from_db()
    assert contract.name == "Fostering"
    assert contract.history.count() == 1


def test_the_schema_documents_the_reason_of_every_write():
    schemas = APIClient().get("/api/schema/?format=json").json()["components"]["schemas"]

    for name in (
        "ContractWrite",
        "ContractChange",
        "PatchedContractChange",
        "MeasureWrite",
        "PatchedMeasureWrite",
        "TargetWrite",
        "TargetChange",
        "PatchedTargetChange",
    ):
        reason = schemas[name]["properties"]["reason"]
        assert reason["maxLength"] == 100, name
        assert "Saved through the API" in reason["description"], name
        assert "reason" not in schemas[name].get("required", []), name
    for name in ("ContractWriteErrors", "MeasureWriteErrors", "TargetWriteErrors"):
        assert "reason" in schemas[name]["properties"], name
    assert "slug" in schemas["MeasureWriteErrors"]["properties"]
