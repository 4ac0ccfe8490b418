"""``/healthz`` reports the database, the cache and the broker each; a stopped Redis is
reported unhealthy while the pages that need no broker go on working (issue 8)."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from tests.monthend.stack import free_port
from tests.operations.conftest import broker_at, redis_cache

pytestmark = pytest.mark.django_db


def health(client, **headers):
    return client.get("/healthz", headers={"Accept": "application/json", **headers})


def test_the_url_is_the_one_promised():
    assert reverse("healthz") == "/healthz"
    assert reverse("healthz-live") == "/healthz/live"


def test_the_embedded_default_is_healthy_and_says_tasks_run_in_process(client):
    answer = health(client)
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "healthy" and body["unhealthy"] == []
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert all(part["healthy"] for part in body["checks"].values())
    assert body["checks"]["broker"]["message"] == "none configured: tasks run in-process"
    assert body["checks"]["cache"]["message"] == "OK (LocMemCache)"
    assert answer["Cache-Control"].startswith("max-age=0")


def test_it_answers_as_a_page_and_as_text(client):
    page = client.get("/healthz", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "<h1 class=\"govuk-heading-l\">Service health</h1>" in html
    for part in ("Database", "Cache", "Broker"):
        assert f'<th scope="row" class="govuk-table__header">{part}</th>' in html
    assert "<script" not in html and "style=" not in html  # nothing a strict CSP refuses
    text = client.get("/healthz?format=text")
    assert text.content.decode().splitlines() == [
        "healthy",
        "database: OK (SQLite)" if connection.vendor == "sqlite" else "database: OK (PostgreSQL)",
        "cache: OK (LocMemCache)",
        "broker: none configured: tasks run in-process",
    ]


def test_a_database_that_cannot_be_reached_is_503_naming_it(client):
    # The check opens its own connection from these settings: point them nowhere.
    settings_dict = connection.settings_dict
    saved = {key: settings_dict[key] for key in ("NAME", "HOST", "PORT")}
    if connection.vendor == "sqlite":
        settings_dict["NAME"] = "/nonexistent-folder/db.sqlite3"
    else:
        settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
    try:
        answer = health(client)
        page = client.get("/healthz", headers={"Accept": "text/html"})
    finally:
        settings_dict.update(saved)
    assert answer.status_code == 503
    body = answer.json()
    assert body["unhealthy"] == ["database"]
    assert body["checks"]["database"]["message"].startswith("Unavailable: ")
    assert body["checks"]["cache"]["healthy"] and body["checks"]["broker"]["healthy"]
    # The page needs no database to say so.
    assert page.status_code == 503
    assert "Unhealthy: database" in page.content.decode()


def test_the_liveness_view_touches_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        answer = client.get("/healthz/live")
    assert (answer.status_code, answer.content) == (200, b"live\n")


def test_a_stopped_redis_is_unhealthy_while_pages_without_the_broker_work(
    redis_server, settings, client, contract, reader
):
    settings.CACHES = redis_cache(redis_server.broker_url)
    client.force_login(reader)  # the session is a row in the database
    monitor = Client()  # a load balancer's probe: no session
    scorecard = reverse("scorecard", args=[contract.slug]) + "?period=2018-04"
    api = f"/api/v1/contracts/{contract.slug}/scorecard/?period=2018-04"
    with broker_at(redis_server.broker_url):
        answer = health(monitor)
        assert answer.status_code == 200, answer.content
        checks = answer.json()["checks"]
        assert checks["broker"] == {**checks["broker"], "healthy": True, "message": "OK (redis)"}
        assert checks["cache"]["message"] == "OK (Redis)"
        cache.set("greeting", "hello")
        assert cache.get("greeting") == "hello"  # the cache really is that Redis

        redis_server.stop_redis()

        started = time.monotonic()
        answer = health(monitor)
        assert time.monotonic() - started < 5  # the probe gives up quickly
        assert answer.status_code == 503
        body = answer.json()
        assert body["status"] == "unhealthy"
        assert body["unhealthy"] == ["cache", "broker"]
        assert body["checks"]["broker"]["message"] == (
            "Unavailable: cannot reach the broker: Connection refused"
        )
        assert body["checks"]["cache"]["message"] == (
            "Unavailable: cannot reach the cache's Redis: Connection refused"
        )
        assert body["checks"]["database"]["healthy"]
        page = monitor.get("/healthz", headers={"Accept": "text/html"})
        assert page.status_code == 503
        assert "Unhealthy: cache, broker" in page.content.decode()

        # Pages and the API that need no broker still answer, signed in as before.
        home = client.get(reverse("home"))
        assert home.status_code == 200 and contract.name in home.content.decode()
        card = client.get(scorecard)
        assert card.status_code == 200 and "Referrals on time" in card.content.decode()
        data = client.get(api, headers={"Accept": "application/json"})
        assert data.status_code == 200
        assert [(r["code"], r["value"], r["status"]) for r in data.json()["results"]] == [
            ("KPI 1", "92.1", "within_tolerance")
        ]
        # The cache degrades to misses instead of failing whoever uses it.
        assert cache.get("greeting") is None
        cache.set("greeting", "again")
        assert cache.get("greeting", "missed") == "missed"
