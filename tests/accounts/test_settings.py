"""The sign-in settings read from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'two_factor': settings.TWO_FACTOR_REQUIRED, 'idle': settings.SESSION_COOKIE_AGE, "
    "'limit': settings.AXES_FAILURE_LIMIT, 'cool_off_hours': settings.AXES_COOLOFF_TIME, "
    "'min_length': [v.get('OPTIONS', {}).get('min_length') for v in settings.AUTH_PASSWORD_VALIDATORS "
    "if v['NAME'].endswith('MinimumLengthValidator')][0], "
    "'backends': settings.AUTHENTICATION_BACKENDS[:1]}))"
)
OURS = ("DEBUG", "TWO_FACTOR_REQUIRED", "SESSION_IDLE_SECONDS", "AXES_FAILURE_LIMIT", "AXES_COOLOFF_MINUTES")


def probe(tmp_path, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in OURS}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings", SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_defaults(tmp_path):
    assert probe(tmp_path) == {
        "two_factor": True,
        "idle": 1800,
        "limit": 5,
        "cool_off_hours": 0.5,
        "min_length": 12,
        "backends": ["axes.backends.AxesStandaloneBackend"],
    }


def test_two_factor_is_off_by_default_only_while_debug_is_on(tmp_path):
    assert probe(tmp_path, DEBUG="1")["two_factor"] is False
    assert probe(tmp_path, DEBUG="1", TWO_FACTOR_REQUIRED="1")["two_factor"] is True
    assert probe(tmp_path, TWO_FACTOR_REQUIRED="0")["two_factor"] is False


def test_idle_limit_and_lockout_from_the_environment(tmp_path):
    found = probe(tmp_path, SESSION_IDLE_SECONDS="600", AXES_FAILURE_LIMIT="3", AXES_COOLOFF_MINUTES="60")
    assert (found["idle"], found["limit"], found["cool_off_hours"]) == (600, 3, 1.0)
