"""A real OpenID provider for the single sign-on tests: a separate Django project
serving OpenID Connect with django-oauth-toolkit, run as its own process.

Not part of Contract Monitor. ``tests/identity/test_sso_end_to_end.py`` prepares it
(``python -m django prepare_provider``) and serves it (``runserver``) with
``DJANGO_SETTINGS_MODULE=tests.oidc_provider.settings``.
"""
