"""Sessions end after SESSION_IDLE_SECONDS (30 minutes by default) without a request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from contracts.models import Role
from tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self):
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture
def signed_in(client):
    person = member(OrganisationFactory(), Role.READER, "alice")
    response = client.post("/accounts/login/", {"username": "alice", "password": "pw"})
    assert response.status_code == 302
    return person


def test_the_default_idle_limit_is_thirty_minutes(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60


def test_an_idle_session_is_signed_out(client, clock, signed_in):
    assert client.get("/").status_code == 200
    clock.advance(31)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_using_the_service_keeps_the_session(client, clock, signed_in):
    for _ in range(4):  # two hours in all, never idle for 30 minutes
        clock.advance(29)
        assert client.get("/").status_code == 200
    clock.advance(31)
    assert client.get("/").status_code == 302


def stored_expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_each_request_moves_the_expiry_on(client, clock, signed_in):
    client.get("/")
    assert stored_expiry(client) == clock.now + timedelta(minutes=30)
    clock.advance(10)
    client.get("/")
    assert stored_expiry(client) == clock.now + timedelta(minutes=30)
