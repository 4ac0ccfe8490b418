"""Backup and restore (bin/backup, bin/restore): a database holding the demo, with a
return taken once more round the workflow, is dumped, restored into a new empty
database, and every scorecard, return, history table and sequence is found identical.

PostgreSQL only (DATABASE_URL=postgres://...): pg_dump and pg_restore are PostgreSQL's.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from contracts import workflow
from contracts.models import MonthlyReturn, ReturnState
from tests.conftest import require_system_part
from tests.monthend.stack import database_url

ROOT = Path(__file__).resolve().parents[2]
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

pytestmark = [
    pytest.mark.skipif(
        not ON_POSTGRES,
        reason="pg_dump and pg_restore need PostgreSQL (set DATABASE_URL=postgres://...)",
    ),
    pytest.mark.django_db(transaction=True),
]


def run(command: list[str], url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env.update(DATABASE_URL=url, DB_CONN_MAX_AGE="0")
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def snapshot(url: str) -> dict:
    result = run([sys.executable, "-m", "tests.operations.snapshot"], url)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def sequences(url: str) -> dict[str, int]:
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as conn:
        names = conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall()
        return {
            name: conn.execute(f'SELECT last_value FROM "{name}"').fetchone()[0]
            for (name,) in names
        }


@pytest.fixture
def empty_database():
    """A new, empty database beside the test's, dropped afterwards."""
    source = connection.settings_dict
    name = f"{source['NAME']}_restored"
    admin_url = database_url({**source, "NAME": "postgres"}).replace("postgres://", "postgresql://", 1)

    def drop(conn: psycopg.Connection) -> None:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

    with psycopg.connect(admin_url, autocommit=True) as conn:
        drop(conn)
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url({**source, "NAME": name})
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            drop(conn)


def take_april_round_again() -> MonthlyReturn:
    """Reopen the demo's signed-off April return, change a figure, owe nothing, resubmit
    and sign it off again: the history gains every step."""
    users = {u.username: u for u in get_user_model().objects.all()}
    april = MonthlyReturn.objects.get(contract__slug="sunderland-tfc", period="2018-04")
    workflow.reopen(april.pk, users["commissioner"], "The committee asked for KPI 1 to be restated.")
    kpi1 = april.entries.get(measure__code="KPI 1")
    workflow.save_entry(
        kpi1.pk,
        users["provider_editor"],
        version=kpi1.version,
        figures={"value": kpi1.observation.value + Decimal("0.5")},
        narrative={"variance_reason": kpi1.variance_reason + " Restated after a recount."},
    )
    for code in ("KPI 8", "KPI 9"):
        entry = april.entries.get(measure__code=code)
        workflow.save_entry(
            entry.pk,
            users["provider_editor"],
            version=entry.version,
            figures={},
            actions=[
                {"description": "Review the trend with the service lead.", "owner": "Head of service", "due_date": date(2018, 6, 30)}
            ],
        )
    workflow.submit(april.pk, users["provider_lead"])
    workflow.sign_off(april.pk, users["commissioner"])
    april.refresh_from_db()
    return april


def test_a_backup_restored_into_an_empty_database_is_identical(tmp_path, empty_database):
    require_system_part(
        "PostgreSQL's pg_dump and pg_restore",
        bool(shutil.which("pg_dump") and shutil.which("pg_restore")),
        "apt-get install -y postgresql-client",
    )
    call_command("load_demo", stdout=io.StringIO())
    april = take_april_round_again()
    assert april.state == ReturnState.SIGNED_OFF
    actions = [e.action for e in april.events.order_by("at", "pk")]
    assert actions[:3] == ["open", "submit", "sign_off"]  # as the demo loaded it
    assert actions[3] == "reopen" and actions[-2:] == ["submit", "sign_off"]
    assert "save" in actions[4:-2]
    source = database_url(connection.settings_dict)
    archive = tmp_path / "monitor.dump"

    backed_up = run(["bin/backup", str(archive)], source)
    assert backed_up.returncode == 0, backed_up.stderr
    assert archive.stat().st_size > 0 and not Path(f"{archive}.partial").exists()

    refused = run(["bin/restore", str(archive)], empty_database)
    assert refused.returncode == 2 and "run again with --yes" in refused.stderr
    restored = run(["bin/restore", str(archive), "--yes"], empty_database)
    assert restored.returncode == 0, restored.stderr

    before, after = snapshot(source), snapshot(empty_database)
    assert sorted(after["tables"]) == sorted(before["tables"])
    for table, rows in before["tables"].items():
        assert after["tables"][table] == rows, f"{table} differs after the restore"
    assert after["scorecards"] == before["scorecards"]
    assert after["returns"] == before["returns"]
    assert sequences(empty_database) == sequences(source)

    # What was compared is the demo with its history, not empty tables.
    history = {t: r for t, r in before["tables"].items() if "historical" in t}
    assert len(history) >= 20 and sum(len(r) for r in history.values()) > 100
    assert len(before["scorecards"]) >= 24
    assert before["returns"]["sunderland-tfc 2018-04"][0] == ["signed_off"]
    events = before["tables"]["contracts_returnevent"]
    assert [row for row in events if "restated" in str(row)]
