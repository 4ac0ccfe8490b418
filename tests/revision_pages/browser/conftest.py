"""The browser fixtures of ``tests/browser`` (Chromium, live server, page), for these pages."""

from tests.browser.conftest import (  # noqa: F401
    _browser_settings,
    chromium,
    live_server,
    page,
)
