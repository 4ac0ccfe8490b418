from django import forms

from retained_services.models import Dataset


def _number(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, min_value=0)


def _percent(label: str) -> forms.DecimalField:
    return forms.DecimalField(label=label, required=False, min_value=0, max_value=100, decimal_places=2)


class AdmissionsRowForm(forms.Form):
    """One phase's row of the reference's table 3.23."""

    first_choice_number = _number("1st choice preference (number)")
    first_choice_percent = _percent("1st choice preference (%)")
    any_of_three_percent = _percent("Any of choices 1 to 3 (%)")
    target_percent = _percent("Target (%)")
    region_percent = _percent("Region (%)")
    england_percent = _percent("England (%)")


class EHERowForm(forms.Form):
    """One term's (or the year's) column of the reference's table 3.24."""

    new_ehe = _number("Number of new EHE")
    new_year11_ehe = _number("Number of new Year 11 EHE")
    total_in_period = _number("Total number of EHE in the period")
    note = forms.CharField(label="Note", required=False, max_length=2000)


ROW_FORMS = {Dataset.Kind.ADMISSIONS: AdmissionsRowForm, Dataset.Kind.EHE: EHERowForm}


class NewDatasetForm(forms.Form):
    kind = forms.ChoiceField(label="Dataset", choices=Dataset.Kind.choices)
    year = forms.CharField(
        label="Year",
        max_length=10,
        help_text="Admissions: the year of entry, for example 2019. Elective home education: the academic year, for example 2018/19.",
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(label="Why are you reopening this dataset?", widget=forms.Textarea(attrs={"rows": 3}))
