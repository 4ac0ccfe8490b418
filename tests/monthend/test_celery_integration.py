"""With a real Redis and a real ``celery worker`` process (issue 4's acceptance).

Each test starts its own ``redis-server`` on a free port (never the machine's shared
one) and a worker on the test's own PostgreSQL database: the worker must see what the
test commits, which SQLite's in-memory test database cannot offer, so these run only
when DATABASE_URL points at PostgreSQL.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from kombu import pools

from config.celery import app as celery_app
from contracts import tasks, workflow
from contracts.models import MonthlyReturn, NarrativePrompt, Notification, RatingRun, ReturnState
from tests.monthend.conftest import APRIL, contract_with_measures, enter, people_for
from tests.monthend.stack import WORKER_TEST_MARKS, Stack, database_url, running_stack, wait_for

pytestmark = [pytest.mark.integration, *WORKER_TEST_MARKS]


@pytest.fixture
def stack(transactional_db, tmp_path):
    with running_stack(tmp_path, database_url(connection.settings_dict)) as stack:
        yield stack


def reset_publishing() -> None:
    """Drop pooled broker connections (after the broker restarted or moved)."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    pools.reset()


@contextmanager
def publishing_to(stack: Stack):
    """The project's own Celery app, publishing to this stack's Redis instead of running eagerly."""
    names = ("broker_url", "broker_write_url", "task_always_eager")
    saved = {name: celery_app.conf[name] for name in names}
    reset_publishing()
    celery_app.conf.update(
        broker_url=stack.broker_url, broker_write_url=stack.broker_url, task_always_eager=False
    )
    try:
        yield celery_app
    finally:
        reset_publishing()
        celery_app.conf.update(saved)


def a_month_to_close(slug="c", measures=6, prefix=""):
    codes = [f"KPI {n}" for n in range(1, measures + 1)]
    contract = contract_with_measures(slug=slug, codes=codes)
    people = people_for(contract, prefix=prefix)
    monthly_return = workflow.open_return(contract, APRIL)
    # Half miss target (narratives owed, R9), one has no figure yet.
    figures = {code: ("80" if n % 2 else "96") for n, code in enumerate(codes[:-1], start=1)}
    enter(monthly_return, people["editor"], figures)
    owed = [code for code, value in figures.items() if value == "80"]
    return contract, people, monthly_return, owed


def test_a_scheduled_close_runs_on_the_worker_and_its_effects_are_in_the_database(stack):
    contract, people, monthly_return, owed = a_month_to_close()
    stack.start_worker()
    with publishing_to(stack):
        result = tasks.close_period_task.delay(contract.pk, APRIL, "month_end")
    line = stack.wait_for_task(result.id)
    assert "succeeded" in line, stack.log()
    run = RatingRun.objects.get(monthly_return=monthly_return)
    assert run.stage == "month_end" and run.missing == ["KPI 6"]
    assert len(run.verdicts) == 6
    prompts = NarrativePrompt.objects.filter(entry__monthly_return=monthly_return)
    assert sorted(p.entry.measure.code for p in prompts) == sorted(owed)
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"editor", "lead"}


def test_the_daily_job_fans_out_to_every_contract_on_the_worker(stack):
    a_month_to_close("c")
    a_month_to_close("d", prefix="d-")
    stack.start_worker()
    with publishing_to(stack):
        result = tasks.daily_job.delay("2018-04-30")
        stack.wait_for_task(result.id)
    wait_for(lambda: RatingRun.objects.count() == 2, 30, "both contracts rated")
    assert set(RatingRun.objects.values_list("monthly_return__contract__slug", "stage")) == {
        ("c", "month_end"),
        ("d", "month_end"),
    }
    # The daily job nudged delivery once: the four provider people get their email.
    wait_for(lambda: len(stack.emails()) == 4, 30, "four emails")


def test_a_submission_while_redis_is_down_is_saved_and_emailed_once_when_it_is_back(stack):
    contract = contract_with_measures()
    people = people_for(contract)
    monthly_return = workflow.open_return(contract, APRIL)
    enter(monthly_return, people["editor"], {"KPI 1": "96", "KPI 2": "97", "KPI 3": "99"})
    stack.start_worker()
    stack.stop_redis()

    with publishing_to(stack):
        started = time.monotonic()
        workflow.submit(monthly_return.pk, people["lead"])  # its on_commit nudge meets no broker
        elapsed = time.monotonic() - started
    assert elapsed < 5, f"the submission took {elapsed:.1f} s with the broker down"
    monthly_return.refresh_from_db()
    assert monthly_return.state == ReturnState.SUBMITTED
    notification = Notification.objects.get()
    assert notification.user == people["commissioner"] and notification.emailed_at is None
    assert stack.emails() == []

    stack.start_redis()
    with publishing_to(stack) as app:
        # What beat sends every minute.
        first = app.send_task(settings.CELERY_BEAT_SCHEDULE["deliver-notifications"]["task"])
        stack.wait_for_task(first.id, timeout=60)  # the worker reconnects first
        notification.refresh_from_db()
        assert notification.emailed_at is not None
        [email] = stack.emails()
        assert "Subject: Contract c: the April 2018 return was submitted" in email
        assert "To: commissioner@example.org" in email

        again = tasks.deliver_notifications.delay()
        assert stack.wait_for_task(again.id).endswith(": 0")
    assert len(stack.emails()) == 1


def waiting_insert(table: str) -> int | None:
    """The backend, if any, blocked on a lock while inserting into ``table``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query LIKE %s",
            [f'INSERT INTO "{table}"%'],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def holds_lock(pid: int, table: str, mode: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE l.pid = %s AND c.relname = %s AND l.mode = %s AND l.granted",
            [pid, table, mode],
        )
        return cursor.fetchone() is not None


def backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is None


def test_a_worker_killed_in_the_middle_of_a_close_leaves_none_of_it_and_the_rerun_completes_it(
    stack,
):
    contract, people, monthly_return, owed = a_month_to_close(measures=20)
    visibility = 3  # seconds before Redis hands an unacknowledged message to another worker
    stack.start_worker(CELERY_VISIBILITY_TIMEOUT=str(visibility))

    # Hold the prompts table so that the close stops after writing its rating run and
    # before writing its prompts: the middle of the close, found without a test hook.
    blocker = psycopg.connect(
        database_url(connection.settings_dict).replace("postgres://", "postgresql://")
    )
    try:
        blocker.execute("LOCK TABLE contracts_narrativeprompt IN SHARE MODE")
        with publishing_to(stack):
            result = tasks.close_period_task.delay(contract.pk, APRIL, "due_date")
        sent_at = time.monotonic()
        backend = wait_for(
            lambda: waiting_insert("contracts_narrativeprompt"),
            30,
            "the close to reach its prompts",
        )
        assert holds_lock(backend, "contracts_ratingrun", "RowExclusiveLock")  # the run is written
        stack.kill_worker()
    finally:
        blocker.rollback()
        blocker.close()

    # The dead worker's transaction never commits: PostgreSQL rolls it back.
    wait_for(lambda: backend_gone(backend), 15, "the killed worker's database session to end")
    assert not RatingRun.objects.exists()
    assert not NarrativePrompt.objects.exists()
    assert not Notification.objects.exists()

    # The message was never acknowledged (acks_late): a new worker gets it again once
    # Redis's visibility timeout has passed since the first delivery.
    time.sleep(max(0.0, visibility + 0.5 - (time.monotonic() - sent_at)))
    stack.start_worker(CELERY_VISIBILITY_TIMEOUT=str(visibility))
    stack.wait_for_task(result.id, timeout=30)
    run = RatingRun.objects.get()
    assert (run.monthly_return_id, run.stage, len(run.verdicts)) == (
        monthly_return.pk,
        "due_date",
        20,
    )
    prompts = NarrativePrompt.objects.filter(entry__monthly_return=monthly_return)
    assert sorted(p.entry.measure.code for p in prompts) == sorted(owed)
    assert Notification.objects.count() == 2
    assert MonthlyReturn.objects.count() == 1
