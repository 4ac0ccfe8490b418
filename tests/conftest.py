"""Shared test set-up: the fixed cast of users and contracts, and system parts.

A test that needs a system part the machine lacks (a browser, a PDF library) is
skipped with a message naming the part and how to install it; with
``REQUIRE_SYSTEM_PARTS=1`` (as CI sets) the same absence fails the test instead.
"""

from __future__ import annotations

import os
import shutil

import pytest


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # The production default redirects to HTTPS; the test client and live server speak HTTP.
    settings.SECURE_SSL_REDIRECT = False
    # Hashing a demo password properly takes most of a second; tests need no strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # WhiteNoise would scan every static file for each new test client; look up per request.
    settings.WHITENOISE_AUTOREFRESH = True
    # Tests serve static files from the finders; `make test` runs collectstatic separately.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _sign_in_checks_off(settings):
    """Tests sign people in with ``client.login`` and ``force_login``, which django-axes
    (it needs the request) and the second factor would stop. Tests of those turn them
    back on with the ``lockout_on`` and ``two_factor_on`` fixtures; the browser tests
    sign in through the pages with both on (tests/browser/conftest.py)."""
    settings.AXES_ENABLED = False
    settings.TWO_FACTOR_REQUIRED = False


@pytest.fixture
def lockout_on(settings):
    settings.AXES_ENABLED = True


@pytest.fixture
def two_factor_on(settings):
    settings.TWO_FACTOR_REQUIRED = True


@pytest.fixture(autouse=True)
def _api_rate_limits_off(settings):
    """The API's rate limits count in the cache, which outlives a test (and, in Redis, is
    shared by parallel workers whose users have the same ids), so a long run would start
    meeting 429s. Tests run without them; tests/security/test_rate_limits.py sets small
    rates with a cache of its own."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None},
    }


def require_system_part(what: str, found: bool, install: str) -> None:
    if found:
        return
    message = f"{what} is not installed here; install it with: {install}"
    if os.environ.get("REQUIRE_SYSTEM_PARTS") == "1":
        pytest.fail(message)
    pytest.skip(message)


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    require_system_part(
        "Chromium (for browser tests)",
        os.path.exists(CHROMIUM) or shutil.which("chromium") is not None,
        "apt-get install -y chromium",
    )
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")  # type: ignore[return-value]
