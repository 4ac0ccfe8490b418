"""The people pages: an organisation's admin invites, sets roles, deactivates; an
invitee joins once, before the link expires; every change is in the history."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import AccountEvent
from contracts.models import Membership, Role
from identity import people
from identity.models import Invitation, PersonEvent
from tests.identity.conftest import person

User = get_user_model()
GOOD_PASSWORD = "kestrel-harbour-lantern"


def text(response) -> str:
    return unescape(response.content.decode())


def invite(client, email="new.person@sunderland.gov.uk", role=Role.COMMISSIONER):
    return client.post("/people/invite/", {"email": email, "role": role})


def link_in(message) -> str:
    return re.search(r"http://\S+/people/join/\S+/", message.body).group(0)


def path_of(url: str) -> str:
    return urlsplit(url).path


def join(client, path, **overrides):
    data = {"first_name": "New", "last_name": "Person", "username": "newperson",
            "password": GOOD_PASSWORD, "password_again": GOOD_PASSWORD, **overrides}
    return client.post(path, data)


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


# --- who may ---------------------------------------------------------------------------------


def test_someone_signed_out_is_sent_to_sign_in(client, db):
    response = client.get("/people/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", [Role.READER, Role.COMMISSIONER, Role.OFFICER])
def test_only_an_admin_manages_people(client, council, alice, role):
    someone = person(council, role, "someone", "someone@sunderland.gov.uk")
    client.force_login(someone)
    for url in ("/people/", "/people/invite/", f"/people/{alice.pk}/"):
        assert client.get(url).status_code == 403
    assert client.post(f"/people/{alice.pk}/role/", {"role": Role.READER}).status_code == 403
    assert client.post(f"/people/{alice.pk}/deactivate/", {"reason": "x"}).status_code == 403
    assert invite(client).status_code == 403
    alice.refresh_from_db()
    assert alice.is_active and alice.membership.role == Role.ADMIN
    assert not Invitation.objects.exists()


def test_a_provider_has_no_admin_role_so_its_lead_cannot_manage_people(client, provider):
    lead = person(provider, Role.PROVIDER_LEAD, "lead", "lead@tfc.org.uk")
    client.force_login(lead)
    assert client.get("/people/").status_code == 403


def test_another_organisations_people_are_invisible(as_alice, charlie, dora):
    assert as_alice.get(f"/people/{dora.pk}/").status_code == 404
    assert as_alice.post(f"/people/{dora.pk}/role/", {"role": Role.ADMIN}).status_code == 404
    assert as_alice.post(f"/people/{dora.pk}/deactivate/", {"reason": "Left"}).status_code == 404
    dora.refresh_from_db()
    assert dora.is_active and dora.membership.role == Role.READER
    listing = text(as_alice.get("/people/"))
    assert "dora@northfield.gov.uk" not in listing and "charlie" not in listing.lower()


def test_another_organisations_invitation_cannot_be_withdrawn(as_alice, charlie):
    theirs = people.invite(charlie, "x@northfield.gov.uk", Role.READER)
    assert as_alice.post(f"/people/invitations/{theirs.pk}/withdraw/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.withdrawn_at is None


def test_the_people_link_shows_for_admins_only(client, alice, bob):
    client.force_login(alice)
    assert 'href="/people/"' in client.get("/").text
    client.force_login(bob)
    assert 'href="/people/"' not in client.get("/").text


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_the_organisations_people_in_a_fixed_number_of_queries(as_alice, council, bob):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = as_alice.get("/people/")
        assert response.status_code == 200
        return len(captured)

    queries()  # the first request warms per-process caches
    few = queries()
    for n in range(8):
        person(council, Role.READER, f"reader{n}", f"reader{n}@sunderland.gov.uk")
        people.invite(User.objects.get(username="alice"), f"invitee{n}@sunderland.gov.uk", Role.READER)
    assert queries() == few
    page = text(as_alice.get("/people/"))
    assert "bob@sunderland.gov.uk" in page and "reader7@sunderland.gov.uk" in page
    assert "invitee7@sunderland.gov.uk" in page


# --- inviting and joining ------------------------------------------------------------------


def test_an_admin_invites_someone_who_joins_with_the_invited_role(as_alice, client, alice, council):
    response = invite(as_alice)
    assert response.status_code == 302 and response["Location"] == "/people/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@sunderland.gov.uk"]
    assert "Sunderland City Council as commissioner" in message.body
    invitation = Invitation.objects.get()
    assert invitation.invited_by == alice and invitation.last_sent_at is not None
    assert invitation.history.earliest().history_user == alice
    assert PersonEvent.objects.get(action="invited").actor == alice

    as_alice.logout()
    link = path_of(link_in(message))
    form = client.get(link)
    assert form.status_code == 200
    assert 'value="new.person"' in form.text  # a username suggested from the email
    joined = join(client, link)
    assert joined.status_code == 302 and joined["Location"] == "/people/join/done/"

    user = User.objects.get(username="newperson")
    assert user.email == "new.person@sunderland.gov.uk" and user.check_password(GOOD_PASSWORD)
    assert (user.membership.organisation, user.membership.role) == (council, Role.COMMISSIONER)
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None and invitation.user == user
    assert invitation.history.first().history_user == user
    event = PersonEvent.objects.get(action="joined")
    assert (event.person, event.actor, event.to_role) == (user, user, Role.COMMISSIONER)
    assert "Accepted the invitation from Alice" == event.reason
    assert "Your account is ready" in text(client.get(joined["Location"]))
    client.force_login(alice)
    history = text(client.get(f"/people/{user.pk}/"))
    assert ">Invited</th>" in history and ">Accepted the invitation</th>" in history


def test_an_invitation_link_works_once(as_alice, client):
    invite(as_alice)
    as_alice.logout()
    link = path_of(link_in(mail.outbox[0]))
    assert join(client, link).status_code == 302

    again = client.get(link)
    assert again.status_code == 410
    assert "already been used" in text(again)
    second = join(client, link, username="someoneelse")
    assert second.status_code == 410
    assert User.objects.filter(email__iexact="new.person@sunderland.gov.uk").count() == 1


def test_an_expired_invitation_is_refused_and_creates_nothing(as_alice, client):
    invite(as_alice)
    as_alice.logout()
    link = path_of(link_in(mail.outbox[0]))
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    page = client.get(link)
    assert page.status_code == 410
    assert "This invitation expired on" in text(page) and "Ask Alice to invite you again" in text(page)
    assert join(client, link).status_code == 410
    assert not User.objects.filter(username="newperson").exists()


def test_invitations_expire_after_the_configured_days(as_alice, settings):
    settings.INVITATION_MAX_AGE_DAYS = 2
    invite(as_alice)
    invitation = Invitation.objects.get()
    assert invitation.expires_at - invitation.created_at == timedelta(days=2)


def test_a_withdrawn_or_tampered_link_is_refused(as_alice, client, alice):
    invite(as_alice)
    invitation = Invitation.objects.get()
    link = path_of(link_in(mail.outbox[0]))
    withdrawn = as_alice.post(f"/people/invitations/{invitation.pk}/withdraw/")
    assert withdrawn.status_code == 302
    invitation.refresh_from_db()
    assert invitation.withdrawn_by == alice and invitation.history.first().history_user == alice
    assert PersonEvent.objects.filter(action="invitation_withdrawn", actor=alice).exists()
    as_alice.logout()

    assert "This invitation was withdrawn" in text(client.get(link))
    tampered = link.replace(link.split("/")[-2], link.split("/")[-2][:-3] + "abc")
    page = client.get(tampered)
    assert page.status_code == 410 and "This invitation link is not valid" in text(page)


def test_sending_again_emails_the_same_invitation_and_is_recorded(as_alice, alice):
    invite(as_alice)
    invitation = Invitation.objects.get()
    assert as_alice.post(f"/people/invitations/{invitation.pk}/send-again/").status_code == 302
    assert len(mail.outbox) == 2 and mail.outbox[1].to == [invitation.email]
    assert PersonEvent.objects.filter(action="invitation_sent_again", actor=alice).exists()


def test_a_bad_invitation_is_explained_and_what_was_typed_is_kept(as_alice, bob):
    missing = as_alice.post("/people/invite/", {"email": "not an email"})
    assert missing.status_code == 400
    page = text(missing)
    assert "Enter an email address in the correct format, like name@example.org." in page
    assert "Choose a role." in page
    assert 'value="not an email"' in page
    assert 'href="#id_role_0"' in page  # the summary leads to the first radio

    taken = invite(as_alice, email="BOB@sunderland.gov.uk")
    assert taken.status_code == 400
    assert "BOB@sunderland.gov.uk already has an account on this service" in text(taken)

    other_side = invite(as_alice, role=Role.PROVIDER_EDITOR)
    assert other_side.status_code == 400 and "Choose one of the roles listed." in text(other_side)

    invite(as_alice, email="twice@sunderland.gov.uk", role=Role.READER)
    twice = invite(as_alice, email="twice@sunderland.gov.uk", role=Role.READER)
    assert twice.status_code == 400 and "An invitation to twice@sunderland.gov.uk is already waiting" in text(twice)
    assert Invitation.objects.count() == 1
    assert len(mail.outbox) == 1


def test_a_weak_or_mismatched_password_is_explained_and_the_rest_kept(as_alice, client):
    invite(as_alice)
    as_alice.logout()
    link = path_of(link_in(mail.outbox[0]))

    weak = join(client, link, password="password", password_again="password")
    assert weak.status_code == 400
    page = text(weak)
    assert "This password is too common." in page
    assert 'value="New"' in page and 'value="newperson"' in page
    assert 'value="password"' not in page  # a password is never written back
    mismatched = join(client, link, password_again=GOOD_PASSWORD + "x")
    assert mismatched.status_code == 400
    assert "The two passwords are not the same" in text(mismatched)
    taken = join(client, link, username="ALICE")
    assert taken.status_code == 400 and "The username ALICE is taken" in text(taken)
    assert not User.objects.filter(username="newperson").exists()
    assert Invitation.objects.get().accepted_at is None


def test_someone_signed_in_cannot_accept_an_invitation_for_another(as_alice):
    invite(as_alice)
    page = as_alice.get(path_of(link_in(mail.outbox[0])))
    assert page.status_code == 409 and "You are signed in as alice" in text(page)


# --- roles and deactivation -------------------------------------------------------------------


def test_changing_a_role_is_recorded_with_who_and_why(as_alice, alice, bob):
    response = as_alice.post(f"/people/{bob.pk}/role/", {"role": Role.COMMISSIONER, "reason": "Joined the team"})
    assert response.status_code == 302
    membership = Membership.objects.get(user=bob)
    assert membership.role == Role.COMMISSIONER
    latest = membership.history.first()
    assert (latest.history_user, latest.history_change_reason) == (alice, "Joined the team")
    event = PersonEvent.objects.get(action="role_changed")
    assert (event.person, event.actor, event.from_role, event.to_role, event.reason) == (
        bob, alice, Role.READER, Role.COMMISSIONER, "Joined the team"
    )
    page = text(as_alice.get(f"/people/{bob.pk}/"))
    assert "Reader to Commissioner" in page and "Joined the team" in page


def test_changing_a_role_needs_a_reason_and_keeps_what_was_chosen(as_alice, bob):
    response = as_alice.post(f"/people/{bob.pk}/role/", {"role": Role.COMMISSIONER, "reason": "   "})
    assert response.status_code == 400
    page = text(response)
    assert "Give the reason: it is kept in the person's history." in page
    assert 'href="#role-form-reason"' in page  # the error summary leads to the role form's box
    assert 'id="role-form-reason"' in page and 'id="id_reason"' in page  # not the deactivation one
    assert re.search(r'value="commissioner" checked', page)  # the role chosen stays chosen
    assert Membership.objects.get(user=bob).role == Role.READER
    assert not PersonEvent.objects.exists()


def test_a_role_change_without_a_reason_is_refused_whoever_asks(alice, bob):
    with pytest.raises(ValidationError) as refused:
        people.change_role(alice, bob.pk, Role.COMMISSIONER, " ")
    assert refused.value.message_dict == {"reason": ["Say why you change the role of Bob."]}
    assert Membership.objects.get(user=bob).role == Role.READER


def test_joining_records_the_first_password_not_the_password_itself(as_alice, client):
    invite(as_alice)
    as_alice.logout()
    assert join(client, path_of(link_in(mail.outbox[0]))).status_code == 302
    user = User.objects.get(username="newperson")
    event = AccountEvent.objects.get()
    assert (event.kind, event.person, event.actor) == (AccountEvent.Kind.PASSWORD_SET, user, user)
    assert event.note == f"Chosen on accepting invitation {Invitation.objects.get().pk}."
    assert GOOD_PASSWORD not in " ".join(str(getattr(event, f.attname)) for f in event._meta.concrete_fields)


def test_an_admin_cannot_change_or_deactivate_themselves(as_alice, alice):
    same = as_alice.post(f"/people/{alice.pk}/role/", {"role": Role.READER, "reason": "Stepping back"})
    assert same.status_code == 400
    assert "You cannot change the role of yourself" in text(same)
    off = as_alice.post(f"/people/{alice.pk}/deactivate/", {"reason": "Leaving"})
    assert off.status_code == 400 and "You cannot deactivate yourself" in text(off)
    alice.refresh_from_db()
    assert alice.is_active and alice.membership.role == Role.ADMIN


def test_the_same_role_again_is_explained(as_alice, bob):
    response = as_alice.post(f"/people/{bob.pk}/role/", {"role": Role.READER, "reason": "typed reason"})
    assert response.status_code == 400
    page = text(response)
    assert "Bob is already reader." in page
    assert "typed reason</textarea>" in page
    assert not PersonEvent.objects.exists()


def test_deactivating_needs_a_reason_and_signs_the_person_out(as_alice, alice, bob):
    bobs_browser = Client()
    bobs_browser.force_login(bob)
    assert bobs_browser.get("/").status_code == 200
    token = Token.objects.create(user=bob)
    bobs_script = Client(headers={"Authorization": f"Token {token.key}"})
    assert bobs_script.get("/api/v1/contracts/").status_code == 200

    no_reason = as_alice.post(f"/people/{bob.pk}/deactivate/", {"reason": "  "})
    assert no_reason.status_code == 400 and "Give the reason" in text(no_reason)
    bob.refresh_from_db()
    assert bob.is_active

    done = as_alice.post(f"/people/{bob.pk}/deactivate/", {"reason": "Left the council"})
    assert done.status_code == 302
    bob.refresh_from_db()
    assert not bob.is_active
    assert bobs_browser.get("/").status_code == 302  # signed out at the next request
    assert bobs_script.get("/api/v1/contracts/").status_code == 401
    event = PersonEvent.objects.get(action="deactivated")
    assert (event.actor, event.reason) == (alice, "Left the council")

    back = as_alice.post(f"/people/{bob.pk}/reactivate/", {"reason": "Came back"})
    assert back.status_code == 302
    bob.refresh_from_db()
    assert bob.is_active
    assert PersonEvent.objects.filter(action="reactivated", actor=alice, reason="Came back").exists()
    history = text(as_alice.get(f"/people/{bob.pk}/"))
    assert "Deactivated" in history and "Left the council" in history and "Came back" in history


def test_a_superuser_is_managed_in_the_django_admin_only(as_alice, council):
    boss = User.objects.create_superuser("boss", "boss@sunderland.gov.uk", "pw")
    Membership.objects.create(user=boss, organisation=council, role=Role.ADMIN)
    response = as_alice.post(f"/people/{boss.pk}/deactivate/", {"reason": "Because"})
    assert response.status_code == 400 and "manage them in the Django admin" in text(response)
    boss.refresh_from_db()
    assert boss.is_active
