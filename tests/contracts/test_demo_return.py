"""The demo's April 2018 return: signed off as it went to the committee (report sections 3
and 4), agreeing with the workflow on what is due and what a verdict owes (R9, R14)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from contracts import workflow
from contracts.models import Action, Contract, MonthlyReturn, ReturnEvent, ReturnState
from kpis import periods
from kpis.models import Observation

pytestmark = pytest.mark.django_db

# Report section 4: bullets per measure (4.1 KPI 1 ... 4.7 SM 8.1). 4.7's fourth bullet is
# a comparability note, not an action (see contracts.demo.ACTIONS).
SECTION_4_ACTIONS = {
    "KPI 1": 4,
    "SM 1.1": 7,
    "KPI 2": 5,
    "MI 5.19": 5,
    "KPI 7": 2,
    "SM 7.1": 2,
    "SM 8.1": 3,
}
OWING_A_NARRATIVE = {"KPI 1", "SM 1.1", "KPI 2", "KPI 7", "SM 7.1", "KPI 8", "SM 8.1", "KPI 9"}


def load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def april():
    load()
    return MonthlyReturn.objects.get(contract__slug="sunderland-tfc", period="2018-04")


def test_the_april_return_is_signed_off(april):
    assert april.state == ReturnState.SIGNED_OFF
    assert (str(april.period_start), str(april.period_end)) == ("2018-04-01", "2018-04-30")


def test_it_has_an_entry_for_every_measure_due_and_no_other(april):
    contract = Contract.objects.get(slug="sunderland-tfc")
    due = {(m.code, p.label) for m, p in workflow.due_measures(contract, periods.month(2018, 4))}
    assert {(e.measure.code, e.period) for e in april.entries.all()} == due
    assert ("KPI 4", "2017/18 Q2") in due
    assert len(due) == 15
    # SM 4.1 is quarterly with no lag: nothing is due in April, so it has no entry.
    assert not april.entries.filter(measure__code="SM 4.1").exists()


def test_entries_are_linked_to_their_official_figures(april):
    for entry in april.entries.select_related("measure", "observation"):
        obs = entry.observation
        assert obs is not None, entry.measure.code
        assert (obs.measure_id, obs.period) == (entry.measure_id, entry.period)
        assert obs.is_official


def test_every_entry_whose_verdict_owes_a_narrative_has_one(april):
    statuses = workflow.entry_statuses(april)
    owing = {s.entry.measure.code for s in statuses if s.verdict.owes_narrative}
    assert owing == OWING_A_NARRATIVE
    for status in statuses:
        if status.verdict.owes_narrative:
            assert status.entry.variance_reason.strip(), status.entry.measure.code
        else:
            assert status.entry.variance_reason == "", status.entry.measure.code
        assert status.entry.no_data_reason == ""
    kpi1 = april.entries.get(measure__code="KPI 1")
    assert "29 referrals" in kpi1.variance_reason and "(report 3.7)" in kpi1.variance_reason


def test_the_section_4_actions_are_there_recorded_without_owner(april):
    actions = Action.objects.filter(entry__monthly_return=april).select_related("entry__measure")
    per_code: dict[str, int] = {}
    for action in actions:
        per_code[action.entry.measure.code] = per_code.get(action.entry.measure.code, 0) + 1
        assert action.recorded_without_owner
        assert (action.owner, action.due_date) == ("", None)
    assert per_code == SECTION_4_ACTIONS
    first = actions.filter(entry__measure__code="KPI 1").order_by("pk").first()
    assert first.description.startswith("All contacts relating to referrals were triaged")


def test_kpi_8_and_kpi_9_have_no_actions_and_the_return_says_why(april):
    # The report gives none: today's submission check would refuse the return for them
    # (R9), and nothing else is owed.
    owed = {(i.code, i.kind) for i in workflow.what_is_owed(april)}
    assert owed == {("KPI 8", "actions"), ("KPI 9", "actions")}
    for code in ("KPI 8", "KPI 9"):
        assert (
            "no assurance or improvement actions"
            in april.entries.get(measure__code=code).variance_reason
        )
    sign_off = april.events.get(action=ReturnEvent.Action.SIGN_OFF)
    assert "KPI 8 or KPI 9" in sign_off.reason and "R9" in sign_off.reason


def test_the_events_are_open_submit_sign_off(april):
    events = list(april.events.order_by("at", "pk").select_related("actor"))
    assert [(e.action, e.from_state, e.to_state) for e in events] == [
        ("open", "", "draft"),
        ("submit", "draft", "submitted"),
        ("sign_off", "submitted", "signed_off"),
    ]
    assert [e.actor.username if e.actor else None for e in events] == [
        None,
        "provider_lead",
        "commissioner",
    ]
    assert all(e.at.tzinfo is not None for e in events)
    assert [e.at.date().isoformat() for e in events] == ["2018-05-01", "2018-05-10", "2018-05-17"]
    assert events[-1].reason.startswith("Loaded from the April 2018 scrutiny-committee report")


def test_a_reopened_return_is_kept_as_it_is_and_reported(april):
    # Once the workflow has moved the return on, the demo never puts it back (R15), and
    # its figures stay draft.
    commissioner = get_user_model().objects.get(username="commissioner")
    workflow.reopen(april.pk, commissioner, "A figure needs correcting")
    kpi1 = Observation.objects.get(entry__monthly_return=april, measure__code="KPI 1")
    assert not kpi1.is_official
    events = april.events.count()
    output = load()
    april.refresh_from_db()
    kpi1.refresh_from_db()
    assert april.state == ReturnState.DRAFT
    assert april.events.count() == events
    assert not kpi1.is_official
    assert "return for 2018-04: its events" in output and "R15" in output
