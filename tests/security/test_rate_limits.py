"""The API's rate limits: per person, whether a token or a session signs them in, and per
address for anonymous calls; over the limit, 429 with Retry-After, and served again once
that time has passed. Rates come from API_RATE_USER and API_RATE_ANON."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config import throttling
from contracts.models import Role
from tests.factories import ContractFactory, member

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock(monkeypatch):
    """The throttles' clock, moved by hand."""
    now = [1_000_000.0]
    for throttle in (throttling.UserRateThrottle, throttling.AnonRateThrottle):
        monkeypatch.setattr(throttle, "timer", lambda self: now[0])
    return now


@pytest.fixture(autouse=True)
def small_rates(settings, clock):
    # A cache of this test's own, so no other test's counts (or worker's, in Redis) mix in.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rate-limits"}
    }
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "3/minute", "anon": "2/minute"},
    }


@pytest.fixture
def contract():
    return ContractFactory(slug="fostering", name="Fostering")


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_a_person_over_the_rate_is_told_to_wait(contract, clock):
    reader = member(contract.commissioner, Role.READER)
    by_token, by_session = token_client(reader), session_client(reader)
    # Token and session count together: the limit is the person's.
    for client in (by_token, by_session, by_token):
        assert client.get("/api/v1/contracts/").status_code == 200

    refused = by_session.get("/api/v1/contracts/")
    assert refused.status_code == 429
    assert refused.json()["detail"] == "Request was throttled. Expected available in 60 seconds."
    assert refused.headers["Retry-After"] == "60"

    # Someone else is served meanwhile.
    other = member(contract.provider, Role.PROVIDER_EDITOR)
    assert token_client(other).get("/api/v1/contracts/").status_code == 200

    # Retry-After is honest: a second early is still too early, then it is served.
    clock[0] += 59
    assert by_token.get("/api/v1/contracts/").status_code == 429
    clock[0] += 1
    assert by_token.get("/api/v1/contracts/").status_code == 200


def test_a_rate_changed_in_settings_applies_at_once(contract, settings):
    reader = member(contract.commissioner, Role.READER)
    client = token_client(reader)
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"user": "1/hour", "anon": "2/minute"},
    }
    assert client.get("/api/v1/contracts/").status_code == 200
    refused = client.get("/api/v1/contracts/")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "3600"


def test_anonymous_calls_are_limited_by_address():
    here, elsewhere = APIClient(REMOTE_ADDR="192.0.2.1"), APIClient(REMOTE_ADDR="192.0.2.2")
    assert [here.get("/api/schema/").status_code for _ in range(2)] == [200, 200]
    refused = here.get("/api/schema/", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert refused.status_code == 429  # a forged X-Forwarded-For changes nothing
    assert refused.headers["Retry-After"] == "60"
    assert elsewhere.get("/api/schema/").status_code == 200


def test_an_anonymous_call_to_a_private_endpoint_is_refused_before_it_is_counted():
    client = APIClient(REMOTE_ADDR="192.0.2.1")
    assert {client.get("/api/v1/contracts/").status_code for _ in range(4)} == {401}


@pytest.mark.parametrize("name", ["API_RATE_USER", "API_RATE_ANON"])
def test_a_malformed_rate_is_refused_by_name(name):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": "test-only",
            name: "100 per minute",
        },
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert f"{name}: '100 per minute' is not a rate such as 600/minute" in result.stderr
