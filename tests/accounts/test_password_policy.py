"""The password policy: at least 12 characters, not common, not all digits, not like the
username; said on the form that sets a password."""

from __future__ import annotations

import pytest

from contracts.models import Role
from tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    person = member(OrganisationFactory(), Role.READER, "alice")
    client.force_login(person)
    return person


def change(client, new: str, again: str | None = None):
    return client.post(
        "/accounts/password/",
        {"old_password": "pw", "new_password1": new, "new_password2": again or new},
    )


def test_the_form_states_the_rules(client, signed_in):
    html = client.get("/accounts/password/").content.decode()
    assert "Your password must contain at least 12 characters." in html
    assert "Your password can’t be a commonly used password." in html
    assert 'aria-describedby="password-rules"' in html


@pytest.mark.parametrize(
    "new, problem",
    [
        ("brass-owl-7", "This password is too short. It must contain at least 12 characters."),
        ("password1234", "This password is too common."),
        ("829163540217", "This password is entirely numeric."),
    ],
)
def test_a_weak_password_is_refused_and_nothing_changes(client, signed_in, new, problem):
    response = change(client, new)
    assert response.status_code == 200
    assert problem in response.content.decode()
    signed_in.refresh_from_db()
    assert signed_in.check_password("pw")


def test_a_strong_password_is_accepted_and_the_person_stays_signed_in(client, signed_in):
    response = change(client, "brass-owl-kettle-7")
    assert response["Location"] == "/accounts/"
    signed_in.refresh_from_db()
    assert signed_in.check_password("brass-owl-kettle-7")
    assert "Your password is changed." in client.get("/accounts/").content.decode()


def test_eleven_characters_are_too_few_and_twelve_enough(client, signed_in):
    assert "too short" in change(client, "qz-brass-ow").content.decode()  # 11
    assert change(client, "qz-brass-owl")["Location"] == "/accounts/"  # 12


def test_a_password_like_the_username_is_refused(client):
    person = member(OrganisationFactory(), Role.READER, "alice.whitfield")
    client.force_login(person)
    response = change(client, "alicewhitfield9")
    assert "The password is too similar to the username." in response.content.decode()
