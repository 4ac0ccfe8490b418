"""The real server: gunicorn with config/gunicorn.py writes JSON lines, each request's with
its id, and the container's probe (operations.probe) reads /healthz through it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from operations import probe
from tests.monthend.stack import alive, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
HOST = "monitor.example.org"


@pytest.fixture
def server(tmp_path):
    port = free_port()
    pidfile = tmp_path / "gunicorn.pid"
    log = tmp_path / "gunicorn.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "DATABASE_", "CELERY_", "DJANGO_", "GUNICORN_"))
    }
    env.update(
        DEBUG="0",
        SECRET_KEY="a-throwaway-key-for-this-test-only-0123456789abcdef",
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS=HOST,
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        LOG_FORMAT="json",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS="2",
    )
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "config.wsgi:application",
                "--config",
                "config/gunicorn.py",
                "--pid",
                str(pidfile),
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(base), 30, "gunicorn to answer")
        yield {"base": base, "env": env, "log": log, "process": process}
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        wait_for(lambda: not alive(process.pid), 10, "gunicorn to stop")


def _answers(base: str) -> bool:
    try:
        request = urllib.request.Request(f"{base}/healthz/live", headers={"Host": HOST})
        with urllib.request.urlopen(request, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def test_gunicorn_writes_json_lines_with_the_request_id(server):
    request = urllib.request.Request(
        f"{server['base']}/healthz/live?from=test",
        headers={"Host": HOST, "X-Request-ID": "edge-proxy-0123456789"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.headers["X-Request-ID"] == "edge-proxy-0123456789"

    def access_line():
        for text in server["log"].read_text().splitlines():
            line = json.loads(text)  # every line is JSON, gunicorn's own included
            if line.get("request_id") == "edge-proxy-0123456789":
                return line
        return None

    line = wait_for(access_line, 10, "the access line")
    assert (line["logger"], line["method"], line["path"], line["status"]) == (
        "operations.access",
        "GET",
        "/healthz/live?from=test",
        200,
    )
    loggers = {json.loads(text)["logger"] for text in server["log"].read_text().splitlines()}
    assert "gunicorn.error" in loggers  # "Starting gunicorn", "Booting worker"
    assert "gunicorn.access" not in loggers  # requests are logged once, by the app


def test_the_container_probe_reads_healthz_through_gunicorn(server, capsys):
    environ = {**server["env"], "ALLOWED_HOSTS": f".{HOST},other.example.org"}
    assert probe.host_header(environ) == HOST
    assert probe.default_url(environ) == f"{server['base']}/healthz"
    assert probe.main([], environ) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("200 ")
    assert json.loads(printed[4:])["checks"]["broker"]["message"] == (
        "none configured: tasks run in-process"
    )
    server["process"].send_signal(signal.SIGTERM)
    server["process"].wait(timeout=30)
    assert probe.main([], environ) == 1
    assert "cannot be reached" in capsys.readouterr().err


def test_the_probe_fails_on_an_unhealthy_answer(server, capsys):
    # A host the app does not serve: Django answers 400, which is not healthy.
    assert probe.main([], {**server["env"], "ALLOWED_HOSTS": "*"}) == 1
    assert capsys.readouterr().out.startswith("400 ")
