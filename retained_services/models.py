"""The council's own datasets, outside the contract (the reference's 3.23 and 3.24).

Each dataset belongs to a council and a year and becomes official when the
responsible officer marks it final (R14).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from contracts.models import Organisation
from kpis import periods
from kpis.models import VALUE_FIELD


class Dataset(models.Model):
    class Kind(models.TextChoices):
        ADMISSIONS = "admissions", "School admissions: first-choice preference"
        EHE = "ehe", "Elective home education"

    council = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="retained_datasets")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    year = models.CharField(
        max_length=10, help_text="Admissions: the calendar year of entry (2018). EHE: the academic year (2017/18)."
    )
    is_final = models.BooleanField(default=False)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finalised_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["council", "kind", "year"]
        constraints = [
            models.UniqueConstraint(fields=["council", "kind", "year"], name="retained_dataset_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.year} ({self.council})"

    def clean(self) -> None:
        # Admissions count by calendar year of entry (2018), EHE by academic year (2017/18): R11.
        wanted = "calendar" if self.kind == self.Kind.ADMISSIONS else "academic"
        try:
            period = periods.parse_period(self.year, wanted)
        except periods.PeriodError as exc:
            raise ValidationError({"year": str(exc)}) from exc
        if period.year_type != wanted or period.kind not in ("year", "calendar_year"):
            example = "2018" if wanted == "calendar" else "2017/18"
            raise ValidationError({"year": f"'{self.year}' is not a {wanted} year, such as {example}."})
        self.year = period.label


class AdmissionsFigure(models.Model):
    """First-choice preference achieved for one phase in one year of entry."""

    class Phase(models.TextChoices):
        PRIMARY = "primary", "Primary"
        JUNIOR = "junior", "Junior"
        SECONDARY = "secondary", "Secondary"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="admissions")
    phase = models.CharField(max_length=20, choices=Phase.choices)
    first_choice_number = models.PositiveIntegerField(null=True, blank=True)
    first_choice_percent = models.DecimalField(**VALUE_FIELD)
    any_of_three_percent = models.DecimalField(**VALUE_FIELD, help_text="Achieving any of choices 1 to 3.")
    target_percent = models.DecimalField(**VALUE_FIELD)
    region_percent = models.DecimalField(**VALUE_FIELD, help_text="North East (or the council's region).")
    england_percent = models.DecimalField(**VALUE_FIELD)
    history = HistoricalRecords()

    class Meta:
        ordering = ["dataset", "phase"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "phase"], name="admissions_phase_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_phase_display()} {self.dataset.year}"


class EHEFigure(models.Model):
    """Elective home education counts for a term, or for the academic year as a whole."""

    class Term(models.TextChoices):
        AUTUMN = "autumn", "Autumn"
        SPRING = "spring", "Spring"
        SUMMER = "summer", "Summer"
        YEAR = "year", "Year total"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="ehe")
    term = models.CharField(max_length=10, choices=Term.choices)
    new_ehe = models.PositiveIntegerField(null=True, blank=True, help_text="Number of new EHE children.")
    new_year11_ehe = models.PositiveIntegerField(null=True, blank=True, help_text="New Year 11 EHE children.")
    total_in_period = models.PositiveIntegerField(
        null=True, blank=True, help_text="Total number of EHE children in the period (yearly)."
    )
    note = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["dataset", "term"]
        constraints = [models.UniqueConstraint(fields=["dataset", "term"], name="ehe_term_unique")]

    def __str__(self) -> str:
        return f"EHE {self.dataset.year} {self.get_term_display()}"
