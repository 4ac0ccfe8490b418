"""Forms of the monthly return's pages: what a person typed, parsed and checked for shape.

The rules of a return (what is owed, who may act, which state allows what, whether an
action needs an owner) belong to ``contracts.workflow``; these forms only turn typed text
into values, and say plainly what was typed when it cannot be read ("‘92,1’ is not a
number"). Every refusal keeps what was typed, so the page can show it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from contracts.models import Contract, Entry, ReturnState
from kpis import periods
from kpis.models import RECORDED_FLAGS, VALUE_FIELD, Flag

# --- fields ----------------------------------------------------------------------------


def plain_number(value: Decimal | None) -> str:
    """A stored decimal as a person would type it: 92.1, not 92.100000 or 9.21E+1."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


class PlainNumberField(forms.Field):
    """A figure as typed: digits with an optional minus sign and decimal point.

    The same rule as the API's (``contracts.api.StrictDecimalField``): "92,1", "1e3" and
    "92.1%" are refused rather than guessed at, and the message names what was typed.
    Blank means no figure.
    """

    PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?")
    MAX_PLACES = VALUE_FIELD["decimal_places"]
    MAX_WHOLE = VALUE_FIELD["max_digits"] - VALUE_FIELD["decimal_places"]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:
        text = (value or "").strip()
        if not text:
            return None
        if not self.PLAIN.fullmatch(text):
            raise ValidationError(
                f"‘{text}’ is not a number: write digits with an optional minus sign and "
                "decimal point, for example 92.5 (no commas, spaces or % signs).",
                code="invalid",
            )
        number = Decimal(text)
        places = max(0, -int(number.normalize().as_tuple().exponent))
        if places > self.MAX_PLACES:
            raise ValidationError(
                f"‘{text}’ has {places} decimal places: at most {self.MAX_PLACES} are kept.",
                code="max_decimal_places",
            )
        if max(0, number.adjusted() + 1) > self.MAX_WHOLE:
            raise ValidationError(
                f"‘{text}’ is too large: at most {self.MAX_WHOLE} digits before the decimal point.",
                code="max_digits",
            )
        return number


DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
DATE_HINT = "For example, 30/4/2018 or 2018-04-30"


def parse_date(text: str) -> date | None:
    """A date typed as 30/4/2018 or 2018-04-30; blank is None. ValueError names the text."""
    text = (text or "").strip()
    if not text:
        return None
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"‘{text}’ is not a date: write it as 30/4/2018 or 2018-04-30.")


class PlainDateField(forms.Field):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> date | None:
        try:
            return parse_date(value or "")
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from None


# --- the entry page --------------------------------------------------------------------

FLAG_CHOICES = [(flag.value, flag.label) for flag in Flag if flag in RECORDED_FLAGS]


class EntryForm(forms.Form):
    """One entry's figure and narrative (``workflow.save_entry``'s figures and narrative)."""

    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    value = PlainNumberField(label="Value")
    numerator = PlainNumberField(label="Numerator")
    denominator = PlainNumberField(label="Denominator")
    as_at = PlainDateField(label="As at")
    flags = forms.MultipleChoiceField(
        label="Data-quality flags", choices=FLAG_CHOICES, required=False
    )
    note = forms.CharField(label="Note", required=False)
    second_value = PlainNumberField(label="Second source value")
    second_source = forms.CharField(label="Second source name", required=False, max_length=300)
    variance_reason = forms.CharField(label="Reason for the variance", required=False)
    no_data_reason = forms.CharField(label="Reason there is no figure", required=False)
    reason = forms.CharField(label="Why you are making this change", required=False)

    FIGURES = (
        "value",
        "numerator",
        "denominator",
        "as_at",
        "flags",
        "note",
        "second_value",
        "second_source",
    )
    NARRATIVE = ("variance_reason", "no_data_reason")

    def figures(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIGURES}

    def narrative(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self.NARRATIVE}

    def typed(self, name: str) -> Any:
        """What the page shows in a field: the typed text, or the saved value."""
        return self[name].value()

    @staticmethod
    def initial_for(entry: Entry) -> dict[str, Any]:
        obs = entry.observation
        initial: dict[str, Any] = {
            "version": entry.version,
            "variance_reason": entry.variance_reason,
            "no_data_reason": entry.no_data_reason,
        }
        if obs is not None:
            initial.update(
                value=plain_number(obs.value),
                numerator=plain_number(obs.numerator),
                denominator=plain_number(obs.denominator),
                as_at=obs.as_at.isoformat() if obs.as_at else "",
                flags=list(obs.flags or []),
                note=obs.note,
                second_value=plain_number(obs.second_value),
                second_source=obs.second_source,
            )
        return initial


ACTION_KEY = re.compile(r"^action-(\d+)-(id|description|owner|due_date|delete)$")


@dataclass
class ActionRow:
    """One row of the actions part of the entry form: a saved action or a new one."""

    index: int
    id: int | None = None
    description: str = ""
    owner: str = ""
    due_date_text: str = ""
    due_date: date | None = None
    delete: bool = False
    recorded_without_owner: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    autofocus: bool = False

    @property
    def prefix(self) -> str:
        return f"action-{self.index}"

    @property
    def is_blank(self) -> bool:
        return self.id is None and not (
            self.description.strip() or self.owner.strip() or self.due_date_text.strip()
        )

    @property
    def counts(self) -> bool:
        """Whether the row stands as an action once saved (for what the verdict owes)."""
        if self.delete:
            return False
        if self.id is not None:
            return True
        return bool(self.description.strip() and self.owner.strip() and self.due_date)

    def as_change(self) -> dict[str, Any]:
        """The row as ``workflow.save_entry`` takes it."""
        change: dict[str, Any] = {
            "description": self.description,
            "owner": self.owner,
            "due_date": self.due_date,
        }
        if self.id is not None:
            change["id"] = self.id
        if self.delete:
            change["delete"] = True
        return change

    def first_missing(self) -> str:
        """The first field the workflow would say is missing (for the error's link)."""
        for name, typed in (
            ("description", self.description),
            ("owner", self.owner),
            ("due_date", self.due_date),
        ):
            if not typed:
                return name
        return "description"


def action_rows_from_entry(entry: Entry) -> list[ActionRow]:
    rows = [
        ActionRow(
            index=number,
            id=action.pk,
            description=action.description,
            owner=action.owner,
            due_date_text=action.due_date.isoformat() if action.due_date else "",
            due_date=action.due_date,
            recorded_without_owner=action.recorded_without_owner,
        )
        for number, action in enumerate(entry.actions.all(), start=1)
    ]
    return rows or [ActionRow(index=1)]


def action_rows_from_post(data: QueryDict) -> list[ActionRow]:
    """The rows as typed, in the order shown (their index), each with its own errors."""
    indices = sorted({int(m.group(1)) for key in data if (m := ACTION_KEY.match(key))})
    rows = []
    for index in indices:
        prefix = f"action-{index}-"
        row = ActionRow(
            index=index,
            description=data.get(prefix + "description", ""),
            owner=data.get(prefix + "owner", ""),
            due_date_text=data.get(prefix + "due_date", ""),
            delete=bool(data.get(prefix + "delete")),
        )
        raw_id = data.get(prefix + "id", "").strip()
        if raw_id:
            try:
                row.id = int(raw_id)
            except ValueError:
                row.errors["description"] = f"‘{raw_id}’ is not an action of this measure."
        try:
            row.due_date = parse_date(row.due_date_text)
        except ValueError as exc:
            row.errors["due_date"] = str(exc)
        rows.append(row)
    return rows


def add_blank_row(rows: list[ActionRow]) -> list[ActionRow]:
    new = ActionRow(index=max((r.index for r in rows), default=0) + 1, autofocus=True)
    return [*rows, new]


def remove_new_row(rows: list[ActionRow], index: str) -> list[ActionRow]:
    """Drop a row not yet saved; a saved action is removed by ticking its box instead."""
    kept = [r for r in rows if not (str(r.index) == index and r.id is None)]
    return kept or [ActionRow(index=1)]


# --- the return page -------------------------------------------------------------------


def parse_queries(
    data: QueryDict, entries: dict[int, Entry]
) -> tuple[list[tuple[int, str]], list[tuple[str, str]]]:
    """The measures chosen to query, each with its comment; errors as (field id, message).

    A chosen measure needs a comment (the workflow refuses one without, too; checked here
    so the message can point at the box left empty).
    """
    chosen: list[tuple[int, str]] = []
    errors: list[tuple[str, str]] = []
    for raw in data.getlist("entries"):
        try:
            entry_id = int(raw)
        except ValueError:
            errors.append(("query-measures", f"‘{raw}’ is not a measure of this return."))
            continue
        entry = entries.get(entry_id)
        if entry is None:
            errors.append(("query-measures", f"‘{raw}’ is not a measure of this return."))
            continue
        comment = data.get(f"comment-{entry_id}", "").strip()
        if not comment:
            errors.append((f"comment-{entry_id}", f"{entry.measure.code}: say what the query is."))
        chosen.append((entry_id, comment))
    if not chosen and not errors:
        errors.append(("query-measures", "Choose at least one measure to query."))
    return chosen, errors


class AnswerForm(forms.Form):
    query = forms.IntegerField()
    answer = forms.CharField(required=False)


class ReopenForm(forms.Form):
    reason = forms.CharField(label="Why are you reopening this return?", required=False)


# --- the list page ---------------------------------------------------------------------


class ReturnFilterForm(forms.Form):
    contract = forms.ChoiceField(label="Contract", required=False)
    state = forms.ChoiceField(
        label="State", required=False, choices=[("", "Any state"), *ReturnState.choices]
    )

    def __init__(self, *args: Any, contracts: list[Contract], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contract"].choices = [("", "All contracts")] + [
            (c.slug, c.name) for c in contracts
        ]
        self.fields["contract"].error_messages["invalid_choice"] = (
            "‘%(value)s’ is not a contract you can see."
        )
        self.fields["state"].error_messages["invalid_choice"] = (
            "‘%(value)s’ is not a state: choose draft, submitted, queried or signed off."
        )


class OpenReturnForm(forms.Form):
    contract = forms.CharField(label="Contract")
    month = forms.CharField(label="Month", max_length=20)

    def clean_month(self) -> periods.Period:
        text = self.cleaned_data["month"].strip()
        try:
            period = periods.parse_period(text)
        except periods.PeriodError:
            period = None
        if period is None or period.kind != "month":
            raise ValidationError(
                f"‘{text}’ is not a month: enter it as YYYY-MM, for example 2018-05.",
                code="invalid",
            )
        return period


def selected_ids(data: QueryDict, name: str = "returns") -> tuple[list[int], list[str]]:
    """Ids ticked in a list, in order and once each; anything else is reported."""
    ids: list[int] = []
    bad: list[str] = []
    for raw in data.getlist(name):
        try:
            number = int(raw)
        except (ValueError, InvalidOperation):
            bad.append(raw)
            continue
        if number not in ids:
            ids.append(number)
    return ids, bad
