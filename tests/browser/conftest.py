"""Headless Debian Chromium driven by Playwright's sync API against ``live_server``.

Playwright's sync API runs an event loop in the test's thread, so Django would refuse
ORM calls from the test (SynchronousOnlyOperation) without DJANGO_ALLOW_ASYNC_UNSAFE;
it is set before anything starts. The live server runs in this process, so the
``settings`` fixture reaches it.
"""

from __future__ import annotations

import json
import os
import re
import time
from base64 import b32decode
from importlib import import_module
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from django.test.utils import override_settings  # noqa: E402
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright  # noqa: E402
from pytest_django.live_server_helper import LiveServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# WCAG 2.2 AA, as axe-core tags it.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="session")
def chromium(chromium_path: str):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, started over plain HTTP.

    Django's SecurityMiddleware reads SECURE_SSL_REDIRECT once, when the server thread
    builds its handler; the session-scoped server starts before any function-scoped
    ``settings`` change (tests/conftest.py's ``_plain_http``), so without this every
    page would redirect to HTTPS.
    """
    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    with override_settings(SECURE_SSL_REDIRECT=False):
        server = LiveServer(addr)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _browser_settings(settings):
    # The live server speaks plain HTTP: secure cookies would never come back.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    # The live server serves static files through the finders, which know the
    # files' own names, not the hashed names of the manifest storage.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Quick hashing for factory users; PBKDF2 stays so that demo users still sign in.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    # People sign in through the pages, as in production: failures count towards lockout,
    # and commissioners and admins pass the second factor (see ``enter_code``).
    settings.AXES_ENABLED = True
    settings.TWO_FACTOR_REQUIRED = True


@pytest.fixture
def page(chromium: Browser, live_server) -> Page:
    context = chromium.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 1400, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} for {r.url}") if r.status >= 400 else None,
    )
    page.problems = problems  # type: ignore[attr-defined]
    # Whenever the second step of signing in shows, enter the code, as the person would.
    page.add_locator_handler(second_step(page), lambda: enter_code(page))
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_accessible(page: Page, what: str) -> None:
    """axe-core finds no serious or critical WCAG 2.2 AA violation on the page."""
    # Evaluated, not added as an inline <script>, which the Content Security Policy refuses.
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    if bad:
        report = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in bad
        ]
        print(f"axe-core violations on the {what} page:\n{json.dumps(report, indent=2)}")
    assert not bad, f"{what}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']}" for v in bad)


def second_step(page: Page) -> Locator:
    """The form of the second step of signing in: a code, or setting up an authenticator."""
    return page.locator("form#two-factor-verify, form#two-factor-set-up")


def _signed_in_user(page: Page):
    from django.conf import settings
    from django.contrib.auth import SESSION_KEY, get_user_model

    store = import_module(settings.SESSION_ENGINE).SessionStore
    key = next(c["value"] for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    return get_user_model().objects.get(pk=store(key)[SESSION_KEY])


def current_code(page: Page) -> str:
    """The code the person's authenticator app shows now: made from the key on the page
    while setting one up, else from their authenticator's key. A code works once, so
    after one was used in this 30-second step, the next step's (one step ahead is allowed)."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if page.locator("form#two-factor-set-up").count():
        secret = page.locator("#two-factor-secret").inner_text().replace(" ", "")
        return f"{TOTP(b32decode(secret)).token():06d}"
    device = TOTPDevice.objects.get(user=_signed_in_user(page), confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if device.last_t >= totp.t():
        totp.time = time.time() + (device.last_t + 1 - totp.t()) * device.step
    return f"{totp.token():0{device.digits}d}"


def enter_code(page: Page) -> None:
    form = second_step(page)
    form.get_by_role("textbox").fill(current_code(page))
    form.get_by_role("button").click()


def sign_in(page: Page, username: str, password: str, next_path: str = "/") -> None:
    """Sign in through the form, starting from ``next_path`` (the page to land on), with
    the code from an authenticator app when asked (the page's handler enters it)."""
    page.goto(f"/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"^https?://[^/]+" + re.escape(next_path) + "$"))


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")


def post_form(page: Page, path: str, data: dict[str, str]):
    """POST as a hand-made form would, with the session's CSRF token: for checking that
    the server itself refuses what the page no longer offers."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    return page.request.post(path, form={**data, "csrfmiddlewaretoken": token})
