"""What the report's author writes, and the reports published to the committee.

* ``ReportText``: the editable sections of a committee report (purpose, background,
  future developments, recommendations...) for a contract and month. A month without its
  own text carries forward the latest earlier month's, else the generic default.
* ``MeasureCommentary``: the drafted commentary on a measure for a month, once a person
  has accepted it as drafted or edited it (until then it is "drafted": never stored).
* ``PublishedReport``: the report as published, frozen (R17): the data it was built from
  (JSON) and the rendered document. Correcting a return later does not change it; the
  published page compares it with the current official figures.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class Section(models.TextChoices):
    COMMITTEE = "committee", "Committee"
    REPORT_OF = "report_of", "Report of"
    PURPOSE = "purpose", "1. Purpose of the report"
    BACKGROUND = "background", "2. Background"
    CURRENT_POSITION = "current_position", "3. Current position (introduction)"
    FUTURE = "future", "5. Future developments"
    RECOMMENDATIONS = "recommendations", "6. Recommendations"
    BACKGROUND_PAPERS = "background_papers", "7. Background papers"


class ReportText(models.Model):
    contract = models.ForeignKey("contracts.Contract", on_delete=models.CASCADE, related_name="report_texts")
    period = models.CharField(max_length=7, help_text="The report's month, YYYY-MM.")
    section = models.CharField(max_length=30, choices=Section.choices)
    text = models.TextField(blank=True, help_text="Paragraphs separated by a blank line.")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["contract", "period", "section"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "period", "section"], name="report_text_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_section_display()} for {self.contract} {self.period}"


class MeasureCommentary(models.Model):
    """A person's word on the drafted commentary: accepted as drafted, or edited."""

    class State(models.TextChoices):
        ACCEPTED = "accepted", "Accepted as drafted"
        EDITED = "edited", "Edited"

    measure = models.ForeignKey("kpis.Measure", on_delete=models.CASCADE, related_name="commentaries")
    period = models.CharField(max_length=7, help_text="The report's month, YYYY-MM.")
    text = models.TextField()
    drafted_text = models.TextField(help_text="The draft as it stood when reviewed.")
    state = models.CharField(max_length=20, choices=State.choices)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["measure", "period"]
        verbose_name_plural = "measure commentaries"
        constraints = [
            models.UniqueConstraint(fields=["measure", "period"], name="measure_commentary_unique"),
        ]

    def __str__(self) -> str:
        return f"Commentary on {self.measure.code} for {self.period}"


class PublishedReport(models.Model):
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, related_name="published_reports"
    )
    period = models.CharField(max_length=7)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField()
    data = models.JSONField(help_text="Everything the report was built from, as published.")
    html = models.TextField(help_text="The document as published.")

    class Meta:
        ordering = ["contract", "-period"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "period"], name="published_report_once"),
        ]

    def __str__(self) -> str:
        return f"{self.contract} report for {self.period} (published)"
