"""Lockout after repeated failed sign-ins (django-axes): five failures for one username
from one address pause signing in as that username from there for 30 minutes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.utils import timezone

from contracts.models import Role
from tests.factories import OrganisationFactory, UserFactory, member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lockout_on")]


@pytest.fixture
def alice():
    return member(OrganisationFactory(), Role.READER, "alice")


def attempt(client, username: str, password: str, address: str = "192.0.2.10"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_failures_lock_out_the_username_from_that_address(client, alice):
    for _ in range(4):
        response = attempt(client, "alice", "wrong")
        assert response.status_code == 200
        html = response.content.decode()
        assert "Please enter a correct username and password" in html
        assert "After 5 unsuccessful attempts in a row, you will not be able to sign in for 30 minutes." in html

    fifth = attempt(client, "alice", "wrong")
    assert fifth.status_code == 429
    html = fifth.content.decode()
    assert "You cannot sign in for now" in html
    assert "There have been 5 unsuccessful attempts in a row to sign in as <strong>alice</strong>" in html
    assert "Wait 30 minutes" in html

    # Now even the right password is refused, and nothing is signed in.
    right = attempt(client, "alice", "pw")
    assert right.status_code == 429
    assert not signed_in(client)


def test_the_lock_holds_only_that_username_at_that_address(client, alice):
    member(OrganisationFactory(), Role.READER, "bob")
    for _ in range(5):
        attempt(client, "alice", "wrong")
    assert attempt(client, "bob", "pw").status_code == 302  # another username, same address
    client.post("/accounts/logout/")
    assert attempt(client, "alice", "pw", address="198.51.100.7").status_code == 302  # elsewhere
    assert signed_in(client)


def test_the_lock_lifts_after_the_cool_off(client, alice):
    for _ in range(5):
        attempt(client, "alice", "wrong")
    assert attempt(client, "alice", "pw").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    assert attempt(client, "alice", "pw").status_code == 302
    assert signed_in(client)


def test_a_success_starts_the_count_again(client, alice):
    for _ in range(4):
        attempt(client, "alice", "wrong")
    assert attempt(client, "alice", "pw").status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        assert attempt(client, "alice", "wrong").status_code == 200
    assert attempt(client, "alice", "pw").status_code == 302


def test_the_django_admin_sign_in_counts_the_same_failures(client, alice):
    for _ in range(5):
        attempt(client, "alice", "wrong")
    response = client.post(
        "/admin/login/", {"username": "alice", "password": "pw"}, REMOTE_ADDR="192.0.2.10"
    )
    assert response.status_code == 429
    assert not signed_in(client)


def test_admins_see_sign_ins_failures_and_lockouts(client, alice, settings):
    settings.TWO_FACTOR_REQUIRED = False
    attempt(client, "alice", "wrong")
    attempt(client, "alice", "pw")
    client.post("/accounts/logout/")
    for _ in range(5):
        attempt(client, "alice", "wrong", address="203.0.113.5")

    assert AccessLog.objects.filter(username="alice", ip_address="192.0.2.10").count() == 1
    assert AccessFailureLog.objects.filter(username="alice").count() == 6
    locked = AccessAttempt.objects.get(username="alice", ip_address="203.0.113.5")
    assert locked.failures_since_start == 5

    operator = UserFactory(username="operator", is_staff=True, is_superuser=True)
    operator.save()
    client.force_login(operator)
    for page in ("accesslog", "accessfailurelog", "accessattempt"):
        response = client.get(f"/admin/axes/{page}/")
        assert response.status_code == 200
        assert "alice" in response.content.decode()
