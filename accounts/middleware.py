"""The second factor, required centrally: see accounts/twofactor.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from accounts.twofactor import Step, step_needed

# What a person who still owes the second factor may reach: the two steps and signing out.
# The health probes answer anyone, signed in or not: a probe carries no second factor.
OPEN_DURING_TWO_FACTOR = frozenset(
    {
        "login",
        "logout",
        "accounts:two-factor",
        "accounts:two-factor-set-up",
        "admin:logout",
        "healthz",
        "healthz-live",
    }
)
STEP_URLS = {Step.VERIFY: "accounts:two-factor", Step.SET_UP: "accounts:two-factor-set-up"}


def _uses_api_token(request: HttpRequest) -> bool:
    # The API authenticates such a request by its token alone (never the session), and a
    # token is issued only to a session that passed the second factor.
    header = request.META.get("HTTP_AUTHORIZATION", "")
    return request.path.startswith("/api/") and header[:6].lower() == "token "


class TwoFactorMiddleware:
    """A person who owes the second factor reaches only the steps that settle it.

    Pages redirect to the step (coming back to the page asked for, for a GET); the API
    answers 403 in JSON. Install after django_otp's OTPMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_DURING_TWO_FACTOR:
            return None
        if _uses_api_token(request):
            return None
        step = step_needed(request)
        if step is Step.NONE:
            return None
        if request.path.startswith("/api/"):
            what = "enter the code from your authenticator app" if step is Step.VERIFY else "set up an authenticator app"
            return JsonResponse(
                {"detail": f"Two-factor authentication is needed: sign in on the web and {what} first."},
                status=403,
            )
        url = reverse(STEP_URLS[step])
        if request.method in ("GET", "HEAD"):
            url += "?" + urlencode({"next": request.get_full_path()}, safe="/")
        return redirect(url)
