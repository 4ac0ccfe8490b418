"""The reading pages through the test client: home and a contract's scorecard (R13).

The cast: alice commissions contract A (council), pat works for A's provider, rita is a
reader at the council, and oscar works for another provider with contract B.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import Role
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
def contract_a():
    contract = ContractFactory(name="Children's services A", slug="contract-a")
    ms = contract.measure_set
    on_target = MeasureFactory(measure_set=ms, code="KPI 1", title="Assessments on time")
    within = MeasureFactory(measure_set=ms, code="KPI 2", title="Visits on time")
    outside = MeasureFactory(measure_set=ms, code="KPI 3", title="Plans reviewed")
    untargeted = MeasureFactory(
        measure_set=ms, code="MI 1", title="Referrals", kind="mi", unit="count", decimals=0, polarity=""
    )
    for m in (on_target, within, outside):
        TargetFactory(measure=m, target=Decimal("95"), tolerance_low=Decimal("85"))
    ObservationFactory(measure=on_target, period="2018-04", value=Decimal("96.2"))
    ObservationFactory(measure=within, period="2018-04", value=Decimal("90"))
    ObservationFactory(measure=outside, period="2018-04", value=Decimal("80"))
    ObservationFactory(measure=untargeted, period="2018-04", value=Decimal("412"))
    return contract


@pytest.fixture
def contract_b():
    return ContractFactory(name="Other provider's contract", slug="contract-b")


@pytest.fixture
def alice(contract_a):
    return member(contract_a.commissioner, Role.COMMISSIONER, "alice")


@pytest.fixture
def rita(contract_a):
    return member(contract_a.commissioner, Role.READER, "rita")


@pytest.fixture
def oscar(contract_b):
    return member(contract_b.provider, Role.PROVIDER_LEAD, "oscar")


def scorecard_url(contract, period: str | None = None) -> str:
    url = f"/contracts/{contract.slug}/scorecard/"
    return f"{url}?period={period}" if period else url


# --- signing in -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/contracts/contract-a/scorecard/"])
def test_pages_redirect_to_sign_in_when_signed_out(client, contract_a, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_sign_in_page_has_labelled_inputs_with_autocomplete(client):
    html = client.get("/accounts/login/").content.decode()
    assert '<label class="govuk-label" for="id_username">Username</label>' in html
    assert 'autocomplete="username"' in html
    assert 'autocomplete="current-password"' in html
    assert '<html lang="en-GB"' in html


def test_failed_sign_in_shows_an_error_summary(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html
    assert "<title>Error: Sign in" in html
    assert 'href="#id_username"' in html


def test_signing_in_lands_on_home(client, alice):
    response = client.post("/accounts/login/", {"username": "alice", "password": "pw"})
    assert response.status_code == 302
    assert response["Location"] == "/"


# --- home -------------------------------------------------------------------------------


def test_home_lists_only_the_users_own_contracts(client, alice, contract_b):
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert "Children&#x27;s services A" in html
    assert 'href="/contracts/contract-a/scorecard/"' in html
    assert "April 2018" in html  # the latest figures
    assert "Other provider" not in html
    assert "contract-b" not in html


def test_home_names_commissioner_and_provider(client, alice, contract_a):
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert contract_a.commissioner.name in html
    assert contract_a.provider.name in html


def test_home_says_so_when_the_user_has_no_contracts(client, contract_a):
    nobody = UserFactory(username="nobody")
    nobody.save()
    client.force_login(nobody)
    html = client.get("/").content.decode()
    assert "You do not have access to any contracts yet." in html
    assert "<table" not in html


def test_home_offers_admin_only_to_staff(client, alice):
    client.force_login(alice)
    assert 'href="/admin/"' not in client.get("/").content.decode()
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    assert 'href="/admin/"' in client.get("/").content.decode()


def test_sign_out_is_a_post_form(client, alice):
    client.force_login(alice)
    html = client.get("/").content.decode()
    assert '<form class="app-service-navigation__form" method="post" action="/accounts/logout/">' in html
    assert "csrfmiddlewaretoken" in html


# --- scorecard --------------------------------------------------------------------------


def test_scorecard_shows_each_measures_verdict_words_and_reason(client, alice, contract_a):
    client.force_login(alice)
    response = client.get(scorecard_url(contract_a))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Scorecard for Children&#x27;s services A, April 2018</caption>" in html
    assert '<th scope="col" class="govuk-table__header">Verdict</th>' in html
    assert '<strong class="govuk-tag govuk-tag--green">On target</strong>' in html
    assert '<strong class="govuk-tag govuk-tag--yellow">Within tolerance</strong>' in html
    assert '<strong class="govuk-tag govuk-tag--red">Outside tolerance</strong>' in html
    assert '<strong class="govuk-tag govuk-tag--grey">Not rated</strong>' in html
    # The engine's reasons (R10's words with the numbers).
    assert "96.2% is meeting target (target 95%, tolerance from 85%)." in html
    assert "90.0% is not meeting target but within tolerance (target 95%, tolerance from 85%)." in html
    assert "80.0% is not meeting target and outside tolerance (target 95%, tolerance from 85%)." in html
    assert "Not rated: no target is set." in html
    # Target and tolerance in words, from the verdict's bounds.
    assert "95%, tolerance from 85%" in html
    assert ">412<" in html


def test_scorecard_counts_measures_by_verdict(client, alice, contract_a):
    client.force_login(alice)
    response = client.get(scorecard_url(contract_a))
    counts = {c.words: c.count for c in response.context["counts"]}
    assert counts == {"On target": 1, "Within tolerance": 1, "Outside tolerance": 1, "Not rated": 1}
    assert "4 measures for April 2018." in response.content.decode()


def test_scorecard_defaults_to_the_latest_month_and_takes_a_period(client, alice, contract_a):
    client.force_login(alice)
    assert client.get(scorecard_url(contract_a)).context["month"].label == "2018-04"
    response = client.get(scorecard_url(contract_a, "2018-06"))
    assert response.context["month"].label == "2018-06"
    html = response.content.decode()
    assert "June 2018" in html
    # April's figures now lag (R13) and say when they were as at.
    assert "Data lag" in html
    assert "as at 30 April 2018" in html


def test_scorecard_shows_direction_of_travel_in_words(client, alice, contract_a):
    measure = contract_a.measure_set.measures.get(code="KPI 2")
    ObservationFactory(measure=measure, period="2018-03", value=Decimal("92"))
    ObservationFactory(measure=measure, period="2017-04", value=Decimal("88"))
    client.force_login(alice)
    response = client.get(scorecard_url(contract_a))
    line = next(li for li in response.context["lines"] if li.row.measure.code == "KPI 2")
    assert (line.direction_previous, line.direction_year) == ("Worsening", "Improving")
    html = response.content.decode()
    assert "Since the previous figure</th>" in html
    assert "Since a year earlier</th>" in html
    assert '<td class="govuk-table__cell app-scorecard__reason">Worsening</td>' in html
    assert '<td class="govuk-table__cell app-scorecard__reason">Improving</td>' in html


def test_another_organisations_contract_is_not_found(client, oscar, contract_a):
    client.force_login(oscar)
    assert client.get(scorecard_url(contract_a)).status_code == 404


def test_an_unknown_contract_is_not_found(client, alice):
    client.force_login(alice)
    assert client.get("/contracts/no-such-contract/scorecard/").status_code == 404


@pytest.mark.parametrize("bad", ["2018-13", "April", "2018/19 Q1"])
def test_a_bad_period_is_a_400_naming_the_value(client, alice, contract_a, bad):
    client.force_login(alice)
    response = client.get(scorecard_url(contract_a), {"period": bad})
    html = response.content.decode()
    assert response.status_code == 400
    assert f"‘{bad}’" in html
    assert "There is a problem" in html
    assert "YYYY-MM" in html
    assert "<title>Error:" in html


def test_a_reader_does_not_see_a_draft_figure(client, rita, alice, contract_a):
    measure = contract_a.measure_set.measures.get(code="KPI 1")
    ObservationFactory(measure=measure, period="2018-05", value=Decimal("70"), is_official=False)

    client.force_login(rita)
    response = client.get(scorecard_url(contract_a, "2018-05"))
    html = response.content.decode()
    line = next(li for li in response.context["lines"] if li.row.measure.code == "KPI 1")
    assert line.row.period == "2018-04"  # the official April figure, lagging
    assert "70.0%" not in html
    assert "Draft" not in html
    assert "not yet signed off" not in html
    # The reader's default month is the latest official figure's.
    assert client.get(scorecard_url(contract_a)).context["month"].label == "2018-04"

    client.force_login(alice)
    response = client.get(scorecard_url(contract_a, "2018-05"))
    html = response.content.decode()
    assert "70.0%" in html
    assert "<li>Draft</li>" in html
    assert "Figures marked draft are not yet signed off." in html
    assert client.get(scorecard_url(contract_a)).context["month"].label == "2018-05"


def test_a_contract_with_no_figures_yet_says_so(client):
    contract = ContractFactory()
    MeasureFactory(measure_set=contract.measure_set)
    user = member(contract.commissioner, Role.COMMISSIONER)
    client.force_login(user)
    html = client.get(scorecard_url(contract)).content.decode()
    assert "No figures have been reported for this contract yet." in html
    assert "No data" in html


def build_contract(n_measures: int):
    contract = ContractFactory()
    for i in range(n_measures):
        measure = MeasureFactory(measure_set=contract.measure_set, code=f"Q {i}")
        TargetFactory(measure=measure)
        ObservationFactory(measure=measure, period="2018-03", value=Decimal("91"))
        ObservationFactory(measure=measure, period="2018-04", value=Decimal("93"), is_official=False)
    return contract, member(contract.commissioner, Role.COMMISSIONER)


def count_queries(client, user, url: str) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_scorecard_page_runs_a_fixed_number_of_queries(client):
    small, small_user = build_contract(2)
    large, large_user = build_contract(20)
    assert count_queries(client, small_user, scorecard_url(small)) == count_queries(
        client, large_user, scorecard_url(large)
    )


def test_the_home_page_runs_a_fixed_number_of_queries(client):
    council = OrganisationFactory()
    user = member(council, Role.COMMISSIONER)
    ContractFactory(commissioner=council)
    one = count_queries(client, user, "/")
    for _ in range(5):
        contract = ContractFactory(commissioner=council)
        ObservationFactory(measure=MeasureFactory(measure_set=contract.measure_set))
    assert count_queries(client, user, "/") == one


def test_the_sign_in_page_names_the_service(client, settings):
    settings.SITE_NAME = "Contract Monitor"
    html = client.get("/accounts/login/").content.decode()
    assert "<title>Sign in – Contract Monitor</title>" in html
    assert "Sign in to Contract Monitor" in html
