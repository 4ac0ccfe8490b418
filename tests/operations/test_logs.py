"""Structured logs: a request id on every line logged during a request, one access line
per request, and a task's id on the lines its task logs."""

from __future__ import annotations

import io
import json
import logging
import runpy
from pathlib import Path

import pytest
from celery import shared_task
from django.core.exceptions import ImproperlyConfigured

from operations import logs
from operations.middleware import HEADER

pytestmark = pytest.mark.django_db

SETTINGS = Path(__file__).resolve().parents[2] / "config" / "settings.py"


@pytest.fixture
def log_lines():
    """The root logger's lines, as the configured handler writes them, in JSON."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.ContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)

    def lines() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    try:
        yield lines
    finally:
        root.removeHandler(handler)


def test_a_request_gets_an_id_on_its_response(client):
    first, second = client.get("/healthz/live"), client.get("/healthz/live")
    assert len(first[HEADER]) == 32 and int(first[HEADER], 16) >= 0
    assert first[HEADER] != second[HEADER]


def test_a_well_formed_id_from_the_proxy_is_kept(client):
    answer = client.get("/healthz/live", headers={HEADER: "lb-7f3a9c2e-0001"})
    assert answer[HEADER] == "lb-7f3a9c2e-0001"


@pytest.mark.parametrize(
    "offered",
    ["short", "x" * 129, "has space in it", "line\r\nbreak-injected", "semi;colon;list", "<script>x</script>"],
)
def test_an_ill_formed_id_is_replaced(client, offered):
    answer = client.get("/healthz/live", headers={HEADER: offered})
    assert answer[HEADER] != offered and len(answer[HEADER]) == 32


def test_every_line_logged_during_a_request_carries_its_id(client, log_lines):
    answer = client.get("/no-such-page/?period=2018-04")
    assert answer.status_code == 404
    logging.getLogger("after").warning("after the request")
    lines = log_lines()
    during = [line for line in lines if line["logger"] != "after"]
    # Django's "Not Found" (logged after the middleware returns) and the access line.
    assert {line["logger"] for line in during} == {"django.request", "operations.access"}
    assert {line["request_id"] for line in during} == {answer[HEADER]}
    assert "request_id" not in lines[-1]  # nothing after the response keeps the id


def test_the_access_line_says_who_asked_for_what_and_how_it_went(client, log_lines, reader):
    client.force_login(reader)
    answer = client.get("/?period=2018-04")
    client.logout()
    client.get("/healthz/live")
    access = [line for line in log_lines() if line["logger"] == "operations.access"]
    home, live = access[0], access[-1]
    assert home["level"] == "INFO"
    assert (home["method"], home["path"], home["status"], home["user_id"]) == (
        "GET",
        "/?period=2018-04",
        200,
        reader.pk,
    )
    assert isinstance(home["duration_ms"], float) and home["duration_ms"] >= 0
    assert home["request_id"] == answer[HEADER]
    assert home["timestamp"].endswith("+00:00")
    assert home["message"] == f"GET /?period=2018-04 200 {home['duration_ms']:.1f} ms user={reader.pk}"
    assert (live["path"], live["user_id"]) == ("/healthz/live", None)
    assert live["message"].endswith(" ms user=-")


def test_the_plain_format_puts_the_id_in_brackets():
    record = logging.LogRecord("contracts", logging.WARNING, __file__, 1, "Figure %s", ("late",), None)
    record.request_id = "lb-7f3a9c2e-0001"
    line = logs.PlainFormatter().format(record)
    assert line.endswith(" WARNING contracts [request_id=lb-7f3a9c2e-0001]: Figure late")
    assert not hasattr(record, "context")


@shared_task(name="tests.operations.say_hello")
def say_hello() -> str:
    logging.getLogger("contracts.tasks").info("hello from a task")
    return "done"


def test_a_task_s_lines_carry_its_id(log_lines):
    result = say_hello.apply()
    assert result.get() == "done"
    line = next(line for line in log_lines() if line["message"] == "hello from a task")
    assert (line["task_id"], line["task_name"]) == (result.id, "tests.operations.say_hello")
    assert "request_id" not in line


def settings_with(monkeypatch, **environ) -> dict:
    for name in ("DEBUG", "LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_plain_is_the_default_and_json_is_chosen_by_name(monkeypatch):
    default = settings_with(monkeypatch)
    assert default["LOG_FORMAT"] == "plain"
    assert default["LOGGING"]["handlers"]["console"]["formatter"] == "plain"
    assert default["LOGGING"]["handlers"]["console"]["filters"] == ["context"]
    assert settings_with(monkeypatch, DEBUG="1")["LOG_FORMAT"] == "plain"
    chosen = settings_with(monkeypatch, LOG_FORMAT="JSON")
    assert chosen["LOG_FORMAT"] == "json"
    assert chosen["LOGGING"]["handlers"]["console"]["formatter"] == "json"


def test_an_unknown_log_format_is_refused_by_name(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT must be json or plain, not 'xml'"):
        settings_with(monkeypatch, LOG_FORMAT="xml")
