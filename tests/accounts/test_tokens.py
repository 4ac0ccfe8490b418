"""API tokens: one per person, made by its owner and shown once, revocable by the owner,
an admin of their organisation or a Django admin; every change recorded."""

from __future__ import annotations

import re

import pytest
from rest_framework.authtoken.models import Token

from accounts.models import AccountEvent
from contracts.models import Organisation, Role
from tests.factories import OrganisationFactory, UserFactory, member

pytestmark = pytest.mark.django_db

Kind = AccountEvent.Kind


@pytest.fixture
def council():
    return OrganisationFactory(kind=Organisation.Kind.COUNCIL)


@pytest.fixture
def alice(council):
    return member(council, Role.COMMISSIONER, "alice")


def key_on(response) -> str:
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return re.search(r'id="api-token-key">([0-9a-f]{40})<', response.content.decode()).group(1)


def api_status(client, key: str) -> int:
    return client.get("/api/v1/contracts/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def test_a_person_creates_a_token_shown_once_that_works(client, alice):
    client.force_login(alice)
    assert "You have no API token." in client.get("/accounts/").content.decode()
    key = key_on(client.post("/accounts/api-token/"))
    assert Token.objects.get(user=alice).key == key
    client.logout()
    assert api_status(client, key) == 200

    client.force_login(alice)
    page = client.get("/accounts/").content.decode()
    assert "You have an API token, created on" in page
    assert key not in page
    event = AccountEvent.objects.get()
    assert (event.kind, event.person, event.actor) == (Kind.TOKEN_CREATED, alice, alice)


def test_a_token_is_made_only_by_a_post(client, alice):
    client.force_login(alice)
    assert client.get("/accounts/api-token/").status_code == 405
    assert not Token.objects.exists()


def test_replacing_ends_the_old_token(client, alice):
    client.force_login(alice)
    old = key_on(client.post("/accounts/api-token/"))
    new = key_on(client.post("/accounts/api-token/"))
    assert old != new
    client.logout()
    assert api_status(client, old) == 401
    assert api_status(client, new) == 200
    latest = AccountEvent.objects.first()
    assert latest.kind == Kind.TOKEN_CREATED and latest.note.startswith("Replaced the previous token.")


def test_a_person_revokes_their_token(client, alice):
    client.force_login(alice)
    key = key_on(client.post("/accounts/api-token/"))
    response = client.post("/accounts/api-token/revoke/")
    assert response["Location"] == "/accounts/"
    assert "Your API token is revoked" in client.get("/accounts/").content.decode()
    client.logout()
    assert api_status(client, key) == 401
    assert list(AccountEvent.objects.values_list("kind", flat=True)) == [Kind.TOKEN_REVOKED, Kind.TOKEN_CREATED]


def test_an_organisation_admin_revokes_a_colleagues_token(client, council, alice):
    admin = member(council, Role.ADMIN, "ada")
    key = Token.objects.create(user=alice).key
    client.force_login(admin)
    page = client.get("/accounts/tokens/").content.decode()
    assert "alice" in page and key not in page
    response = client.post(f"/accounts/tokens/{alice.pk}/revoke/")
    assert response["Location"] == "/accounts/tokens/"
    assert not Token.objects.filter(user=alice).exists()
    event = AccountEvent.objects.get()
    assert (event.kind, event.person, event.actor) == (Kind.TOKEN_REVOKED, alice, admin)
    assert event.note == "Revoked by an admin of the organisation."


def test_an_admin_cannot_touch_another_organisations_tokens(client, alice):
    outsider = member(OrganisationFactory(kind=Organisation.Kind.COUNCIL), Role.ADMIN, "olga")
    Token.objects.create(user=alice)
    client.force_login(outsider)
    assert "alice" not in client.get("/accounts/tokens/").content.decode()
    assert client.post(f"/accounts/tokens/{alice.pk}/revoke/").status_code == 404
    assert Token.objects.filter(user=alice).exists()
    assert not AccountEvent.objects.exists()


@pytest.mark.parametrize("role", [Role.COMMISSIONER, Role.READER])
def test_only_admins_see_their_organisations_tokens(client, council, alice, role):
    person = member(council, role, f"p-{role}")
    Token.objects.create(user=alice)
    client.force_login(person)
    assert client.get("/accounts/tokens/").status_code == 403
    assert client.post(f"/accounts/tokens/{alice.pk}/revoke/").status_code == 403
    assert Token.objects.filter(user=alice).exists()


def test_a_django_admin_revokes_a_token_and_cannot_make_one(client, alice):
    operator = UserFactory(username="operator", is_staff=True, is_superuser=True)
    operator.save()
    key = Token.objects.create(user=alice).key
    client.force_login(operator)
    listing = client.get("/admin/authtoken/tokenproxy/").content.decode()
    assert "alice" in listing and key not in listing
    assert client.get("/admin/authtoken/tokenproxy/add/").status_code == 403

    response = client.post(f"/admin/authtoken/tokenproxy/{alice.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Token.objects.filter(user=alice).exists()
    event = AccountEvent.objects.get()
    assert (event.kind, event.person, event.actor, event.note) == (
        Kind.TOKEN_REVOKED,
        alice,
        operator,
        "In the Django admin.",
    )


def test_the_record_cannot_be_edited_in_the_admin(client, alice):
    operator = UserFactory(username="operator", is_staff=True, is_superuser=True)
    operator.save()
    client.force_login(alice)
    client.post("/accounts/api-token/")
    event = AccountEvent.objects.get()
    client.force_login(operator)
    assert client.get("/admin/accounts/accountevent/").status_code == 200
    assert client.post(f"/admin/accounts/accountevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AccountEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.usefixtures("two_factor_on")
def test_a_token_needs_a_session_that_passed_the_second_factor(client, alice):
    client.post("/accounts/login/", {"username": "alice", "password": "pw"})
    response = client.post("/accounts/api-token/")
    assert response["Location"] == "/accounts/two-factor/set-up/"
    assert not Token.objects.exists()
    assert not AccountEvent.objects.exists()
