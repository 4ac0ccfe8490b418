"""The audit trail of a person's credentials: passwords, authenticators and API tokens.

Sign-in successes, failures and lockouts are recorded by django-axes (its access logs
and attempts, in the Django admin); what a person or an admin does to a password, the
second factor or an API token is recorded here, one row per act, never edited. A
password itself is never recorded: only that it was set, changed or turned off.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AccountEvent(models.Model):
    class Kind(models.TextChoices):
        TWO_FACTOR_ENROLLED = "two_factor_enrolled", "Authenticator app set up"
        TWO_FACTOR_REMOVED = "two_factor_removed", "Authenticator app removed"
        TOKEN_CREATED = "token_created", "API token created"
        TOKEN_REVOKED = "token_revoked", "API token revoked"
        PASSWORD_SET = "password_set", "Password set"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        PASSWORD_DISABLED = "password_disabled", "Password sign-in turned off"

    # SET_NULL with the username kept: the trail outlives a deleted account.
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="account_events",
        help_text="Whose password, authenticator or token it was.",
    )
    username = models.CharField(max_length=150, help_text="The person's username at the time.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who did it: the person, an organisation admin or a Django admin.",
    )
    actor_username = models.CharField(max_length=150)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    note = models.CharField(max_length=300, blank=True, help_text="Where it was done, and why.")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["person", "-at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.username} by {self.actor_username}"

    @classmethod
    def record(cls, kind: str, person, actor, note: str = "") -> AccountEvent:
        return cls.objects.create(
            kind=kind,
            person=person,
            username=person.get_username(),
            actor=actor,
            actor_username=actor.get_username(),
            note=note,
        )

    @classmethod
    def record_password(cls, person, actor, *, had_password: bool, note: str = "") -> AccountEvent:
        """Record that ``person``'s password was just set: the first one (``had_password``
        false), a new one, or none (password sign-in turned off). Never the password."""
        if not person.has_usable_password():
            kind = cls.Kind.PASSWORD_DISABLED
        elif had_password:
            kind = cls.Kind.PASSWORD_CHANGED
        else:
            kind = cls.Kind.PASSWORD_SET
        return cls.record(kind, person, actor, note)
