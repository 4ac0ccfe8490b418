"""Revising targets through the pages (R16): an admin drafts and edits, a commissioner approves.

The cast: contract A's council employs adam (admin) and cora (commissioner); pat is a
provider lead on contract A; olga is an admin at another council, with contract B.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import Role, TargetRevision, TargetRevisionLine
from kpis.models import Target
from tests.factories import (
    ContractFactory,
    MeasureFactory,
    ObservationFactory,
    TargetFactory,
    member,
)
from tests.revision_pages.helpers import line_data, page_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract():
    contract = ContractFactory(name="Children's services A", slug="contract-a")
    ms = contract.measure_set
    kpi1 = MeasureFactory(measure_set=ms, code="KPI 1", title="Referrals decided in 24 hours")
    kpi2 = MeasureFactory(measure_set=ms, code="KPI 2", title="Visits on time")
    visits = MeasureFactory(
        measure_set=ms, code="SM 3.2", title="Questionnaires", unit="count", decimals=0
    )
    TargetFactory(measure=kpi1, target=Decimal("95"), tolerance_low=Decimal("85"))
    TargetFactory(measure=kpi2, target=Decimal("90"), tolerance_low=Decimal("80"))
    TargetFactory(measure=visits, target=Decimal("30"), tolerance_low=Decimal("20"), tolerance_high=None)
    ObservationFactory(measure=kpi1, period="2018-04", value=Decimal("92.1"))
    ObservationFactory(measure=visits, period="2018-04", value=Decimal("40"))
    return contract


@pytest.fixture
def other_contract():
    return ContractFactory(name="Contract B", slug="contract-b")


@pytest.fixture
def adam(contract):
    return member(contract.commissioner, Role.ADMIN, "adam")


@pytest.fixture
def cora(contract):
    return member(contract.commissioner, Role.COMMISSIONER, "cora")


@pytest.fixture
def pat(contract):
    return member(contract.provider, Role.PROVIDER_LEAD, "pat")


@pytest.fixture
def olga(other_contract):
    return member(other_contract.commissioner, Role.ADMIN, "olga")


def signed_in(client, user):
    client.force_login(user)
    return client


def draft(client, contract, month="2018-10", rationale="Agreed with the provider."):
    return client.post(
        f"/targets/{contract.slug}/",
        {"title": "2018/19 targets", "effective_from": month, "rationale": rationale},
    )


@pytest.fixture
def revision(client, contract, adam):
    response = draft(signed_in(client, adam), contract)
    assert response.status_code == 302
    client.logout()
    return TargetRevision.objects.get()


def revision_url(revision) -> str:
    return f"/targets/revisions/{revision.pk}/"


def kpi1_line(revision) -> TargetRevisionLine:
    return revision.lines.get(measure__code="KPI 1")


def edit(client, revision, code="KPI 1", **changes):
    page = client.get(revision_url(revision))
    return client.post(revision_url(revision), line_data(page, code, **changes))


# --- the contract's targets -------------------------------------------------------------


def test_the_targets_page_shows_each_measures_targets_in_words(client, contract, cora):
    response = signed_in(client, cora).get("/targets/contract-a/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "95%, tolerance from 85%" in page
    assert "1 April 2017" in page and "Until further notice" in page
    assert "Draft a revision" not in page  # commissioners approve; admins draft


def test_an_admin_drafts_a_revision_starting_from_the_targets_in_force(client, contract, adam):
    response = draft(signed_in(client, adam), contract)
    revision = TargetRevision.objects.get()
    assert response.status_code == 302 and response["Location"] == revision_url(revision)
    assert (revision.effective_from, revision.drafted_by, revision.state) == ("2018-10", adam, "draft")
    assert kpi1_line(revision).target == Decimal("95")
    page = client.get(revision_url(revision)).content.decode()
    assert "takes effect from <strong>October 2018</strong>" in page
    assert "Official verdicts on earlier months do not change" in page
    assert "0 of 3 measures change" in page


def test_a_draft_needs_a_month_keeping_what_was_typed(client, contract, adam):
    response = draft(signed_in(client, adam), contract, month="2018-13", rationale="Keep me")
    assert response.status_code == 400
    page = response.content.decode()
    assert "govuk-error-summary" in page and "there is no month 13" in page
    assert 'href="#id_effective_from"' in page
    assert 'value="2018-13"' in page and "Keep me</textarea>" in page
    assert not TargetRevision.objects.exists()


def test_the_revision_appears_on_the_targets_page(client, contract, revision, cora):
    page = signed_in(client, cora).get("/targets/contract-a/").content.decode()
    assert "2018/19 targets" in page and "October 2018" in page and "Not yet approved" in page
    assert "adam" in page


# --- editing lines ----------------------------------------------------------------------


def test_an_admin_changes_a_line_with_its_rationale(client, revision, adam):
    response = edit(signed_in(client, adam), revision, target="93", rationale="New system")
    assert response.status_code == 302
    line = kpi1_line(revision)
    assert (line.target, line.tolerance_low, line.rationale) == (Decimal("93"), Decimal("85"), "New system")
    page = client.get(revision_url(revision)).content.decode()
    assert "1 of 3 measures changes" in page
    assert "Changed</strong>" in page and "93%, tolerance from 85%" in page
    assert 'value="93"' in page and "New system</textarea>" in page


def test_unchanged_lines_are_not_saved(client, revision, adam):
    before = TargetRevisionLine.history.count()
    page = signed_in(client, adam).get(revision_url(revision))
    response = client.post(revision_url(revision), page_data(page))
    assert response.status_code == 302
    assert TargetRevisionLine.history.count() == before


def test_a_self_contradicting_line_is_refused_in_the_engines_words_keeping_what_was_typed(
    client, revision, adam
):
    page = signed_in(client, adam).get(revision_url(revision))
    data = line_data(page, "KPI 1", target="70", rationale="Lower it")
    # A good change to another line in the same save is not kept either: all or none.
    kpi2 = revision.lines.get(measure__code="KPI 2")
    data[f"line-{kpi2.pk}-target"] = "91"
    response = client.post(revision_url(revision), data)
    assert response.status_code == 400
    text = response.content.decode()
    summary = text.split('class="govuk-error-summary"')[1].split("</ul>")[0]
    assert "KPI 1" in summary and "85" in summary and "70" in summary
    assert 'value="70"' in text and 'value="91"' in text and "Lower it</textarea>" in text
    assert kpi1_line(revision).target == Decimal("95")
    assert revision.lines.get(measure__code="KPI 2").target == Decimal("90")


def test_a_value_that_is_not_a_number_is_refused_keeping_it(client, revision, adam):
    response = edit(signed_in(client, adam), revision, tolerance_low="eighty")
    assert response.status_code == 400
    text = response.content.decode()
    assert "KPI 1 tolerance from: Enter a number" in text
    assert 'value="eighty"' in text and f'href="#id_line-{kpi1_line(revision).pk}-tolerance_low"' in text


def test_a_target_out_of_scale_needs_confirming_before_approval(client, revision, adam, cora):
    signed_in(client, adam)
    assert edit(client, revision, "SM 3.2", target="500", rationale="Counted anew").status_code == 302
    page = client.get(revision_url(revision))
    text = page.content.decode()
    assert "more than 10 times the largest figure so far (40)" in text
    assert "Confirm the out-of-scale target" in text

    signed_in(client, cora)
    refused = client.post(f"/targets/revisions/{revision.pk}/approve/")
    assert refused.status_code == 400 and "more than 10 times" in refused.content.decode()
    assert TargetRevision.objects.get().state == "draft"

    signed_in(client, adam)
    assert edit(client, revision, "SM 3.2", confirm=True).status_code == 302
    assert revision.lines.get(measure__code="SM 3.2").confirmed_out_of_scale

    signed_in(client, cora)
    assert client.post(f"/targets/revisions/{revision.pk}/approve/").status_code == 302
    assert Target.objects.filter(measure__code="SM 3.2", target=Decimal("500")).exists()


# --- approval ---------------------------------------------------------------------------


def test_a_commissioner_approves_and_the_revision_becomes_read_only(client, revision, adam, cora):
    edit(signed_in(client, adam), revision, target="93", rationale="New system")
    response = signed_in(client, cora).post(f"/targets/revisions/{revision.pk}/approve/")
    assert response.status_code == 302
    revision.refresh_from_db()
    assert (revision.state, revision.approved_by) == ("approved", cora)
    kpi1 = Target.objects.filter(measure__code="KPI 1").order_by("valid_from")
    assert [(t.valid_from, t.valid_to, t.target) for t in kpi1] == [
        (dt.date(2017, 4, 1), dt.date(2018, 9, 30), Decimal("95")),
        (dt.date(2018, 10, 1), None, Decimal("93")),
    ]

    page = client.get(revision_url(revision)).content.decode()
    assert "Approved by" in page and "cora" in page
    assert "in force from <strong>October 2018</strong>" in page
    assert "Official verdicts on earlier months did not change" in page
    assert "95%, tolerance from 85%" in page and "93%, tolerance from 85%" in page
    assert "New system" in page and "<input" not in page.split("revision-lines")[1]

    # The admin sees it read-only too, and a save is refused.
    signed_in(client, adam)
    assert "<textarea" not in client.get(revision_url(revision)).content.decode()
    refused = client.post(revision_url(revision), {f"line-{kpi1_line(revision).pk}-target": "50"})
    assert refused.status_code == 409
    assert kpi1_line(revision).target == Decimal("93")

    targets = client.get("/targets/contract-a/").content.decode()
    assert "Changed mid-year" in targets and "30 September 2018" in targets


def test_a_revision_reaching_back_over_official_figures_is_refused(client, contract, adam, cora):
    draft(signed_in(client, adam), contract, month="2018-04")
    revision = TargetRevision.objects.get()
    edit(client, revision, target="90", rationale="Lower")
    response = signed_in(client, cora).post(f"/targets/revisions/{revision.pk}/approve/")
    assert response.status_code == 400
    summary = response.content.decode().split('class="govuk-error-summary"')[1].split("</ul>")[0]
    assert "2018-04" in summary and "R16" in summary
    assert f'href="#line-{kpi1_line(revision).pk}"' in summary
    assert TargetRevision.objects.get().state == "draft"
    assert list(Target.objects.filter(measure__code="KPI 1").values_list("target", "valid_to")) == [
        (Decimal("95"), None)
    ]


def test_a_change_without_rationale_is_refused_when_saved(client, revision, adam):
    response = edit(signed_in(client, adam), revision, target="93")
    assert response.status_code == 400
    assert "KPI 1: give the rationale for the change." in response.content.decode()
    assert kpi1_line(revision).target == Decimal("95")


# --- who may do what --------------------------------------------------------------------


def test_an_admin_cannot_approve(client, revision, adam):
    edit(signed_in(client, adam), revision, target="93", rationale="x")
    page = client.get(revision_url(revision)).content.decode()
    assert "Approve the revision" not in page
    assert client.post(f"/targets/revisions/{revision.pk}/approve/").status_code == 403
    assert TargetRevision.objects.get().state == "draft"
    assert Target.objects.count() == 3


def test_a_commissioner_cannot_draft_or_edit(client, contract, revision, cora):
    signed_in(client, cora)
    assert draft(client, contract).status_code == 403
    assert TargetRevision.objects.count() == 1
    page = client.get(revision_url(revision))
    assert "<textarea" not in page.content.decode() and "Approve the revision" in page.content.decode()
    line = kpi1_line(revision)
    refused = client.post(revision_url(revision), {f"line-{line.pk}-target": "50"})
    assert refused.status_code == 403
    assert kpi1_line(revision).target == Decimal("95")


def test_a_provider_sees_the_targets_but_cannot_draft_edit_or_approve(client, contract, revision, pat):
    signed_in(client, pat)
    assert client.get("/targets/contract-a/").status_code == 200
    assert client.get(revision_url(revision)).status_code == 200
    assert draft(client, contract).status_code == 403
    line = kpi1_line(revision)
    assert client.post(revision_url(revision), {f"line-{line.pk}-target": "50"}).status_code == 403
    assert client.post(f"/targets/revisions/{revision.pk}/approve/").status_code == 403
    assert TargetRevision.objects.get().state == "draft" and kpi1_line(revision).target == Decimal("95")


def test_another_organisation_gets_404_and_nothing_changes(client, contract, revision, olga):
    signed_in(client, olga)
    line = kpi1_line(revision)
    assert client.get("/targets/contract-a/").status_code == 404
    assert draft(client, contract).status_code == 404
    assert client.get(revision_url(revision)).status_code == 404
    assert client.post(revision_url(revision), {f"line-{line.pk}-target": "50"}).status_code == 404
    assert client.post(f"/targets/revisions/{revision.pk}/approve/").status_code == 404
    assert TargetRevision.objects.count() == 1 and kpi1_line(revision).target == Decimal("95")


def test_signed_out_visitors_are_sent_to_sign_in(client, revision):
    response = client.get(revision_url(revision))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- queries ----------------------------------------------------------------------------


def _contract_with(n: int, slug: str):
    contract = ContractFactory(slug=slug)
    for i in range(n):
        measure = MeasureFactory(measure_set=contract.measure_set, code=f"KPI {i}")
        TargetFactory(measure=measure, target=Decimal("95"), tolerance_low=Decimal("85"))
        TargetFactory(
            measure=measure,
            valid_from=dt.date(2016, 4, 1),
            valid_to=dt.date(2017, 3, 31),
            target=Decimal("90"),
            tolerance_low=None,
        )
        ObservationFactory(measure=measure, period="2018-04", value=Decimal("92"))
    admin = member(contract.commissioner, Role.ADMIN)
    commissioner = member(contract.commissioner, Role.COMMISSIONER)
    return contract, admin, commissioner


def _queries(client, user, url) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _counts(client, n: int) -> list[int]:
    contract, admin, commissioner = _contract_with(n, f"queries-{n}")
    client.force_login(admin)
    draft(client, contract)
    revision = TargetRevision.objects.get(contract=contract)
    edit(client, revision, code="KPI 0", target="93", rationale="x")
    counts = [
        _queries(client, admin, f"/targets/{contract.slug}/"),
        _queries(client, admin, revision_url(revision)),
        _queries(client, commissioner, revision_url(revision)),
    ]
    client.post(f"/targets/revisions/{revision.pk}/approve/")
    counts.append(_queries(client, commissioner, revision_url(revision)))
    assert TargetRevision.objects.get(contract=contract).state == "approved"
    return counts


def test_the_pages_make_the_same_queries_for_3_measures_as_for_30(client):
    assert _counts(client, 3) == _counts(client, 30)
