"""The two ends of single sign-on: off (404) unless ``OIDC_RP_CLIENT_ID`` is set.

``/sso/start/`` sends the person to their organisation's identity provider;
``/sso/callback/`` is where the provider sends them back with a code, which the
backend exchanges for tokens. A person the sign-in rules do not cover is shown why,
on a page of its own, and is not signed in.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.twofactor import SIGN_IN_METHOD_KEY, SIGN_IN_METHOD_OIDC
from identity.backends import REFUSAL_ATTRIBUTE, sso_enabled

logger = logging.getLogger(__name__)


class _OnlyWhenEnabled:
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not sso_enabled():
            raise Http404("Single sign-on is not set up on this service.")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class SignInStartView(_OnlyWhenEnabled, OIDCAuthenticationRequestView):
    pass


class SignInCallbackView(_OnlyWhenEnabled, OIDCAuthenticationCallbackView):
    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            return super().get(request)
        except requests.RequestException as exc:
            logger.error("Single sign-on: the identity provider could not be reached or refused: %s", exc)
            return self._refused(
                "We could not complete signing in with your organisation's account: its sign-in "
                "service did not answer as expected. Try again in a few minutes.",
                status=502,
            )

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        # The identity provider is responsible for the second factor of those who come
        # through it (accounts.twofactor exempts such a session).
        self.request.session[SIGN_IN_METHOD_KEY] = SIGN_IN_METHOD_OIDC
        return response

    def login_failure(self) -> HttpResponse:
        reason = getattr(self.request, REFUSAL_ATTRIBUTE, None)
        if reason is None and self.request.GET.get("error"):
            described = self.request.GET.get("error_description") or self.request.GET["error"]
            reason = f"Your organisation's account did not let you sign in here ({described})."
        if reason is None:
            reason = (
                "We could not sign you in with your organisation's account. Start again from the "
                "sign-in page; if it happens again, tell your organisation's admin."
            )
        return self._refused(reason, status=403)

    def _refused(self, reason: str, status: int) -> HttpResponse:
        return render(self.request, "identity/sign_in_refused.html", {"reason": reason}, status=status)
