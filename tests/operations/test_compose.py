"""docker-compose.yml: valid, every service health-checked, nothing started before what it
needs is healthy, and the web migrating and collecting static files before gunicorn."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import require_system_part

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def compose_command() -> list[str] | None:
    """Docker's compose plugin where it is installed, else the standalone docker-compose."""
    docker = shutil.which("docker")
    if docker:
        plugin = subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=30, check=False
        )
        if plugin.returncode == 0:
            return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def run_compose(*args: str, **environ: str) -> subprocess.CompletedProcess:
    command = compose_command()
    require_system_part(
        "Docker Compose (docker compose, or docker-compose)",
        command is not None,
        "apt-get install -y docker-compose",
    )
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ALLOWED_HOSTS")}
    env.update(environ)
    return subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_docker_compose_accepts_the_file():
    result = run_compose("config", "--quiet", SECRET_KEY="not-a-real-secret")
    assert result.returncode == 0, result.stderr


def test_docker_compose_refuses_to_run_without_a_secret_key():
    result = run_compose("config", "--quiet")
    assert result.returncode != 0
    assert "set SECRET_KEY" in result.stderr


def test_every_long_running_service_has_a_health_check(compose):
    services = compose["services"]
    assert services["db"]["healthcheck"]["test"] == ["CMD-SHELL", "pg_isready -U monitor -d monitor"]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    # The web's probe asks /healthz: database, cache and broker (operations/probe.py).
    assert services["web"]["healthcheck"]["test"] == ["CMD", "python", "-m", "operations.probe"]
    assert "inspect ping" in services["worker"]["healthcheck"]["test"][1]


def test_nothing_starts_before_what_it_needs_is_healthy(compose):
    services = compose["services"]
    healthy = {"condition": "service_healthy"}
    assert services["web"]["depends_on"] == {"db": healthy, "redis": healthy}
    for name in ("worker", "beat"):
        assert services[name]["depends_on"] == {"db": healthy, "redis": healthy, "web": healthy}


def test_the_web_migrates_and_collects_static_files_before_serving(compose):
    command = " ".join(compose["services"]["web"]["command"].split())
    migrate = command.index("python manage.py migrate --noinput")
    collect = command.index("python manage.py collectstatic --noinput")
    serve = command.index("exec gunicorn config.wsgi:application --config config/gunicorn.py")
    assert migrate < collect < serve
    assert "&&" in command[migrate:serve]  # a failed migration stops the start


def test_the_app_uses_redis_for_the_broker_and_the_cache(compose):
    environment = compose["x-app"]["environment"]
    assert environment["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert environment["CACHE_URL"] == "redis://redis:6379/1"
    assert environment["LOG_FORMAT"] == "${LOG_FORMAT:-json}"  # for the log collector
    assert "media:/app/var/media" in compose["x-app"]["volumes"]
