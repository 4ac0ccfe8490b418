"""The daily job: opens, reminds, escalates, rates and prompts on the right days (R9, R17)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from contracts import monthend, workflow
from contracts.models import (
    ChaseEvent,
    Entry,
    MonthlyReturn,
    NarrativePrompt,
    Notification,
    RatingRun,
    ReportingCalendar,
    ReturnEvent,
)
from kpis.models import Observation
from tests.monthend.conftest import APRIL, contract_with_measures, enter, people_for

D = dt.date
pytestmark = pytest.mark.django_db

TABLES = (
    MonthlyReturn,
    Entry,
    ReturnEvent,
    Observation,
    RatingRun,
    NarrativePrompt,
    Notification,
    ChaseEvent,
)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in TABLES}


def days(first: dt.date, last: dt.date):
    while first <= last:
        yield first
        first += dt.timedelta(days=1)


def april(contract) -> MonthlyReturn:
    return MonthlyReturn.objects.get(contract=contract, period=APRIL)


def test_each_step_happens_on_its_day(cast):
    contract, people = cast
    timeline: dict[dt.date, list[str]] = {}
    for day in days(D(2018, 3, 30), D(2018, 5, 20)):
        if day == D(2018, 4, 2):  # figures come in: KPI 1 misses target, KPI 3 has none yet
            enter(april(contract), people["editor"], {"KPI 1": "92", "KPI 2": "96"})
        report = monthend.daily(day)
        assert not report.failures
        april_steps = [s.done for s in report.steps if "2018-04" in s.done]
        if april_steps:
            timeline[day] = april_steps
    assert list(timeline) == [
        D(2018, 4, 1),  # opens (day 1) and gets its due date
        D(2018, 4, 30),  # rated at month end
        D(2018, 5, 10),  # reminded 3 working days before the due date
        D(2018, 5, 15),  # rated at the due date (10 working days; 7 May was a bank holiday)
        D(2018, 5, 16),  # escalated 1 working day after it
    ]
    assert timeline[D(2018, 4, 1)] == [
        "opened the 2018-04 return (3 measure(s) due)",
        "set the 2018-04 return's due date to Tue 15 May 2018",
    ]
    assert timeline[D(2018, 4, 30)] == [
        "rated the 2018-04 return at month end: 3 measure(s), 1 narrative(s) owed (KPI 1), "
        "1 figure(s) missing (KPI 3), 1 prompt(s) opened, 2 person(s) notified"
    ]
    assert timeline[D(2018, 5, 10)] == [
        "reminded 2 provider person(s) that the 2018-04 return is due on 15 May 2018"
    ]
    assert timeline[D(2018, 5, 16)] == [
        "escalated the late 2018-04 return (due 15 May 2018) to 1 commissioner(s)"
    ]

    monthly_return = april(contract)
    assert monthly_return.due_date == D(2018, 5, 15)
    runs = {run.stage: run for run in monthly_return.rating_runs.all()}
    assert set(runs) == {"month_end", "due_date"}
    assert runs["month_end"].missing == ["KPI 3"]
    assert [(v["code"], v["value"], v["status"]) for v in runs["month_end"].verdicts] == [
        ("KPI 1", "92", "within_tolerance"),
        ("KPI 2", "96", "on_target"),
        ("KPI 3", None, "no_data"),
    ]
    assert "within tolerance" in runs["month_end"].verdicts[0]["reason"]
    prompt = NarrativePrompt.objects.get()
    assert (prompt.entry.measure.code, prompt.status, prompt.resolved_at) == (
        "KPI 1",
        "within_tolerance",
        None,
    )
    kinds = set(ChaseEvent.objects.values_list("kind", flat=True))
    assert kinds == {"reminder", "escalation"}
    to = {
        (n.user.username, n.key.split(":")[2])
        for n in Notification.objects.filter(key__startswith=f"return:{monthly_return.pk}:")
    }
    assert to == {
        ("editor", "rating"),
        ("lead", "rating"),
        ("editor", "reminder"),
        ("lead", "reminder"),
        ("commissioner", "escalation"),
    }
    # May's return opened on 1 May; the scheduler is recorded as no one.
    may = MonthlyReturn.objects.get(contract=contract, period="2018-05")
    assert may.events.get().actor is None


def test_a_submitted_return_is_neither_reminded_nor_escalated(cast):
    contract, people = cast
    monthend.daily(D(2018, 4, 1))
    monthly_return = april(contract)
    enter(monthly_return, people["editor"], {"KPI 1": "96", "KPI 2": "96", "KPI 3": "97"})
    workflow.submit(monthly_return.pk, people["lead"])
    for day in (D(2018, 5, 10), D(2018, 5, 16)):
        monthend.daily(day)
    assert not ChaseEvent.objects.exists()
    # It is still rated at the due date, for the audit (R17), but nobody is asked for anything.
    run = monthly_return.rating_runs.get(stage="due_date")
    assert run.missing == []
    assert not Notification.objects.filter(key__contains=":rating:").exists()


def test_running_the_job_twice_creates_nothing_twice(cast):
    contract, people = cast
    for day in (D(2018, 4, 1), D(2018, 4, 30), D(2018, 5, 10), D(2018, 5, 15), D(2018, 5, 16)):
        if day == D(2018, 4, 30):
            enter(april(contract), people["editor"], {"KPI 1": "80"})
        first = monthend.daily(day)
        assert first.steps
        before = counts()
        again = monthend.daily(day)
        assert again.steps == [] and again.failures == []
        assert counts() == before, day
    assert counts()["RatingRun"] == 2  # month end and due date of April (May not yet due)
    assert counts()["ChaseEvent"] == 2


def test_a_contract_that_fails_is_reported_and_the_others_are_still_done(cast, monkeypatch):
    good, _ = cast
    bad = contract_with_measures(slug="bad")
    people_for(bad, prefix="bad-")
    real = workflow.entry_statuses

    def broken(monthly_return):
        if monthly_return.contract.slug == "bad":
            raise RuntimeError("a broken measure definition")
        return real(monthly_return)

    monkeypatch.setattr(workflow, "entry_statuses", broken)
    report = monthend.daily(D(2018, 4, 30))
    assert [(f.contract, f.error) for f in report.failures] == [
        ("bad", "RuntimeError: a broken measure definition")
    ]
    assert april(good).rating_runs.count() == 1
    # The bad contract's day is rolled back whole: not even its return was opened.
    assert not MonthlyReturn.objects.filter(contract=bad).exists()
    assert {s.contract for s in report.steps} == {"c"}


def test_the_command_reports_a_failed_contract_and_exits_non_zero(cast, monkeypatch, capsys):
    bad = contract_with_measures(slug="bad")
    monkeypatch.setattr(
        workflow,
        "open_return",
        lambda contract, period, actor=None: (_ for _ in ()).throw(ValueError("boom")),
    )
    with pytest.raises(CommandError, match="2 contract"):
        call_command("run_daily", "--date", "2018-04-30")
    err = capsys.readouterr().err
    assert "bad: FAILED: ValueError: boom" in err and "c: FAILED" in err
    assert not MonthlyReturn.objects.filter(contract=bad).exists()


def test_a_dry_run_writes_nothing_and_says_what_it_would_do(cast, capsys):
    call_command("run_daily", "--date", "2018-04-30", "--dry-run")
    out = capsys.readouterr().out
    assert counts() == dict.fromkeys(counts(), 0)
    assert "c: would open the 2018-04 return (3 measure(s) due)" in out
    assert "c: would set the 2018-04 return's due date to Tue 15 May 2018" in out
    assert (
        "c: would rate the 2018-04 return at month end: 3 measure(s), no narrative owed, 3 figure(s) missing"
        in out
    )
    assert "(dry run: nothing was written)" in out
    # A real run then does exactly what the dry run said.
    call_command("run_daily", "--date", "2018-04-30")
    real = capsys.readouterr().out
    assert real.replace("c: opened", "c: would open").count("would open the 2018-04 return") == 1
    assert "c: rated the 2018-04 return at month end" in real
    assert RatingRun.objects.count() == 1


def test_a_prompt_is_resolved_once_the_narrative_is_given(cast):
    contract, people = cast
    monthend.daily(D(2018, 4, 1))
    enter(april(contract), people["editor"], {"KPI 1": "90", "KPI 2": "80"})
    monthend.daily(D(2018, 4, 30))
    assert NarrativePrompt.objects.filter(resolved_at__isnull=True).count() == 2
    enter(
        april(contract),
        people["editor"],
        {},
        narratives={"KPI 1": "Two social workers left in March."},
    )
    report = monthend.daily(D(2018, 5, 2))
    assert [s.done for s in report.steps if "2018-04" in s.done] == [
        "resolved 1 narrative prompt(s) on the 2018-04 return"
    ]
    resolved = NarrativePrompt.objects.get(entry__measure__code="KPI 1")
    assert resolved.resolved_at is not None
    assert NarrativePrompt.objects.get(entry__measure__code="KPI 2").resolved_at is None
    # Nothing more to resolve: the next day is quiet.
    assert not [s for s in monthend.daily(D(2018, 5, 3)).steps if "2018-04" in s.done]


def test_a_contract_that_has_not_started_or_has_ended_gets_no_return(cast):
    contract, _ = cast
    ReportingCalendar.objects.create(contract=contract, opens_on_day=5)
    monthend.daily(D(2018, 3, 31))
    monthend.daily(D(2018, 4, 4))
    assert not MonthlyReturn.objects.exists()
    monthend.daily(D(2018, 4, 5))
    assert MonthlyReturn.objects.get().period == APRIL
    contract.end = D(2018, 4, 30)
    contract.save()
    monthend.daily(D(2018, 5, 5))
    assert list(MonthlyReturn.objects.values_list("period", flat=True)) == [APRIL]


def test_only_provider_staff_and_commissioners_are_told(cast):
    contract, people = cast
    monthend.daily(D(2018, 4, 1))
    monthend.daily(D(2018, 4, 30))
    told = set(
        get_user_model()
        .objects.filter(notifications__isnull=False)
        .values_list("username", flat=True)
    )
    assert told == {"editor", "lead"}
