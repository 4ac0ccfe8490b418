"""What a web process needs before it serves: a real SECRET_KEY unless DEBUG is on.

Called by the web entry points (config/wsgi.py, config/asgi.py) only, so management
commands and the tests run with the settings' public development key.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def require_secret_key() -> None:
    if settings.DEBUG or settings.SECRET_KEY_FROM_ENVIRONMENT:
        return
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. With DEBUG off the app needs a long random SECRET_KEY in the "
        "environment (for example: python -c 'import secrets; print(secrets.token_urlsafe(50))'); "
        "for development set DEBUG=1."
    )
