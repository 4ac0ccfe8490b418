"""Organisations, the contracts between them, and the people who work on them."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from kpis.models import MeasureSet


class Organisation(models.Model):
    class Kind(models.TextChoices):
        COUNCIL = "council", "Council"
        PROVIDER = "provider", "Provider"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contract(models.Model):
    """A council (the commissioner) commissions a provider; the contract points at its measures."""

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=300)
    commissioner = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="commissioned_contracts"
    )
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="provided_contracts")
    start = models.DateField()
    end = models.DateField(null=True, blank=True)
    measure_set = models.OneToOneField(MeasureSet, on_delete=models.PROTECT, related_name="contract")
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.end and self.start and self.end < self.start:
            raise ValidationError({"end": "The contract cannot end before it starts."})
        if self.commissioner_id and self.commissioner_id == self.provider_id:
            raise ValidationError({"provider": "The provider must be another organisation."})


class Role(models.TextChoices):
    PROVIDER_EDITOR = "provider_editor", "Provider editor"
    PROVIDER_LEAD = "provider_lead", "Provider lead"
    COMMISSIONER = "commissioner", "Commissioner"
    ADMIN = "admin", "Admin"
    READER = "reader", "Reader"
    OFFICER = "officer", "Council officer (retained services)"


# Roles that may see figures before they are official (R13).
DRAFT_VIEWERS = {Role.PROVIDER_EDITOR, Role.PROVIDER_LEAD, Role.COMMISSIONER, Role.ADMIN}


class Membership(models.Model):
    """A person works for one organisation in one role."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=30, choices=Role.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organisation", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organisation})"
