"""The return's page and its actions through the test client: submit, query, answer,
sign off, reopen, and their refusals (R9, R14, R15)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from contracts import workflow
from contracts.models import MonthlyReturn, Query, ReturnEvent, ReturnState
from kpis.models import Observation
from tests.returns_pages.conftest import DUE, error_summary, everything, signed_in

pytestmark = pytest.mark.django_db


def url(monthly_return, action: str = "") -> str:
    return f"/returns/{monthly_return.pk}/{action + '/' if action else ''}"


def entry(monthly_return, code: str):
    return monthly_return.entries.get(measure__code=code)


@pytest.fixture
def draft(cast):
    return workflow.open_return(cast.own, "2018-04")


# --- reading ---------------------------------------------------------------------------


def test_the_return_page_lists_each_measure_with_its_verdict_and_what_it_owes(client, cast, draft):
    workflow.save_entry(
        entry(draft, "KPI 1").pk,
        cast["provider_editor"],
        version=1,
        figures={"value": Decimal("92.1")},
    )
    response = signed_in(client, cast["provider_lead"]).get(url(draft))
    html = response.content.decode()
    assert response.status_code == 200
    assert "April 2018 return" in html
    assert 'govuk-tag govuk-tag--grey">Draft</strong>' in html
    assert html.count('class="govuk-task-list__item') == 2
    assert "KPI 1: Assessments within 45 days" in html
    assert "Value: 92.1%." in html
    assert "Within tolerance" in html and "No data" in html
    assert "3 things still owed before the return can be submitted" in html
    for message in (
        "KPI 1 is not meeting target but within tolerance: give the reason for the variance.",
        "KPI 1: add at least one assurance or improvement action with an owner and a due date.",
        "KPI 2: give the reason there is no figure.",
    ):
        assert message in html
    assert f'href="/returns/{draft.pk}/entries/{entry(draft, "KPI 1").pk}/"' in html
    assert "You can change every measure." in html
    assert "Submit the return" in html  # the lead submits
    assert f'href="/returns/{draft.pk}/history/"' in html


def test_only_the_provider_lead_sees_the_submit_button(client, cast, draft):
    html = signed_in(client, cast["provider_editor"]).get(url(draft)).content.decode()
    assert "Submit the return" not in html
    assert "You can change every measure." in html
    html = signed_in(client, cast["commissioner"]).get(url(draft)).content.decode()
    assert "Submit the return" not in html and "You can change" not in html


def test_readers_do_not_find_a_return_before_it_is_signed_off(client, cast, draft):
    assert signed_in(client, cast["reader"]).get(url(draft)).status_code == 404


def test_signed_out_people_are_sent_to_sign_in(client, draft):
    response = client.get(url(draft))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- submitting ------------------------------------------------------------------------


def test_a_refused_submission_lists_exactly_what_is_owed_and_changes_nothing(client, cast, draft):
    workflow.save_entry(
        entry(draft, "KPI 1").pk,
        cast["provider_editor"],
        version=1,
        figures={"value": Decimal("92.1")},
    )
    before = everything()
    response = signed_in(client, cast["provider_lead"]).post(url(draft, "submit"))
    assert response.status_code == 400
    assert error_summary(response) == [
        "KPI 1 is not meeting target but within tolerance: give the reason for the variance.",
        "KPI 1: add at least one assurance or improvement action with an owner and a due date.",
        "KPI 2: give the reason there is no figure.",
    ]
    html = response.content.decode()
    assert f'href="#entry-{entry(draft, "KPI 1").pk}"' in html  # each links to its measure
    assert "<title>Error: " in html
    assert everything() == before


def test_the_lead_submits_a_return_that_owes_nothing(client, cast, draft):
    cast.clean_figures(draft, cast["provider_editor"])
    response = signed_in(client, cast["provider_lead"]).post(url(draft, "submit"))
    assert response.status_code == 302 and response["Location"] == url(draft)
    draft.refresh_from_db()
    assert draft.state == ReturnState.SUBMITTED
    page = client.get(url(draft)).content.decode()
    assert "The return is submitted." in page
    assert "Submit the return" not in page


def test_an_editor_may_not_submit_and_is_told_so(client, cast, draft):
    cast.clean_figures(draft, cast["provider_editor"])
    before = everything()
    response = signed_in(client, cast["provider_editor"]).post(url(draft, "submit"))
    assert response.status_code == 403
    assert error_summary(response) == ["You may not submit on Children's services."]
    assert everything() == before


def test_signing_off_a_draft_is_refused_for_its_state(client, cast, draft):
    before = everything()
    response = signed_in(client, cast["commissioner"]).post(url(draft, "sign-off"))
    assert response.status_code == 409
    assert error_summary(response) == [
        "The 2018-04 return is draft: it can be signed off only when submitted."
    ]
    assert everything() == before


# --- querying and answering ------------------------------------------------------------


@pytest.fixture
def submitted(cast):
    return cast.return_in(cast.own, ReturnState.SUBMITTED)


def test_the_commissioner_queries_one_measure_with_a_comment(client, cast, submitted):
    kpi1 = entry(submitted, "KPI 1")
    page = signed_in(client, cast["commissioner"]).get(url(submitted)).content.decode()
    assert "Query measures" in page and "Sign off the return" in page
    response = client.post(
        url(submitted, "query"),
        {"entries": [kpi1.pk], f"comment-{kpi1.pk}": "Which teams were late?"},
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == ReturnState.QUERIED
    query = Query.objects.get()
    assert (query.entry_id, query.comment, query.raised_by) == (
        kpi1.pk,
        "Which teams were late?",
        cast["commissioner"],
    )


def test_a_query_without_a_comment_is_refused_keeping_what_was_typed(client, cast, submitted):
    kpi1, kpi2 = entry(submitted, "KPI 1"), entry(submitted, "KPI 2")
    before = everything()
    response = signed_in(client, cast["commissioner"]).post(
        url(submitted, "query"),
        {
            "entries": [kpi1.pk, kpi2.pk],
            f"comment-{kpi1.pk}": "Which teams?",
            f"comment-{kpi2.pk}": " ",
        },
    )
    assert response.status_code == 400
    assert error_summary(response) == ["KPI 2: say what the query is."]
    html = response.content.decode()
    assert f'href="#comment-{kpi2.pk}"' in html
    assert ">Which teams?</textarea>" in html
    assert f'value="{kpi1.pk}" data-aria-controls="conditional-query-{kpi1.pk}" checked' in html
    assert everything() == before


def test_a_query_needs_a_measure(client, cast, submitted):
    response = signed_in(client, cast["commissioner"]).post(url(submitted, "query"), {})
    assert response.status_code == 400
    assert error_summary(response) == ["Choose at least one measure to query."]


@pytest.fixture
def queried(cast):
    return cast.return_in(cast.own, ReturnState.QUERIED)


def test_the_provider_answers_an_open_query_and_the_lead_resubmits(client, cast, queried):
    query = Query.objects.get()
    page = signed_in(client, cast["provider_editor"]).get(url(queried)).content.decode()
    assert "Open queries" in page and "Source?" in page
    assert "You can change 1 measure: those queried." in page
    response = client.post(
        url(queried, "answer"), {"query": query.pk, "answer": "The case system."}
    )
    assert response.status_code == 302
    query.refresh_from_db()
    assert (query.answer, query.answered_by) == ("The case system.", cast["provider_editor"])

    response = signed_in(client, cast["provider_lead"]).post(url(queried, "submit"))
    assert response.status_code == 302
    queried.refresh_from_db()
    query.refresh_from_db()
    assert queried.state == ReturnState.SUBMITTED and query.closed_at is not None


def test_an_unanswered_query_stops_resubmission(client, cast, queried):
    kpi = Query.objects.get().entry.measure.code
    response = signed_in(client, cast["provider_lead"]).post(url(queried, "submit"))
    assert response.status_code == 400
    assert error_summary(response) == [f"{kpi}: answer the commissioner's query."]


def test_an_empty_answer_is_refused(client, cast, queried):
    query = Query.objects.get()
    before = everything()
    response = signed_in(client, cast["provider_editor"]).post(
        url(queried, "answer"), {"query": query.pk, "answer": "  "}
    )
    assert response.status_code == 400
    assert error_summary(response) == [f"{query.entry.measure.code}: the answer is empty."]
    assert f'href="#answer-{query.pk}"' in response.content.decode()
    assert everything() == before


# --- signing off and reopening ---------------------------------------------------------


def test_the_commissioner_signs_off_and_then_nothing_is_editable(client, cast, submitted):
    response = signed_in(client, cast["commissioner"]).post(url(submitted, "sign-off"))
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == ReturnState.SIGNED_OFF
    assert not Observation.objects.filter(is_official=False).exists()

    page = signed_in(client, cast["provider_editor"]).get(url(submitted)).content.decode()
    assert "The return is signed off: nothing can be changed" in page
    assert "You can change" not in page and "(change)" not in page
    kpi1 = entry(submitted, "KPI 1")
    entry_page = client.get(f"{url(submitted)}entries/{kpi1.pk}/").content.decode()
    assert "<form" not in entry_page.split('id="main-content"')[1]
    before = everything()
    response = client.post(
        f"{url(submitted)}entries/{kpi1.pk}/", {"version": kpi1.version, "value": "50"}
    )
    assert response.status_code == 409
    assert error_summary(response) == [
        "The 2018-04 return is signed off: it can be changed only when draft or queried."
    ]
    assert everything() == before


@pytest.fixture
def signed_off(cast):
    return cast.return_in(cast.own, ReturnState.SIGNED_OFF)


def test_reopening_needs_a_reason(client, cast, signed_off):
    page = signed_in(client, cast["commissioner"]).get(url(signed_off)).content.decode()
    assert "Reopen the return" in page
    before = everything()
    response = client.post(url(signed_off, "reopen"), {"reason": " "})
    assert response.status_code == 400
    assert error_summary(response) == ["Give the reason for reopening the return."]
    assert 'href="#reason"' in response.content.decode()
    assert everything() == before

    response = client.post(url(signed_off, "reopen"), {"reason": "Referrals were miscounted."})
    assert response.status_code == 302
    signed_off.refresh_from_db()
    assert signed_off.state == ReturnState.DRAFT
    event = signed_off.events.get(action=ReturnEvent.Action.REOPEN)
    assert (event.reason, event.actor) == ("Referrals were miscounted.", cast["commissioner"])


def test_readers_see_a_signed_off_return_but_no_actions(client, cast, signed_off):
    page = signed_in(client, cast["reader"]).get(url(signed_off)).content.decode()
    for button in (
        "Reopen the return",
        "Sign off the return",
        "Submit the return",
        "Query measures",
    ):
        assert button not in page


# --- the list, bulk sign-off and opening by hand ---------------------------------------


def test_the_list_shows_only_returns_the_person_may_see_and_filters_them(client, cast):
    april = cast.return_in(cast.own, ReturnState.SIGNED_OFF)
    may = workflow.open_return(cast.own, "2018-05")
    theirs = workflow.open_return(cast.another, "2018-04")

    html = signed_in(client, cast["provider_editor"]).get("/returns/").content.decode()
    assert f'data-return="{april.pk}"' in html and f'data-return="{may.pk}"' in html
    assert f'data-return="{theirs.pk}"' not in html
    assert "Sign off selected" not in html and "Open a return by hand" not in html

    html = client.get("/returns/?state=draft").content.decode()
    assert f'data-return="{may.pk}"' in html and f'data-return="{april.pk}"' not in html
    html = client.get("/returns/?contract=own&state=signed_off").content.decode()
    assert f'data-return="{april.pk}"' in html and f'data-return="{may.pk}"' not in html

    html = signed_in(client, cast["reader"]).get("/returns/").content.decode()
    assert f'data-return="{april.pk}"' in html and f'data-return="{may.pk}"' not in html


def test_a_filter_for_another_organisations_contract_is_refused(client, cast):
    response = signed_in(client, cast["commissioner"]).get("/returns/?contract=another&state=late")
    assert response.status_code == 400
    assert error_summary(response) == [
        "Contract: ‘another’ is not a contract you can see.",
        "State: ‘late’ is not a state: choose draft, submitted, queried or signed off.",
    ]


def test_bulk_sign_off_signs_the_clean_returns_and_reports_each(client, cast):
    april = cast.return_in(cast.own, ReturnState.SUBMITTED, "2018-04")
    may = cast.return_in(cast.own, ReturnState.SUBMITTED, "2018-05")
    june = cast.return_in(cast.own, ReturnState.SUBMITTED, "2018-06")
    july = workflow.open_return(cast.own, "2018-07")
    # After June was submitted, KPI 1's target from June contradicts itself (R6): June
    # cannot be signed off until an admin corrects it (R9). April and May keep theirs.
    target = entry(june, "KPI 1").measure.targets.get()
    target.valid_to = dt.date(2018, 5, 31)
    target.save()
    target.measure.targets.create(
        valid_from=dt.date(2018, 6, 1), target=Decimal("95"), tolerance_low=Decimal("99")
    )

    page = signed_in(client, cast["commissioner"]).get("/returns/").content.decode()
    assert "Sign off selected" in page
    assert (
        f'id="return-{april.pk}"' in page and f'id="return-{july.pk}"' not in page
    )  # drafts: no box

    response = client.post("/returns/sign-off/", {"returns": [april.pk, may.pk, june.pk, july.pk]})
    assert response.status_code == 200
    states = dict(MonthlyReturn.objects.values_list("pk", "state"))
    assert states == {
        april.pk: ReturnState.SIGNED_OFF,
        may.pk: ReturnState.SIGNED_OFF,
        june.pk: ReturnState.SUBMITTED,
        july.pk: ReturnState.DRAFT,
    }
    html = response.content.decode()
    results = html[
        html.find("Sign-off results") : html.find("</table>", html.find("Sign-off results"))
    ]
    assert results.count("Signed off</strong>") == 2
    assert results.count("Not signed off</strong>") == 2
    assert "Children&#x27;s services 2018-04 signed off." in results
    june_row = results[results.find(f'data-return="{june.pk}"') :]
    assert "still owed" in june_row[: june_row.find("</tr>")]
    assert "The 2018-07 return is draft: it can be signed off only when submitted." in results


def test_bulk_sign_off_needs_a_selection(client, cast):
    response = signed_in(client, cast["commissioner"]).post("/returns/sign-off/", {})
    assert response.status_code == 400
    assert error_summary(response) == ["Select at least one return to sign off."]


def test_the_commissioner_opens_a_return_by_hand(client, cast):
    response = signed_in(client, cast["commissioner"]).post(
        "/returns/open/", {"contract": "own", "month": "2018-05"}
    )
    monthly_return = MonthlyReturn.objects.get(contract=cast.own, period="2018-05")
    assert response.status_code == 302 and response["Location"] == url(monthly_return)
    assert monthly_return.entries.count() == 2
    assert monthly_return.events.get().actor == cast["commissioner"]
    assert (
        "The May 2018 return for Children&#x27;s services is open."
        in client.get(url(monthly_return)).content.decode()
    )


def test_opening_a_return_needs_a_month(client, cast):
    response = signed_in(client, cast["admin"]).post(
        "/returns/open/", {"contract": "own", "month": "2018-13"}
    )
    assert response.status_code == 400
    assert error_summary(response) == [
        "Month: ‘2018-13’ is not a month: enter it as YYYY-MM, for example 2018-05."
    ]
    assert 'value="2018-13"' in response.content.decode()
    assert not MonthlyReturn.objects.exists()


# --- history ---------------------------------------------------------------------------


def test_the_history_shows_every_step_with_before_and_after(client, cast):
    monthly_return = workflow.open_return(cast.own, "2018-04")
    kpi1 = entry(monthly_return, "KPI 1")
    editor = cast["provider_editor"]
    workflow.save_entry(kpi1.pk, editor, version=1, figures={"value": Decimal("92.1")})
    workflow.save_entry(
        kpi1.pk,
        editor,
        version=2,
        figures={"value": Decimal("93")},
        narrative={"variance_reason": "Late referrals."},
        actions=[{"description": "Triage", "owner": "Head of MASH", "due_date": DUE}],
        reason="Corrected after the audit.",
    )
    workflow.save_entry(
        entry(monthly_return, "KPI 2").pk, editor, version=1, figures={"value": Decimal("8")}
    )
    workflow.submit(monthly_return.pk, cast["provider_lead"])
    workflow.raise_query(monthly_return.pk, cast["commissioner"], [(kpi1.pk, "Which teams?")])
    query = Query.objects.get()
    workflow.answer_queries(monthly_return.pk, editor, [(query.pk, "Two locality teams.")])
    workflow.submit(monthly_return.pk, cast["provider_lead"])
    workflow.sign_off(monthly_return.pk, cast["commissioner"])

    response = signed_in(client, cast["commissioner"]).get(url(monthly_return, "history"))
    assert response.status_code == 200
    html = response.content.decode()
    steps = [
        "Opened",
        "Figures saved KPI 1",
        "Figures saved KPI 1",
        "Figures saved KPI 2",
        "Submitted",
        "Queried",
        "Query answered",
        "Submitted",
        "Signed off",
    ]
    positions = [html.find(f'class="govuk-table__header">{step}</th>') for step in steps]
    # oldest first, each step once in order
    cursor = 0
    for step in steps:
        found = html.find(f'class="govuk-table__header">{step}</th>', cursor)
        assert found > 0, step
        cursor = found + 1
    assert positions[0] < positions[-1]
    assert "Value: blank → 92.1" in html
    assert "Value: 92.1 → 93" in html
    assert "Reason for the variance: blank → Late referrals." in html
    assert "Action added: Triage" in html
    assert "Reason: Corrected after the audit." in html
    assert "Draft to Submitted" in html and "Submitted to Signed off" in html
    assert "Query on KPI 1: Which teams?" in html
    assert "Answer on KPI 1: Two locality teams." in html
    assert "provider_editor" in html and "provider_lead" in html and "commissioner" in html
    queries = html[html.find("Queries and answers") :]
    assert "Which teams?" in queries and "Two locality teams." in queries
