"""The demo's commissioner and admin have authenticators with published keys."""

from __future__ import annotations

import re
from base64 import b32decode
from io import StringIO

import pytest
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from contracts import demo

pytestmark = pytest.mark.django_db


def load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_the_commissioner_and_admin_have_the_published_keys():
    load()
    devices = {d.user.username: d for d in TOTPDevice.objects.select_related("user")}
    assert set(devices) == {"commissioner", "admin"}
    for username, secret in demo.TOTP_SECRETS.items():
        assert devices[username].confirmed
        assert devices[username].bin_key == b32decode(secret)


def test_the_output_gives_each_key_and_says_whether_codes_are_asked(settings):
    output = load()
    assert "Two-factor authentication is off here (TWO_FACTOR_REQUIRED" in output
    assert re.search(r"^  commissioner +DEMOCOMMISSIONERSECRETKEYTWOFAAA$", output, re.M)
    assert re.search(r"^  admin +DEMOADMINSECRETKEYFORTWOFACTORAA$", output, re.M)
    settings.TWO_FACTOR_REQUIRED = True
    assert "Two-factor authentication is on: commissioner and admin also enter" in load()


@pytest.mark.usefixtures("two_factor_on")
def test_the_demo_commissioner_signs_in_with_a_code_from_the_published_key(client):
    load()
    response = client.post(
        "/accounts/login/", {"username": "commissioner", "password": demo.DEMO_PASSWORD}
    )
    assert response["Location"] == "/accounts/two-factor/?next=/"
    code = f"{totp(b32decode(demo.TOTP_SECRETS['commissioner'])):06d}"
    assert client.post("/accounts/two-factor/", {"code": code})["Location"] == "/"
    assert "Together for Children" in client.get("/").content.decode()


def test_a_rerun_puts_back_a_removed_authenticator():
    load()
    TOTPDevice.objects.filter(user__username="admin").delete()
    load()
    assert TOTPDevice.objects.filter(user__username="admin", confirmed=True).count() == 1
