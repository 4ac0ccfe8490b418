"""Two-factor authentication: who is asked, the two steps, and what an unverified person
cannot reach (issue 8: "a commissioner without a second factor cannot reach sign-off")."""

from __future__ import annotations

import re
import time
from base64 import b32encode
from urllib.parse import quote

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from accounts.models import AccountEvent
from accounts.twofactor import SIGN_IN_METHOD_KEY, SIGN_IN_METHOD_OIDC
from contracts.models import ReturnState, Role
from tests.accounts.helpers import code_for, unused_code
from tests.factories import OrganisationFactory, UserFactory, member
from tests.returns_pages.conftest import Cast

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("two_factor_on")]

SET_UP = "/accounts/two-factor/set-up/"
VERIFY = "/accounts/two-factor/"


@pytest.fixture
def cast() -> Cast:
    return Cast()


@pytest.fixture
def submitted(cast):
    return cast.return_in(cast.own, ReturnState.SUBMITTED)


def sign_in(client, username: str, next_path: str = "/"):
    return client.post(f"/accounts/login/?next={quote(next_path)}", {"username": username, "password": "pw"})


def device_for(user, confirmed: bool = True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=confirmed)


def state_of(monthly_return) -> str:
    monthly_return.refresh_from_db()
    return monthly_return.state


def test_a_commissioner_without_a_second_factor_cannot_reach_sign_off(client, cast, submitted):
    response = sign_in(client, "commissioner", f"/returns/{submitted.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"{SET_UP}?next=/returns/{submitted.pk}/"

    page = client.get(f"/returns/{submitted.pk}/")
    assert page.status_code == 302 and page["Location"].startswith(SET_UP)

    posted = client.post(f"/returns/{submitted.pk}/sign-off/")
    assert posted.status_code == 302 and posted["Location"] == SET_UP  # a POST is not replayed

    api = client.post(f"/api/v1/returns/{submitted.pk}/sign-off/", content_type="application/json")
    assert api.status_code == 403
    assert "Two-factor authentication is needed" in api.json()["detail"]

    assert state_of(submitted) == ReturnState.SUBMITTED


def test_setting_up_an_authenticator_then_signing_off(client, cast, submitted):
    sign_in(client, "commissioner", f"/returns/{submitted.pk}/")
    page = client.get(f"{SET_UP}?next=/returns/{submitted.pk}/")
    device = TOTPDevice.objects.get(user=cast["commissioner"], confirmed=False)
    secret = b32encode(device.bin_key).decode()
    html = page.content.decode()
    shown = re.search(r'id="two-factor-secret">([A-Z2-7 ]+)<', html).group(1)
    assert shown.replace(" ", "") == secret
    assert f"otpauth://totp/Contract%20Monitor%3Acommissioner?secret={secret}" in html
    # The key stays the same on a second visit, so an app that has it stays right.
    client.get(SET_UP)
    assert TOTPDevice.objects.filter(user=cast["commissioner"]).count() == 1

    wrong = client.post(SET_UP, {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert "That code is not right" in wrong.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    time.sleep(1.1)  # after a wrong code, django-otp checks no other for a second

    done = client.post(SET_UP, {"code": code_for(device), "next": f"/returns/{submitted.pk}/"})
    assert done["Location"] == f"/returns/{submitted.pk}/"
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    event = AccountEvent.objects.get()
    assert (event.kind, event.person, event.actor) == (
        AccountEvent.Kind.TWO_FACTOR_ENROLLED,
        cast["commissioner"],
        cast["commissioner"],
    )

    assert client.post(f"/returns/{submitted.pk}/sign-off/").status_code == 302
    assert state_of(submitted) == ReturnState.SIGNED_OFF


def test_with_a_verified_authenticator_the_api_signs_off(client, cast, submitted):
    device = device_for(cast["commissioner"])
    response = sign_in(client, "commissioner")
    assert response["Location"] == f"{VERIFY}?next=/"
    assert client.get(f"{VERIFY}?next=/").status_code == 200

    response = client.post(VERIFY, {"code": code_for(device), "next": "/"})
    assert response["Location"] == "/"

    api = client.post(f"/api/v1/returns/{submitted.pk}/sign-off/", content_type="application/json")
    assert api.status_code == 200, api.content
    assert state_of(submitted) == ReturnState.SIGNED_OFF


def test_a_wrong_code_is_refused_and_the_person_stays_on_the_step(client, cast, submitted):
    device = device_for(cast["commissioner"])
    sign_in(client, "commissioner")
    for bad, message in [
        ("", "Enter the 6-digit code from your authenticator app"),
        ("12ab56", "The code must be 6 digits, like 123456"),
        ("1234567", "The code must be 6 digits, like 123456"),
    ]:
        response = client.post(VERIFY, {"code": bad})
        assert response.status_code == 200
        assert message in response.content.decode()
    wrong = next(c for c in ("000000", "111111", "222222") if c not in {code_for(device, s) for s in (-1, 0, 1)})
    response = client.post(VERIFY, {"code": wrong})
    assert "That code is not right" in response.content.decode()
    assert client.post(f"/returns/{submitted.pk}/sign-off/").status_code == 302
    assert state_of(submitted) == ReturnState.SUBMITTED


def test_a_code_with_spaces_is_accepted(client, cast):
    device = device_for(cast["commissioner"])
    sign_in(client, "commissioner")
    code = code_for(device)
    response = client.post(VERIFY, {"code": f" {code[:3]} {code[3:]} "})
    assert response["Location"] == "/"


def test_each_code_works_once(client, cast):
    device = device_for(cast["commissioner"])
    sign_in(client, "commissioner")
    code = code_for(device)
    assert client.post(VERIFY, {"code": code})["Location"] == "/"
    client.post("/accounts/logout/")
    sign_in(client, "commissioner")
    response = client.post(VERIFY, {"code": code})
    assert "That code is not right" in response.content.decode()
    assert client.get("/").status_code == 302


def test_repeated_wrong_codes_make_the_person_wait(client, cast):
    device = device_for(cast["commissioner"])
    sign_in(client, "commissioner")
    valid = {code_for(device, s) for s in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)
    client.post(VERIFY, {"code": wrong})
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # django-otp doubles the wait with each wrong code in a row (1 s, 2 s, 4 s, ...); after
    # ten, it is over eight minutes. Meanwhile even the right code is not checked.
    device.throttling_failure_count = 10
    device.save()
    response = client.post(VERIFY, {"code": code_for(device)})
    assert "Too many wrong codes in a row: wait until" in response.content.decode()
    assert client.get("/").status_code == 302


def test_a_password_alone_never_sets_up_a_new_authenticator(client, cast):
    device_for(cast["commissioner"])
    sign_in(client, "commissioner")
    response = client.get(SET_UP)
    assert response["Location"] == f"{VERIFY}?next=/"
    assert TOTPDevice.objects.filter(user=cast["commissioner"]).count() == 1


@pytest.mark.parametrize("role", [Role.PROVIDER_EDITOR, Role.PROVIDER_LEAD, Role.READER, Role.OFFICER])
def test_other_roles_are_not_asked(client, cast, role):
    response = sign_in(client, role.value)
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("role", [Role.COMMISSIONER, Role.ADMIN])
def test_commissioners_and_admins_must_set_one_up(client, cast, role):
    assert sign_in(client, role.value)["Location"] == f"{SET_UP}?next=/"


def test_django_staff_without_a_role_must_set_one_up(client):
    staff = UserFactory(username="operator", is_staff=True)
    staff.save()
    assert sign_in(client, "operator")["Location"] == f"{SET_UP}?next=/"
    assert client.get("/admin/").status_code == 302


def test_anyone_who_set_one_up_is_asked_for_the_code(client, cast):
    device_for(cast["provider_editor"])
    assert sign_in(client, "provider_editor")["Location"] == f"{VERIFY}?next=/"
    assert client.get("/returns/")["Location"] == f"{VERIFY}?next=/returns/"


def test_with_the_setting_off_no_one_is_asked(client, cast, settings):
    settings.TWO_FACTOR_REQUIRED = False
    device_for(cast["commissioner"])
    page = client.get("/accounts/login/").content.decode()
    assert 'id="two-factor-off"' in page
    assert sign_in(client, "commissioner")["Location"] == "/"
    assert client.get("/").status_code == 200


def test_with_the_setting_on_the_sign_in_page_does_not_say_it_is_off(client):
    assert 'id="two-factor-off"' not in client.get("/accounts/login/").content.decode()


def test_a_single_sign_on_session_is_exempt(client, cast, submitted):
    client.force_login(cast["commissioner"])
    session = client.session
    session[SIGN_IN_METHOD_KEY] = SIGN_IN_METHOD_OIDC
    session.save()
    assert client.get(f"/returns/{submitted.pk}/").status_code == 200
    assert client.post(f"/returns/{submitted.pk}/sign-off/").status_code == 302
    assert state_of(submitted) == ReturnState.SIGNED_OFF


def test_a_password_session_is_not(client, cast):
    sign_in(client, "commissioner")
    assert client.session[SIGN_IN_METHOD_KEY] == "password"
    assert client.get("/").status_code == 302


def test_api_token_requests_are_not_asked_for_a_code(client, cast, submitted):
    token = Token.objects.create(user=cast["commissioner"])
    response = client.post(
        f"/api/v1/returns/{submitted.pk}/sign-off/",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 200, response.content
    assert state_of(submitted) == ReturnState.SIGNED_OFF


def test_a_token_header_opens_no_web_page(client, cast, submitted):
    token = Token.objects.create(user=cast["commissioner"])
    sign_in(client, "commissioner")
    response = client.post(f"/returns/{submitted.pk}/sign-off/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 302 and response["Location"] == SET_UP
    assert state_of(submitted) == ReturnState.SUBMITTED


def test_signing_out_is_open_during_the_step(client, cast):
    sign_in(client, "commissioner")
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_the_health_probes_answer_during_the_step(client, cast):
    # A browser signed in but owing its code must not turn the probes into redirects.
    sign_in(client, "commissioner")
    assert client.get("/healthz/live").status_code == 200
    assert client.get("/healthz", headers={"Accept": "application/json"}).status_code == 200


def test_the_step_shows_no_navigation_beyond_signing_out(client, cast):
    sign_in(client, "commissioner")
    html = client.get(SET_UP).content.decode()
    assert 'href="/returns/"' not in html and "Your account" not in html
    assert "Sign out" in html


def test_next_never_leads_off_the_site(client, cast):
    device = device_for(cast["commissioner"])
    sign_in(client, "commissioner")
    response = client.post(VERIFY, {"code": code_for(device), "next": "https://elsewhere.example/"})
    assert response["Location"] == "/"


def test_removing_the_authenticator_takes_a_code_and_is_recorded(client, cast):
    device = device_for(cast["commissioner"])
    sign_in(client, "commissioner")
    client.post(VERIFY, {"code": code_for(device)})
    assert client.get("/accounts/two-factor/remove/").status_code == 200
    refused = client.post("/accounts/two-factor/remove/", {"code": ""})
    assert "Enter the 6-digit code" in refused.content.decode()
    assert TOTPDevice.objects.filter(pk=device.pk).exists()

    response = client.post("/accounts/two-factor/remove/", {"code": unused_code(device)})
    assert response["Location"] == SET_UP
    assert not TOTPDevice.objects.filter(user=cast["commissioner"]).exists()
    event = AccountEvent.objects.get()
    assert event.kind == AccountEvent.Kind.TWO_FACTOR_REMOVED and event.actor == cast["commissioner"]
    # The session's verification went with the device: the role needs a new one first.
    assert client.get("/")["Location"] == f"{SET_UP}?next=/"


def test_an_admin_removes_a_lost_authenticator_in_the_django_admin(client, cast):
    device = device_for(cast["provider_editor"])
    operator = UserFactory(username="operator", is_staff=True, is_superuser=True)
    operator.save()
    admin_device = device_for(operator)
    sign_in(client, "operator")
    client.post(VERIFY, {"code": code_for(admin_device)})
    page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200
    assert device.key not in page.content.decode()  # the key is never shown
    assert client.get("/admin/otp_totp/totpdevice/add/").status_code == 403

    response = client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    event = AccountEvent.objects.get(person=cast["provider_editor"])
    assert (event.kind, event.actor, event.note) == (
        AccountEvent.Kind.TWO_FACTOR_REMOVED,
        operator,
        "In the Django admin.",
    )


def test_the_role_decides_not_the_username(client):
    # A reader called "admin" is not asked.
    member(OrganisationFactory(), Role.READER, "admin")
    assert sign_in(client, "admin")["Location"] == "/"
