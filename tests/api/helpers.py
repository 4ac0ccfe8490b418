"""Clients for the API tests, signed in the two ways the API accepts."""

from __future__ import annotations

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def client_for(user) -> APIClient:
    """Signed in with a session, as the browser is."""
    client = APIClient()
    client.force_login(user)
    return client


def token_client(user) -> APIClient:
    """Signed in as the API's clients are, with a token (not a session)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client
