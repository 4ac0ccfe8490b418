"""The API's rate limits, with the rates read from settings when a request is checked.

DRF's own throttles copy ``DEFAULT_THROTTLE_RATES`` into a class attribute when DRF is
first imported, so a rate changed afterwards (an operator's settings module layered on
top, a test's ``settings`` fixture) would never apply. These read the current rates.
"""

from __future__ import annotations

from rest_framework import throttling
from rest_framework.settings import api_settings


class UserRateThrottle(throttling.UserRateThrottle):
    """Per signed-in person (token or session), ``API_RATE_USER``; anonymous calls fall
    back to their address, as DRF's does."""

    def __init__(self) -> None:
        self.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        super().__init__()


class AnonRateThrottle(throttling.AnonRateThrottle):
    """Per address, for calls that sign no one in (``API_RATE_ANON``). Only endpoints open
    to them (the schema) count these: elsewhere such a call is refused with 401 first."""

    def __init__(self) -> None:
        self.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        super().__init__()
