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
