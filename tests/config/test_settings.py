"""The embedded default and the production shape, read from the environment."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL, "
    "'debug': settings.DEBUG}))"
)
VARIABLES = (
    "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set for the browser tests; check --deploy warns of it
)
A_KEY = secrets.token_urlsafe(50)


def run(code_or_args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run(
        [sys.executable, *code_or_args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def probe(**env: str) -> dict:
    result = run(["-c", PROBE], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_with_only_a_secret_key_set_it_runs_on_sqlite_with_tasks_in_process(tmp_path):
    found = probe(SECRET_KEY=A_KEY, SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    assert found == {"engine": "django.db.backends.sqlite3", "eager": True, "broker": "", "debug": False}


KEY_PROBE = (
    "import json, os, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'key': settings.SECRET_KEY, 'environ': os.environ.get('SECRET_KEY')}))"
)


def test_with_debug_off_a_missing_secret_key_stops_the_web_entry_points_naming_it(tmp_path):
    for entry in ("config.wsgi", "config.asgi"):
        for env in ({}, {"DEBUG": "0"}, {"SECRET_KEY": ""}):
            result = run(["-c", f"import {entry}"], SQLITE_PATH=str(tmp_path / "db"), **env)
            assert result.returncode != 0, (entry, env)
            assert "ImproperlyConfigured: SECRET_KEY is not set. With DEBUG off" in result.stderr, env
    served = run(["manage.py", "runserver", "--noreload", "127.0.0.1:0"], SQLITE_PATH=str(tmp_path / "db"))
    assert served.returncode != 0 and "SECRET_KEY is not set" in served.stderr
    deploy = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], SQLITE_PATH=str(tmp_path / "db"))
    assert deploy.returncode != 0 and "security.W009" in deploy.stdout + deploy.stderr


def test_management_commands_need_no_key(tmp_path):
    # Migrations and checks run on a development machine (and in CI) with no key set.
    result = run(["manage.py", "makemigrations", "--check", "--dry-run"], SQLITE_PATH=str(tmp_path / "db"))
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_without_a_key_the_settings_carry_the_public_development_one(tmp_path):
    for env in ({"DEBUG": "1"}, {}):
        found = json.loads(run(["-c", KEY_PROBE], SQLITE_PATH=str(tmp_path / "db"), **env).stdout)
        assert found["key"] == "django-insecure-contract-monitor-development-key-not-for-production"
        assert found["environ"] is None
    served = run(["-c", "import config.wsgi"], DEBUG="1", SQLITE_PATH=str(tmp_path / "db"))
    assert served.returncode == 0, served.stderr


def test_a_given_secret_key_is_used_as_it_is(tmp_path):
    for env in ({}, {"DEBUG": "1"}):
        found = json.loads(run(["-c", KEY_PROBE], SECRET_KEY=A_KEY, SQLITE_PATH=str(tmp_path / "db"), **env).stdout)
        assert found["key"] == A_KEY, env
    served = run(["-c", "import config.wsgi"], SECRET_KEY=A_KEY, SQLITE_PATH=str(tmp_path / "db"))
    assert served.returncode == 0, served.stderr


def test_database_and_broker_urls_move_it_to_postgresql_and_redis():
    found = probe(
        SECRET_KEY=A_KEY,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["eager"] is False
    assert found["broker"] == "redis://127.0.0.1:6379/0"


def test_check_deploy_is_clean_with_debug_off_and_a_real_secret_key(tmp_path):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        SECRET_KEY=secrets.token_urlsafe(64),
        DEBUG="0",
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


HARDENING_PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "names = ('SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', "
    "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', 'MIDDLEWARE'); "
    "found = {name: getattr(settings, name) for name in names}; "
    "found['csp'] = settings.CONTENT_SECURITY_POLICY['DIRECTIVES']; "
    "print(json.dumps(found, default=repr))"
)


def hardening(**env: str) -> dict:
    result = run(["-c", HARDENING_PROBE], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_settings_secure_cookies_transport_and_scripts(tmp_path):
    found = hardening(SECRET_KEY=secrets.token_urlsafe(64), DEBUG="0", SQLITE_PATH=str(tmp_path / "db"))
    assert found["SESSION_COOKIE_SECURE"] is found["CSRF_COOKIE_SECURE"] is True
    assert found["SECURE_SSL_REDIRECT"] is True
    assert found["SECURE_HSTS_SECONDS"] >= 365 * 24 * 60 * 60
    assert found["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is found["SECURE_HSTS_PRELOAD"] is True
    assert "csp.middleware.CSPMiddleware" in found["MIDDLEWARE"]
    assert found["csp"]["script-src"] == ["'self'", "csp.constants.NONCE"]
    assert found["csp"]["object-src"] == found["csp"]["frame-ancestors"] == ["'none'"]


def test_development_keeps_http_and_the_same_policy(tmp_path):
    found = hardening(DEBUG="1", SQLITE_PATH=str(tmp_path / "db"))
    assert found["SESSION_COOKIE_SECURE"] is found["SECURE_SSL_REDIRECT"] is False
    assert found["SECURE_HSTS_SECONDS"] == 0
    assert found["csp"]["script-src"] == ["'self'", "csp.constants.NONCE"]
