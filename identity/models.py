"""Who may sign in, and the record of every change to the people of an organisation.

``SignInRule`` maps a person signing in through the organisation's identity provider
(OpenID Connect) to an organisation and role, by email domain or by a group claim.
``Invitation`` brings someone in by email with a local password. ``PersonEvent`` is
the audit trail of people: invitations, joining, role changes, deactivation and
reactivation, what the sign-in rules did and what the Django admin changed about an
account, each with who acted, when and why.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from contracts.access import COUNCIL_RIGHTS, PROVIDER_RIGHTS
from contracts.models import Organisation, Role

# One or more labels of letters, digits and inner hyphens, then a dot and at least one more.
_DOMAIN = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")


def roles_for(organisation: Organisation) -> list[Role]:
    """The roles a person of this organisation may hold: a provider's or a council's side.

    ``contracts.access`` says what each side's roles may do; a role of the other side
    would let its holder do nothing, so it is never offered or accepted.
    """
    side = PROVIDER_RIGHTS if organisation.kind == Organisation.Kind.PROVIDER else COUNCIL_RIGHTS
    return [role for role in Role if role in side]


def check_role(organisation: Organisation, role: str, field: str = "role") -> None:
    allowed = roles_for(organisation)
    if role and role not in allowed:
        names = ", ".join(r.label.lower() for r in allowed)
        raise ValidationError(
            {field: f"{organisation} is a {organisation.get_kind_display().lower()}: its people may be {names}."}
        )


class SignInRuleQuerySet(models.QuerySet):
    def first_match(self, email: str, groups: Iterable[str]) -> SignInRule | None:
        """The active rule with the lowest priority number that matches, or None."""
        domain = email.rpartition("@")[2].lower()
        groups = [g for g in groups if g]
        match = Q(match=SignInRule.Match.EMAIL_DOMAIN, value=domain)
        if groups:
            match |= Q(match=SignInRule.Match.GROUP, value__in=groups)
        return self.filter(match, is_active=True).select_related("organisation").order_by("priority", "pk").first()


class SignInRule(models.Model):
    """A person signing in through single sign-on whose email domain or group matches
    ``value`` works for ``organisation`` in ``role``. The active rule with the lowest
    priority number wins; each sign-in applies it afresh."""

    class Match(models.TextChoices):
        EMAIL_DOMAIN = "email_domain", "Email domain"
        GROUP = "group", "Group claim"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="sign_in_rules")
    role = models.CharField(max_length=30, choices=Role.choices)
    match = models.CharField(
        "match on",
        max_length=20,
        choices=Match.choices,
        help_text="Email domain: the part after the @ (exactly; a subdomain needs its own rule). "
        "Group claim: one value of the groups claim the identity provider sends.",
    )
    value = models.CharField(
        max_length=255,
        help_text="For example sunderland.gov.uk, or a group's name or ID exactly as the identity provider sends it.",
    )
    priority = models.PositiveIntegerField(
        default=100,
        help_text="When several rules match, the lowest number wins (then the oldest rule).",
    )
    is_active = models.BooleanField("active", default=True)
    note = models.CharField(max_length=300, blank=True, help_text="Why the rule exists, for the next admin.")
    history = HistoricalRecords()

    objects = SignInRuleQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["match", "value"],
                condition=Q(is_active=True),
                name="one_active_sign_in_rule_per_value",
                violation_error_message="An active rule already matches this value: change that rule, "
                "or make it inactive first.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_match_display()} {self.value} → {self.organisation}, {self.get_role_display()}"

    def describe(self) -> str:
        return f"sign-in rule {self.pk} ({self})"

    def clean(self) -> None:
        value = (self.value or "").strip()
        if self.match == self.Match.EMAIL_DOMAIN:
            value = value.lower().lstrip("@")
            if "@" in value or not _DOMAIN.match(value):
                raise ValidationError(
                    {"value": "Enter an email domain such as sunderland.gov.uk: the part after the @, "
                     "with no name before it and no spaces."}
                )
        elif self.match == self.Match.GROUP and not value:
            raise ValidationError({"value": "Enter the group's name or ID exactly as the identity provider sends it."})
        self.value = value
        if self.organisation_id:
            check_role(self.organisation, self.role)


class ExternalAccount(models.Model):
    """The identity-provider account a person last signed in with, and the rule applied."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_account")
    issuer = models.CharField(max_length=300, blank=True)
    subject = models.CharField(max_length=300)
    rule = models.ForeignKey(SignInRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_signed_in_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user} at {self.issuer or 'the identity provider'}"


def _invitation_key() -> str:
    return secrets.token_urlsafe(16)


class Invitation(models.Model):
    """An organisation's admin invites someone by email to join in a role.

    The emailed link carries a signed token naming this invitation and its key; it
    works once, until ``expires_at``, unless the invitation is withdrawn.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        ACCEPTED = "accepted", "Accepted"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"

    email = models.EmailField()
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=30, choices=Role.choices)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    key = models.CharField(max_length=40, default=_invitation_key, editable=False)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitation",
        help_text="The account created when the invitation was accepted.",
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords(excluded_fields=["key"])

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Invitation to {self.email} ({self.get_role_display()}, {self.organisation})"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.withdrawn_at:
            return self.Status.WITHDRAWN
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    def get_status_display(self) -> str:
        return self.Status(self.status).label


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value) if value else "none"
    if value is None or value == "":
        return "blank"
    return str(value)


class PersonEvent(models.Model):
    """One change to a person's access: who acted, when, from which role to which, and why.

    A change made to an account in the Django admin says field by field what it was and
    what it became (``changes``); it belongs to the person's organisation at the time,
    or to none when they had none (it still shows on their page once they join one).
    """

    class Action(models.TextChoices):
        INVITED = "invited", "Invited"
        INVITATION_SENT_AGAIN = "invitation_sent_again", "Invitation sent again"
        INVITATION_WITHDRAWN = "invitation_withdrawn", "Invitation withdrawn"
        JOINED = "joined", "Accepted the invitation"
        ROLE_CHANGED = "role_changed", "Role changed"
        DEACTIVATED = "deactivated", "Deactivated"
        REACTIVATED = "reactivated", "Reactivated"
        JOINED_BY_RULE = "joined_by_rule", "Joined through single sign-on"
        CHANGED_BY_RULE = "changed_by_rule", "Organisation or role set by a sign-in rule"
        CREATED_IN_ADMIN = "created_in_admin", "Account created in the Django admin"
        CHANGED_IN_ADMIN = "changed_in_admin", "Account changed in the Django admin"
        DELETED_IN_ADMIN = "deleted_in_admin", "Account deleted in the Django admin"

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="person_events",
        help_text="The person's organisation at the time; none for an account that had none.",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="person_events"
    )
    invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    action = models.CharField(max_length=30, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who made the change (the person themselves for single sign-on).",
    )
    at = models.DateTimeField(default=timezone.now)
    from_role = models.CharField(max_length=30, blank=True, choices=Role.choices)
    to_role = models.CharField(max_length=30, blank=True, choices=Role.choices)
    rule = models.ForeignKey(SignInRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    changes = models.JSONField(
        default=dict, blank=True,
        help_text="For a change in the Django admin: each field changed, as [what it was, what it became].",
    )

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["organisation", "-at"], name="person_event_org_at")]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.person or self.invitation} at {self.at:%Y-%m-%d %H:%M}"

    def change_lines(self) -> list[str]:
        """Each recorded change in words: "Email address: a@x.org to b@x.org" (one side
        only for an account created or deleted: "Username: bob")."""
        user_fields = {f.name: f for f in get_user_model()._meta.get_fields()}
        lines = []
        for name, (before, after) in self.changes.items():
            field = user_fields.get(name)
            label = str(getattr(field, "verbose_name", name.replace("_", " ")))
            if self.action == self.Action.CHANGED_IN_ADMIN:
                what = f"{_shown(before)} to {_shown(after)}"
            else:
                what = _shown(after if before is None else before)
            lines.append(f"{label[:1].upper()}{label[1:]}: {what}")
        return lines
