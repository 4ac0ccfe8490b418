"""Forms for drafting a target revision and editing its lines (R16).

They only parse what was typed: whether a line contradicts itself (R6), whether a month
may be revised, and who may do it are ``contracts.revisions``' to decide.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from contracts.models import TargetRevisionLine
from kpis.models import TargetValues, ToleranceUnit

NUMBER_FIELDS = (
    "target", "target_low", "target_high", "tolerance_low", "tolerance_high", "tolerance_relative",
)


class DraftRevisionForm(forms.Form):
    title = forms.CharField(
        label="Title",
        max_length=200,
        required=False,
        help_text="For example, 2018/19 targets. Left blank: “Targets from” the month.",
    )
    effective_from = forms.CharField(
        label="Month it takes effect from",
        max_length=7,
        help_text="For example, 2018-10. Figures for this month onwards are rated against the new targets.",
        error_messages={"required": "Enter the month the revision takes effect from, for example 2018-10."},
    )
    rationale = forms.CharField(
        label="Why are the targets being revised?",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the targets are being revised."},
    )


def _number(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=18,
        decimal_places=6,
        error_messages={"invalid": "Enter a number, like 95 or 2.5."},
    )


class RevisionLineForm(forms.Form):
    """One measure's drafted target and tolerance, as the admin types them."""

    target = _number("Target")
    target_low = _number("Target range from")
    target_high = _number("Target range to")
    tolerance_low = _number("Tolerance from")
    tolerance_high = _number("Tolerance to")
    tolerance_relative = _number("Relative tolerance")
    tolerance_unit = forms.ChoiceField(
        label="Relative tolerance unit",
        required=False,
        choices=[("", "None"), (ToleranceUnit.POINTS, "Points"), (ToleranceUnit.PERCENT, "% of target")],
    )
    rationale = forms.CharField(
        label="Rationale for the change",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(label="Confirm this target is meant", required=False)

    @classmethod
    def for_line(cls, line: TargetRevisionLine, data: Any = None) -> RevisionLineForm:
        initial: dict[str, Any] = {f: _plain(getattr(line, f)) for f in NUMBER_FIELDS}
        initial["tolerance_unit"] = line.tolerance_unit
        initial["rationale"] = line.rationale
        initial["confirm"] = line.confirmed_out_of_scale
        return cls(data, prefix=f"line-{line.pk}", initial=initial)

    def values(self) -> dict[str, Any]:
        """The drafted values, as ``revisions.save_line`` takes them."""
        return {f: self.cleaned_data[f] for f in TargetValues.VALUE_FIELDS}


def _plain(value: Decimal | None) -> str:
    """A stored decimal as a person would type it: 95, not 95.000000."""
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
