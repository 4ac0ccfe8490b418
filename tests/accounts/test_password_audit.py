"""Changing your password on /accounts/password/ is recorded as an ``AccountEvent`` (who,
by whom, when, where), listed on your account page; the password never is."""

from __future__ import annotations

import pytest

from accounts.models import AccountEvent
from contracts.models import Role
from tests.factories import OrganisationFactory, UserFactory, member

pytestmark = pytest.mark.django_db

NEW = "brass-owl-kettle-7"


@pytest.fixture
def alice(client):
    person = member(OrganisationFactory(), Role.READER, "alice")
    client.force_login(person)
    return person


def change(client, new: str):
    return client.post("/accounts/password/", {"old_password": "pw", "new_password1": new, "new_password2": new})


def test_changing_your_password_is_recorded_and_shown_on_your_account(client, alice):
    assert change(client, NEW)["Location"] == "/accounts/"
    event = AccountEvent.objects.get()
    assert (event.kind, event.person, event.username, event.actor, event.actor_username) == (
        AccountEvent.Kind.PASSWORD_CHANGED, alice, "alice", alice, "alice",
    )
    assert event.note == "Changed by its owner on their account page."
    alice.refresh_from_db()
    recorded = " ".join(str(getattr(event, f.attname)) for f in event._meta.concrete_fields)
    assert NEW not in recorded and alice.password not in recorded
    page = client.get("/accounts/").content.decode()
    assert "Password changed" in page and "Changed by its owner on their account page." in page


def test_a_refused_password_change_records_nothing(client, alice):
    assert change(client, "password1234").status_code == 200
    assert not AccountEvent.objects.exists()


def test_the_admin_password_page_leads_to_the_recorded_one(client):
    # Django's admin has its own password page, which would change a password unrecorded.
    staff = UserFactory(username="staffer", is_staff=True)
    client.force_login(staff)
    response = client.get("/admin/password_change/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/"
