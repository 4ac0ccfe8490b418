"""Single sign-on through the organisation's OpenID Connect provider.

mozilla-django-oidc runs the authorisation-code flow (with PKCE and a nonce), fetches
the tokens from the provider's token endpoint and checks the ID token's signature
against its JWKS. This backend adds what the library leaves out: the ID token must be
meant for this service (``aud``) and, where ``OIDC_OP_ISSUER`` is set, come from that
issuer; the claims are the ID token's with the userinfo endpoint's over them (some
providers, Microsoft Entra ID among them, send groups only in the ID token); and the
person's organisation and role come from the sign-in rules (``identity.sign_in``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from identity.sign_in import SignInRefused, sign_in_from_claims

logger = logging.getLogger(__name__)

# Where the callback view finds why a person was refused, to tell them.
REFUSAL_ATTRIBUTE = "sign_in_refusal"


def sso_enabled() -> bool:
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", ""))


def is_single_sign_on_callback(request: Any, credentials: Any = None) -> bool:
    """django-axes leaves these requests alone (``AXES_WHITELIST_CALLABLE``).

    Axes counts failed sign-ins to stop password guessing. A single sign-on callback has
    nothing to guess: its code is single-use, tied to this browser's state and PKCE
    verifier, and redeemed only with the client secret. Its failures carry no username,
    so counted they would lock everyone signing in from one address (a council office)
    out of single sign-on after a few refused people.
    """
    return request is not None and request.path == reverse("sso:callback")


class OrganisationOIDCBackend(OIDCAuthenticationBackend):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library reads its settings here; with single sign-on off they are blank
        # and the backend simply signs no one in.
        if sso_enabled():
            super().__init__(*args, **kwargs)
        self.UserModel = get_user_model()

    def authenticate(self, request: Any, **kwargs: Any) -> Any:
        if not sso_enabled() or request is None:
            return None
        return super().authenticate(request, **kwargs)

    def get_user(self, user_id: Any) -> Any:
        # The library's get_user would keep a deactivated person's session alive.
        user = super().get_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):
            # OpenID Connect Core 5.3.2: the userinfo must describe the ID token's subject.
            raise SuspiciousOperation("The userinfo response is about another subject than the ID token.")
        return {**payload, **userinfo}

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        self._check_audience_and_issuer(payload)
        claims = self.get_userinfo(access_token, id_token, payload)
        try:
            user = sign_in_from_claims(claims, settings.OIDC_GROUPS_CLAIM)
        except SignInRefused as refusal:
            setattr(self.request, REFUSAL_ATTRIBUTE, str(refusal))
            return None
        logger.info("Single sign-on: %s signed in", user.get_username())
        return user

    def _check_audience_and_issuer(self, payload: dict[str, Any]) -> None:
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was issued for another client.")
        issuer = getattr(settings, "OIDC_OP_ISSUER", "")
        if issuer and payload.get("iss") != issuer:
            raise SuspiciousOperation(f"The ID token comes from {payload.get('iss')!r}, not {issuer!r}.")
