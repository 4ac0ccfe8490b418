"""The Django admin's user pages record every change to an account, from what to what,
by whom and why, in the history the People pages show (``identity.PersonEvent``); a
password set there is recorded like any other (``accounts.AccountEvent``), never itself."""

from __future__ import annotations

from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import AccountEvent
from contracts.models import Membership, Role
from identity.models import PersonEvent

User = get_user_model()
NEW_PASSWORD = "copper-heron-violet-42"


@pytest.fixture
def root(client, db):
    user = User.objects.create_superuser("root", "root@sunderland.gov.uk", "pw")
    client.force_login(user)
    return user


def form_of(user, **changes) -> dict:
    """The admin's change form for ``user`` as the browser sends it, with ``changes``."""
    joined = timezone.localtime(user.date_joined)
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "groups": [g.pk for g in user.groups.all()],
        "user_permissions": [p.pk for p in user.user_permissions.all()],
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "last_login_0": "",
        "last_login_1": "",
        "reason": "",
        **changes,
    }
    # A checkbox that is not ticked is not sent at all.
    return {name: value for name, value in data.items() if value is not False}


def change(client, user, **changes):
    return client.post(f"/admin/auth/user/{user.pk}/change/", form_of(user, **changes))


def test_the_admin_records_each_change_from_what_to_what_by_whom_and_why(client, root, alice, bob, council):
    auditors = Group.objects.create(name="Auditors")
    response = change(
        client, bob,
        username="robert", email="robert@sunderland.gov.uk", is_staff=True, is_active=False,
        groups=[auditors.pk], reason="Moved to the audit team",
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    event = PersonEvent.objects.get()
    assert (event.action, event.organisation, event.person, event.actor) == (
        PersonEvent.Action.CHANGED_IN_ADMIN, council, bob, root,
    )
    assert event.changes == {
        "username": ["bob", "robert"],
        "email": ["bob@sunderland.gov.uk", "robert@sunderland.gov.uk"],
        "is_active": [True, False],
        "is_staff": [False, True],
        "groups": [[], ["Auditors"]],
    }
    assert event.reason == "Moved to the audit team"

    client.force_login(alice)
    page = unescape(client.get(f"/people/{bob.pk}/").content.decode())
    assert "Account changed in the Django admin" in page
    assert "Email address: bob@sunderland.gov.uk to robert@sunderland.gov.uk" in page
    assert "Staff status: no to yes" in page and "Groups: none to Auditors" in page
    assert "Moved to the audit team" in page


def test_superuser_status_and_permissions_are_recorded_and_the_reason_is_optional(client, root, bob):
    assert change(client, bob, is_superuser=True).status_code == 302
    event = PersonEvent.objects.get()
    assert event.changes == {"is_superuser": [False, True]} and event.reason == ""
    assert event.actor == root


def test_saving_without_a_change_records_nothing(client, root, bob):
    assert change(client, bob).status_code == 302
    assert change(client, bob, reason="Only looking").status_code == 302
    assert not PersonEvent.objects.exists()


def test_an_email_address_another_account_has_is_refused_and_nothing_changes(client, root, alice, bob):
    response = change(client, bob, email="ALICE@sunderland.gov.uk", is_staff=True)
    assert response.status_code == 200
    assert (
        "ALICE@sunderland.gov.uk is the email address of alice: single sign-on finds people by email "
        "address, so two accounts cannot share one." in unescape(response.content.decode())
    )
    bob.refresh_from_db()
    assert bob.email == "bob@sunderland.gov.uk" and not bob.is_staff
    assert not PersonEvent.objects.exists()


def test_an_account_made_in_the_admin_is_recorded_with_its_first_password(client, root, alice, council):
    response = client.post("/admin/auth/user/add/", {
        "username": "newbie", "usable_password": "true",
        "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "reason": "Starts on Monday",
    })
    assert response.status_code == 302
    newbie = User.objects.get(username="newbie")
    created = PersonEvent.objects.get()
    assert (created.action, created.organisation, created.person, created.actor, created.reason) == (
        PersonEvent.Action.CREATED_IN_ADMIN, None, newbie, root, "Starts on Monday",
    )
    assert created.changes["username"] == [None, "newbie"]
    password = AccountEvent.objects.get()
    assert (password.kind, password.person, password.actor, password.note) == (
        AccountEvent.Kind.PASSWORD_SET, newbie, root, "In the Django admin.",
    )
    assert NEW_PASSWORD not in str(created.changes) + password.note

    # Once they join an organisation, its admin sees what was done before.
    Membership.objects.create(user=newbie, organisation=council, role=Role.READER)
    client.force_login(alice)
    page = unescape(client.get(f"/people/{newbie.pk}/").content.decode())
    assert "Account created in the Django admin" in page and "Starts on Monday" in page


def test_setting_someones_password_in_the_admin_is_recorded_not_the_password(client, root, bob):
    response = client.post(f"/admin/auth/user/{bob.pk}/password/", {
        "usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
    })
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.check_password(NEW_PASSWORD)
    event = AccountEvent.objects.get()
    assert (event.kind, event.person, event.actor, event.note) == (
        AccountEvent.Kind.PASSWORD_CHANGED, bob, root, "In the Django admin.",
    )
    assert NEW_PASSWORD not in " ".join(str(getattr(event, f.attname)) for f in event._meta.concrete_fields)


def test_a_refused_password_in_the_admin_records_nothing(client, root, bob):
    response = client.post(f"/admin/auth/user/{bob.pk}/password/", {
        "usable_password": "true", "password1": "short", "password2": "short",
    })
    assert response.status_code == 200
    bob.refresh_from_db()
    assert bob.check_password("pw")
    assert not AccountEvent.objects.exists()


def test_turning_password_sign_in_off_in_the_admin_is_recorded(client, root, bob):
    response = client.post(f"/admin/auth/user/{bob.pk}/password/", {
        "usable_password": "false", "unset-password": "1",
    })
    assert response.status_code == 302
    bob.refresh_from_db()
    assert not bob.has_usable_password()
    event = AccountEvent.objects.get()
    assert (event.kind, event.person, event.actor) == (AccountEvent.Kind.PASSWORD_DISABLED, bob, root)


def test_deleting_an_account_in_the_admin_is_recorded(client, root, bob, council):
    response = client.post(f"/admin/auth/user/{bob.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(username="bob").exists()
    event = PersonEvent.objects.get()
    assert (event.action, event.organisation, event.person, event.actor) == (
        PersonEvent.Action.DELETED_IN_ADMIN, council, None, root,
    )
    assert event.changes == {"username": ["bob", None], "email": ["bob@sunderland.gov.uk", None]}
