"""The return's life through contracts.workflow (R9, R14, R15)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from contracts import workflow
from contracts.models import ReturnEvent, ReturnState, Role
from kpis import periods
from kpis.models import Frequency, Observation
from kpis.scorecard import build_scorecard
from tests.factories import ContractFactory, MeasureFactory, TargetFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast():
    contract = ContractFactory(slug="c")
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
    people = {
        "editor": member(contract.provider, Role.PROVIDER_EDITOR, "editor"),
        "lead": member(contract.provider, Role.PROVIDER_LEAD, "lead"),
        "commissioner": member(contract.commissioner, Role.COMMISSIONER, "commissioner"),
        "reader": member(contract.commissioner, Role.READER, "reader"),
    }
    return contract, people


def entry_for(monthly_return, code):
    return monthly_return.entries.get(measure__code=code)


def test_opening_a_return_lists_the_measures_due_with_the_period_each_covers(cast):
    contract, _ = cast
    monthly_return = workflow.open_return(contract, "2018-04")
    assert {(e.measure.code, e.period) for e in monthly_return.entries.all()} == {
        ("KPI 1", "2018-04"),
        ("KPI 4", "2017/18 Q2"),
    }
    assert workflow.open_return(contract, "2018-04") == monthly_return  # safe to repeat
    assert monthly_return.entries.count() == 2


def test_submission_is_refused_while_a_narrative_is_owed_and_says_exactly_what(cast):
    contract, people = cast
    monthly_return = workflow.open_return(contract, "2018-04")
    kpi1 = entry_for(monthly_return, "KPI 1")
    workflow.save_entry(kpi1.pk, people["editor"], version=1, figures={"value": Decimal("92.1")})
    with pytest.raises(workflow.Owed) as refused:
        workflow.submit(monthly_return.pk, people["lead"])
    assert [(i.code, i.kind) for i in refused.value.items] == [
        ("KPI 1", "narrative"),
        ("KPI 1", "actions"),
        ("KPI 4", "no_data_reason"),
    ]
    monthly_return.refresh_from_db()
    assert monthly_return.state == ReturnState.DRAFT


def test_a_new_action_needs_an_owner_and_a_due_date(cast):
    contract, people = cast
    monthly_return = workflow.open_return(contract, "2018-04")
    kpi1 = entry_for(monthly_return, "KPI 1")
    with pytest.raises(ValidationError) as refused:
        workflow.save_entry(
            kpi1.pk,
            people["editor"],
            version=1,
            figures={},
            actions=[{"description": "Triage contacts"}],
        )
    assert "needs an owner and a due date" in str(refused.value)
    assert not kpi1.actions.exists()


def full_cycle_to_submitted(contract, people):
    monthly_return = workflow.open_return(contract, "2018-04")
    kpi1, kpi4 = entry_for(monthly_return, "KPI 1"), entry_for(monthly_return, "KPI 4")
    workflow.save_entry(
        kpi1.pk,
        people["editor"],
        version=1,
        figures={"value": Decimal("92.1")},
        narrative={"variance_reason": "Data entry errors and late replies from referrers."},
        actions=[
            {
                "description": "Process maps",
                "owner": "Head of MASH",
                "due_date": dt.date(2018, 6, 30),
            }
        ],
    )
    workflow.save_entry(
        kpi4.pk,
        people["editor"],
        version=1,
        figures={"value": Decimal("402"), "as_at": dt.date(2017, 8, 31)},
    )
    return workflow.submit(monthly_return.pk, people["lead"])


def test_the_whole_cycle_records_every_step_and_makes_figures_official(cast):
    contract, people = cast
    monthly_return = full_cycle_to_submitted(contract, people)
    kpi1 = entry_for(monthly_return, "KPI 1")
    workflow.raise_query(
        monthly_return.pk, people["commissioner"], [(kpi1.pk, "Which teams were late?")]
    )
    query = kpi1.queries.get()
    with pytest.raises(workflow.Owed):
        workflow.submit(monthly_return.pk, people["lead"])
    workflow.answer_queries(
        monthly_return.pk, people["editor"], [(query.pk, "Two locality teams.")]
    )
    workflow.submit(monthly_return.pk, people["lead"])
    workflow.sign_off(monthly_return.pk, people["commissioner"])
    monthly_return.refresh_from_db()
    assert monthly_return.state == ReturnState.SIGNED_OFF
    assert Observation.objects.filter(is_official=False).count() == 0
    steps = list(
        monthly_return.events.values_list("action", "from_state", "to_state", "actor__username")
    )
    assert steps == [
        ("open", "", "draft", None),
        ("save", "draft", "draft", "editor"),
        ("save", "draft", "draft", "editor"),
        ("submit", "draft", "submitted", "lead"),
        ("query", "submitted", "queried", "commissioner"),
        ("answer", "queried", "queried", "editor"),
        ("submit", "queried", "submitted", "lead"),
        ("sign_off", "submitted", "signed_off", "commissioner"),
    ]
    rows = build_scorecard(contract.measure_set, periods.month(2018, 4), include_drafts=False)
    assert [r.verdict.status for r in rows] == ["within_tolerance", "on_target"]


def test_after_sign_off_nobody_changes_anything_until_reopened_with_a_reason(cast):
    contract, people = cast
    monthly_return = full_cycle_to_submitted(contract, people)
    workflow.sign_off(monthly_return.pk, people["commissioner"])
    kpi1 = entry_for(monthly_return, "KPI 1")
    with pytest.raises(workflow.StateError):
        workflow.save_entry(
            kpi1.pk, people["editor"], version=kpi1.version, figures={"value": Decimal("96")}
        )
    with pytest.raises(workflow.WorkflowError):
        workflow.reopen(monthly_return.pk, people["commissioner"], "  ")
    workflow.reopen(monthly_return.pk, people["commissioner"], "Late referrals were miscounted.")
    workflow.save_entry(
        kpi1.pk, people["editor"], version=kpi1.version, figures={"value": Decimal("96")}
    )
    event = monthly_return.events.get(action=ReturnEvent.Action.REOPEN)
    assert (event.from_state, event.to_state, event.reason) == (
        "signed_off",
        "draft",
        "Late referrals were miscounted.",
    )
    history = list(
        Observation.objects.get(measure__code="KPI 1").history.values_list("value", flat=True)
    )
    assert Decimal("92.1") in history and Decimal("96") in history


def test_a_second_save_from_a_stale_version_is_refused_and_loses_nothing(cast):
    contract, people = cast
    monthly_return = workflow.open_return(contract, "2018-04")
    kpi1 = entry_for(monthly_return, "KPI 1")
    workflow.save_entry(kpi1.pk, people["editor"], version=1, figures={"value": Decimal("92.1")})
    with pytest.raises(workflow.StaleEntry) as stale:
        workflow.save_entry(kpi1.pk, people["lead"], version=1, figures={"value": Decimal("93")})
    assert stale.value.entry.observation.value == Decimal("92.1")
    assert stale.value.submitted["value"] == Decimal("93")
    assert Observation.objects.get().value == Decimal("92.1")


def test_only_the_roles_allowed_may_act(cast):
    contract, people = cast
    monthly_return = full_cycle_to_submitted(contract, people)
    for who in ("editor", "lead", "reader"):
        with pytest.raises(PermissionDenied):
            workflow.sign_off(monthly_return.pk, people[who])
    with pytest.raises(PermissionDenied):
        workflow.submit(monthly_return.pk, people["editor"])
