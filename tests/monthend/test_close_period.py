"""``manage.py close_period``: the month-end close by hand, all or nothing (R9, R17)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from contracts import monthend, workflow
from contracts.models import MonthlyReturn, NarrativePrompt, Notification, RatingRun
from tests.monthend.conftest import APRIL, enter

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("close_period", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def april(cast):
    contract, people = cast
    monthly_return = workflow.open_return(contract, APRIL)
    enter(monthly_return, people["editor"], {"KPI 1": "92", "KPI 2": "70"})
    return monthly_return


def test_closing_by_hand_rates_prompts_and_notifies(april):
    out = run("c", APRIL)
    assert out.splitlines() == [
        "c: rated the 2018-04 return by hand: 3 measure(s), 2 narrative(s) owed (KPI 1, KPI 2), "
        "1 figure(s) missing (KPI 3), 2 prompt(s) opened, 2 person(s) notified"
    ]
    run_ = RatingRun.objects.get()
    assert (run_.stage, run_.run_by, run_.missing) == ("by_hand", None, ["KPI 3"])
    assert dict(NarrativePrompt.objects.values_list("entry__measure__code", "status")) == {
        "KPI 1": "within_tolerance",
        "KPI 2": "outside_tolerance",
    }
    notification = Notification.objects.get(user__username="editor")
    assert notification.subject == "Contract c: 2 narrative(s) owed on the April 2018 return"
    assert "- KPI 2: not meeting target and outside tolerance" in notification.body
    assert "No figure yet for: KPI 3." in notification.body
    assert notification.url == "/contracts/c/scorecard/?period=2018-04"


def test_a_dry_run_says_what_it_would_do_and_writes_nothing(april):
    out = run("c", APRIL, "--dry-run")
    assert out.startswith(
        "c: would rate the 2018-04 return by hand: 3 measure(s), 2 narrative(s) owed"
    )
    assert out.rstrip().endswith("Dry run: nothing was written.")
    assert not RatingRun.objects.exists()
    assert not NarrativePrompt.objects.exists()
    assert not Notification.objects.exists()


def test_runs_by_hand_repeat_but_open_no_prompt_twice(april):
    run("c", APRIL)
    out = run("c", APRIL)
    assert "2 narrative(s) owed (KPI 1, KPI 2)" in out and "prompt(s) opened" not in out
    assert RatingRun.objects.count() == 2
    assert NarrativePrompt.objects.count() == 2


def test_a_scheduled_stage_runs_once(april):
    run("c", APRIL, "--stage", "month_end")
    out = run("c", APRIL, "--stage", "month_end")
    assert out.strip() == "c: the 2018-04 return was already rated at month end: nothing to do"
    assert RatingRun.objects.count() == 1


def test_a_month_without_a_return_is_opened_first_if_it_has_begun(cast):
    out = run("c", APRIL)
    assert out.splitlines()[0] == "c: opened the 2018-04 return (3 measure(s) due)"
    assert MonthlyReturn.objects.get().period == APRIL
    with pytest.raises(monthend.CloseError, match="has not begun"):
        monthend.close_contract_period(cast[0], "2999-01", today=dt.date(2018, 5, 1))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nope", APRIL), "No contract 'nope'"),
        (("c", "2018/19 Q1"), "covers a month"),
        (("c", "2018-13"), "month"),
    ],
)
def test_bad_arguments_are_refused_in_words(cast, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_a_close_interrupted_part_way_leaves_nothing(april, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the worker died")

    monkeypatch.setattr(monthend, "_notify_owed", broken)
    with pytest.raises(RuntimeError):
        run("c", APRIL)
    assert not RatingRun.objects.exists() and not NarrativePrompt.objects.exists()
    monkeypatch.undo()
    run("c", APRIL)
    assert RatingRun.objects.count() == 1 and NarrativePrompt.objects.count() == 2


def test_closing_reads_a_fixed_number_of_queries_however_many_measures(
    cast, django_assert_max_num_queries
):
    from tests.factories import MeasureFactory, TargetFactory

    contract, people = cast
    monthly_return = workflow.open_return(contract, APRIL)
    enter(monthly_return, people["editor"], {"KPI 1": "92", "KPI 2": "70"})
    with django_assert_max_num_queries(40) as few:
        monthend.close_period(monthly_return, "by_hand")
    for n in range(4, 24):
        measure = MeasureFactory(measure_set=contract.measure_set, code=f"KPI {n}")
        TargetFactory(measure=measure)
    MonthlyReturn.objects.all().delete()
    monthly_return = workflow.open_return(contract, APRIL)
    enter(monthly_return, people["editor"], {f"KPI {n}": "80" for n in range(1, 24)})
    with django_assert_max_num_queries(len(few.captured_queries)):
        monthend.close_period(monthly_return, "by_hand")


def test_a_figure_missing_with_its_reason_given_asks_nobody_for_anything(cast):
    contract, people = cast
    monthly_return = workflow.open_return(contract, APRIL)
    enter(monthly_return, people["editor"], {"KPI 1": "96", "KPI 2": "96"})
    monthly_return.entries.filter(measure__code="KPI 3").update(no_data_reason="Collected from June.")
    out = run("c", APRIL)
    assert "1 figure(s) missing (KPI 3)" in out and "notified" not in out
    assert RatingRun.objects.get().missing == ["KPI 3"]
    assert not Notification.objects.exists()
