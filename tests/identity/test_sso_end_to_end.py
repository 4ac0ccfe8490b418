"""Single sign-on end to end, against a real OpenID provider in its own process.

The provider is django-oauth-toolkit serving OpenID Connect (``tests/oidc_provider``),
with an RSA key made here, on a free port, with its own SQLite database. A browser is
played by ``requests`` on the provider's side (its sign-in form and consent page) and
by Django's test client on the service's side; the service's backend calls the
provider's token, JWKS and userinfo endpoints over HTTP, as it would in production,
and the provider's request log proves it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model

from contracts.models import Membership, Role
from identity.models import PersonEvent, SignInRule

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "contract-monitor"
CLIENT_SECRET = "a-long-client-secret-for-the-tests-only"
REDIRECT_URI = "http://testserver/sso/callback/"
PASSWORD = "provider-password-1"
PEOPLE = [
    {"username": "ann", "email": "Ann.Reader@sunderland.gov.uk", "first_name": "Ann", "last_name": "Reader", "groups": []},
    {"username": "cas", "email": "cas@sunderland.gov.uk", "first_name": "Cas", "last_name": "Commissioner",
     "groups": ["staff", "contract-commissioners"]},
    {"username": "zed", "email": "zed@elsewhere.example", "first_name": "Zed", "last_name": "Nobody", "groups": ["staff"]},
]


@dataclass
class Provider:
    url: str
    config: dict
    log: Path

    def requests_logged(self) -> str:
        return self.log.read_text()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def provider(tmp_path_factory) -> Provider:
    folder = tmp_path_factory.mktemp("oidc-provider")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    people = folder / "people.json"
    people.write_text(json.dumps([{**p, "password": PASSWORD} for p in PEOPLE]))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))},
        "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
        "OIDC_PROVIDER_DB": str(folder / "provider.sqlite3"),
        "OIDC_RSA_PRIVATE_KEY": pem,
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run(
        [sys.executable, "-m", "django", "prepare_provider", "--client-id", CLIENT_ID,
         "--client-secret", CLIENT_SECRET, "--redirect-uri", REDIRECT_URI, "--people", str(people)],
        cwd=ROOT, env=env, check=True, timeout=120, capture_output=True,
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "requests.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                pytest.fail(f"The OpenID provider stopped on starting:\n{log.read_text()}")
            try:
                response = requests.get(f"{url}/o/.well-known/openid-configuration", timeout=2)
                if response.status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"The OpenID provider did not answer within 30 s:\n{log.read_text()}")
            time.sleep(0.2)
        yield Provider(url=url, config=response.json(), log=log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def sso(settings, provider, lockout_on, two_factor_on):
    """The service configured for the provider, as its OIDC_* environment would, with
    production's lockout and second-factor checks on."""
    config = provider.config
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = config["authorization_endpoint"]
    settings.OIDC_OP_TOKEN_ENDPOINT = config["token_endpoint"]
    settings.OIDC_OP_USER_ENDPOINT = config["userinfo_endpoint"]
    settings.OIDC_OP_JWKS_ENDPOINT = config["jwks_uri"]
    settings.OIDC_OP_ISSUER = config["issuer"]
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    return provider


@pytest.fixture
def rules(council):
    domain = SignInRule.objects.create(
        organisation=council, role=Role.READER, match=SignInRule.Match.EMAIL_DOMAIN,
        value="sunderland.gov.uk", priority=100,
    )
    group = SignInRule.objects.create(
        organisation=council, role=Role.COMMISSIONER, match=SignInRule.Match.GROUP,
        value="contract-commissioners", priority=10,
    )
    return domain, group


class _Form(HTMLParser):
    """The fields of the first form on a page, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._depth = 0
        self._done = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self._done:
            self._depth += 1
        elif tag == "input" and self._depth and attrs.get("name") and attrs.get("type") != "submit":
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form" and self._depth:
            self._depth -= 1
            self._done = True


def form_fields(html: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(html)
    return parser.fields


def sign_in_through_provider(client, provider: Provider, username: str):
    """Start at the service, sign in and consent at the provider, come back with the code.

    Returns the service's answer to the callback.
    """
    start = client.get("/sso/start/", {"next": "/"})
    assert start.status_code == 302
    authorize_url = start["Location"]
    assert authorize_url.startswith(provider.config["authorization_endpoint"])
    assert "code_challenge=" in authorize_url and "nonce=" in authorize_url

    browser = requests.Session()
    login_page = browser.get(authorize_url, timeout=10)  # not signed in there: its sign-in form
    assert login_page.status_code == 200 and "Identity provider" in login_page.text
    signed_in = browser.post(
        login_page.url,
        data={**form_fields(login_page.text), "username": username, "password": PASSWORD},
        allow_redirects=False,
        timeout=10,
    )
    assert signed_in.status_code == 302, signed_in.text
    consent = browser.get(urljoin(login_page.url, signed_in.headers["Location"]), allow_redirects=False, timeout=10)
    assert consent.status_code == 200 and "Authorize" in consent.text, consent.text
    answer = browser.post(
        consent.url, data={**form_fields(consent.text), "allow": "Authorize"}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text
    callback = answer.headers["Location"]
    assert callback.startswith(REDIRECT_URI)
    query = parse_qs(urlsplit(callback).query)
    assert "code" in query and "state" in query
    return client.get(urlsplit(callback).path, {k: v[0] for k, v in query.items()})


def test_a_person_signs_in_through_the_provider_with_the_role_a_rule_maps(client, sso, rules, alice):
    domain_rule, group_rule = rules
    logged_before = len(sso.requests_logged().splitlines())

    cas = sign_in_through_provider(client, sso, "cas")

    assert cas.status_code == 302 and cas["Location"] == "/"
    user = get_user_model().objects.get(email__iexact="cas@sunderland.gov.uk")
    assert user.get_full_name() == "Cas Commissioner"
    assert not user.has_usable_password()
    # The group rule (priority 10) wins over the domain rule (priority 100).
    assert (user.membership.organisation.slug, user.membership.role) == ("sunderland", Role.COMMISSIONER)
    assert user.external_account.rule == group_rule
    assert user.external_account.issuer == sso.config["issuer"]
    # A commissioner reaches the service without a code from an authenticator app: the
    # identity provider answers for the second factor.
    home = client.get("/")
    assert home.status_code == 200
    assert home.context["user"] == user
    assert client.session["sign_in_method"] == "oidc"
    # The service really asked the provider: token, signing keys and userinfo, over HTTP.
    asked = "\n".join(sso.requests_logged().splitlines()[logged_before:])
    assert '"POST /o/token/ HTTP/1.1" 200' in asked
    assert '"GET /o/.well-known/jwks.json HTTP/1.1" 200' in asked
    assert '"GET /o/userinfo/ HTTP/1.1" 200' in asked
    event = PersonEvent.objects.get(person=user)
    assert event.action == PersonEvent.Action.JOINED_BY_RULE and event.rule == group_rule


def test_a_person_no_rule_covers_is_refused_and_not_created(client, sso, rules):
    refused = sign_in_through_provider(client, sso, "zed")

    assert refused.status_code == 403
    assert "You cannot sign in with your organisation's account" in refused.text
    assert "No organisation here accepts zed@elsewhere.example" in refused.text
    assert not get_user_model().objects.filter(email__iexact="zed@elsewhere.example").exists()
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # still signed out


def test_a_changed_rule_updates_the_membership_at_the_next_sign_in(client, sso, rules, alice):
    domain_rule, _ = rules
    # An existing account with the same email (in another case) is the one signed in.
    existing = get_user_model().objects.create_user("ann.local", email="ann.reader@sunderland.gov.uk")
    first = sign_in_through_provider(client, sso, "ann")
    assert first.status_code == 302
    existing.refresh_from_db()
    assert existing.membership.role == Role.READER
    assert client.session["_auth_user_id"] == str(existing.pk)

    domain_rule.role = Role.OFFICER
    domain_rule._history_user = alice
    domain_rule.save()
    client.logout()
    again = sign_in_through_provider(client, sso, "ann")

    assert again.status_code == 302
    membership = Membership.objects.get(user=existing)
    assert membership.role == Role.OFFICER
    change = PersonEvent.objects.get(person=existing, action=PersonEvent.Action.CHANGED_BY_RULE)
    assert (change.from_role, change.to_role, change.rule) == (Role.READER, Role.OFFICER, domain_rule)
    latest = membership.history.first()
    assert latest.role == Role.OFFICER
    assert latest.history_user == existing
    assert f"sign-in rule {domain_rule.pk}" in latest.history_change_reason
    assert domain_rule.history.first().history_user == alice


def test_refused_people_do_not_lock_others_out_of_single_sign_on(client, settings, sso, rules):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(3):
        assert sign_in_through_provider(client, sso, "zed").status_code == 403

    cas = sign_in_through_provider(client, sso, "cas")

    assert cas.status_code == 302 and cas["Location"] == "/"
    assert client.session["sign_in_method"] == "oidc"
