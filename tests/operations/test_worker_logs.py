"""A real Celery worker (its own Redis, the test's PostgreSQL database) writes JSON log
lines, and the lines a task logs carry that task's id and name.

PostgreSQL only, like the month-end integration tests: the worker must see what the test
commits, which SQLite's in-memory test database cannot offer.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection

from contracts import tasks
from tests.monthend.conftest import contract_with_measures
from tests.monthend.stack import WORKER_TEST_MARKS, database_url, running_stack
from tests.operations.conftest import broker_at

pytestmark = WORKER_TEST_MARKS


@pytest.fixture
def stack(transactional_db, tmp_path):
    with running_stack(tmp_path, database_url(connection.settings_dict)) as stack:
        stack.start_worker(LOG_FORMAT="json")
        yield stack


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
