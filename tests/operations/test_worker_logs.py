"""A real Celery worker (its own Redis, the test's PostgreSQL database) writes JSON log
lines, and the lines a task logs carry that task's id and name.

PostgreSQL only, like the month-end integration tests: the worker must see what the test
commits, which SQLite's in-memory test database cannot offer.
"""

from __future__ import annotations

import json
import shutil

import pytest
from django.conf import settings
from django.db import connection

from contracts import tasks
from tests.conftest import require_system_part
from tests.monthend.conftest import contract_with_measures
from tests.monthend.stack import Stack, database_url
from tests.operations.conftest import broker_at

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

pytestmark = [
    pytest.mark.skipif(
        not ON_POSTGRES,
        reason="needs PostgreSQL shared between the test and the Celery worker process "
        "(set DATABASE_URL=postgres://...); SQLite's test database is private to the test",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def stack(transactional_db, tmp_path):
    require_system_part(
        "redis-server", shutil.which("redis-server") is not None, "apt-get install -y redis-server"
    )
    stack = Stack(tmp_path, database_url(connection.settings_dict))
    try:
        stack.start_redis()
        stack.start_worker(LOG_FORMAT="json")
        yield stack
    finally:
        stack.close()


def test_a_worker_s_task_lines_are_json_with_the_task_id(stack):
    contract = contract_with_measures()
    with broker_at(stack.broker_url):
        task_id = tasks.close_period_task.delay(contract.pk, "2018-04").id
    stack.wait_for_task(task_id)
    lines = [json.loads(text) for text in stack.log().splitlines() if text.strip()]
    assert any(line["message"].endswith(" ready.") for line in lines)  # the worker's own
    own = [line for line in lines if line.get("task_id") == task_id]
    said = [line["message"] for line in own if line["logger"] == "contracts.tasks"]
    # The task's own lines (contracts.tasks) and Celery's account of it.
    assert said[0] == "c: opened the 2018-04 return (3 measure(s) due)"
    assert {line["task_name"] for line in own} == {"contracts.tasks.close_period_task"}
    assert any(
        line["logger"] == "celery.app.trace" and "succeeded in" in line["message"] for line in own
    )
