"""``python manage.py load_demo``: the demonstration data and how to sign in.

Idempotent: a second run changes nothing (see ``contracts.demo``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from contracts import demo


class Command(BaseCommand):
    help = (
        "Load the demonstration data (Sunderland's contract with Together for Children, "
        "April 2018) and the demo users. Idempotent. Demonstration only: every demo user "
        "shares a published password."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        demo.load(stdout=self.stdout)
        self.stdout.write("")
        self.stdout.write(
            self.style.WARNING(
                "Demonstration only: these users share a published password. "
                "Never load the demo into a live system."
            )
        )
        self.stdout.write(f"Sign in at {demo.LOGIN_URL} with password {demo.DEMO_PASSWORD} as:")
        width = max(len(username) for username, *_ in demo.USERS)
        for username, _org, role, what in demo.USERS:
            self.stdout.write(f"  {username:<{width}}  {role.label}: {what}")
        self.stdout.write("")
        if settings.TWO_FACTOR_REQUIRED:
            self.stdout.write(
                "Two-factor authentication is on: commissioner and admin also enter a 6-digit "
                "code. Add their keys to an authenticator app (as a time-based key):"
            )
        else:
            self.stdout.write(
                "Two-factor authentication is off here (TWO_FACTOR_REQUIRED; off by default "
                "while DEBUG is on). With it on, commissioner and admin also enter a 6-digit "
                "code from an authenticator app holding their keys (as a time-based key):"
            )
        for username, secret in demo.TOTP_SECRETS.items():
            self.stdout.write(f"  {username:<{width}}  {secret}")
