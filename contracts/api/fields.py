"""How the API reads and writes values: exact decimals out, strict numbers, dates and
true/false filters in, months as YYYY-MM, ids within the database's range, and a model's
refusals as field errors.

Numbers are exact decimals written as strings with no trailing zeros ("616", "92.8"),
never floats, so a client can reproduce the inclusive boundaries of R2.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from kpis import periods, rating
from kpis.models import VALUE_FIELD

# Ids are 64-bit (BigAutoField); a larger number would overflow the database's integer.
MAX_ID = 2**63 - 1

STATUS_CHOICES = [(status.value, rating.sentence(status)) for status in rating.Status]


class ExactDecimalField(serializers.DecimalField):
    """A decimal as an exact string without trailing zeros or exponent: "616", "92.8".

    Why not DRF's own: it pads to the column's six places ("616.000000") and, for values
    with no declared places (resolved bounds, rated values), would need a precision to
    round to. This writes the number as it is, losing nothing.
    """

    def __init__(self, max_digits: int | None = None, decimal_places: int | None = None, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(max_digits, decimal_places, **kwargs)

    def to_representation(self, value: Any) -> str | None:
        if value is None:
            return None
        text = format(value if isinstance(value, Decimal) else Decimal(str(value)), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text == "-0" else text


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A choice stored as blank for "none" (a measure with no polarity), shown as null."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        return None if value in ("", None) else super().to_representation(value)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        # Written, null means "none", stored blank as the admin and the import store it.
        value = super().run_validation(data)
        return "" if value is None else value


class ExactModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: ExactDecimalField,
    }


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": r"^-?[0-9]{1,12}(\.[0-9]{1,6})?$",
        "example": "92.5",
    }
)
class StrictDecimalField(serializers.DecimalField):
    """A figure as a client writes it, refused unless it is plainly a number.

    Accepts a JSON number or a string of digits with an optional minus sign and decimal
    point ("92.1", "-3", "402"); refuses "92,1", "1e3", "92.1%", "" and the like, naming
    what was written. At most 12 digits before the point and 6 after (the column), so
    nothing is silently rounded. Null clears the figure.
    """

    PLAIN = re.compile(r"-?[0-9]+(\.[0-9]+)?")

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(
            max_digits=VALUE_FIELD["max_digits"],
            decimal_places=VALUE_FIELD["decimal_places"],
            **kwargs,
        )

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        # DRF's DecimalField reads a blank string as null (for HTML forms); here only
        # null clears a figure, and "" is refused like any other non-number.
        return serializers.Field.validate_empty_values(self, data)

    def to_internal_value(self, data: Any) -> Decimal:
        number = self._parse(data)
        if number is None:
            raise serializers.ValidationError(
                f"'{data}' is not a number: write digits with an optional minus sign and "
                "decimal point, e.g. 92.5 (no commas, spaces, units or exponents)."
            )
        number = number.normalize()
        places = max(0, -int(number.as_tuple().exponent))
        whole = max(0, number.adjusted() + 1)
        if places > self.decimal_places:
            raise serializers.ValidationError(
                f"'{data}' has {places} decimal places: at most {self.decimal_places} are kept."
            )
        if whole > self.max_whole_digits:
            raise serializers.ValidationError(
                f"'{data}' is too large: at most {self.max_whole_digits} digits before the "
                "decimal point."
            )
        return Decimal(format(number, "f"))

    def _parse(self, data: Any) -> Decimal | None:
        if isinstance(data, bool):
            return None
        if isinstance(data, int):
            return Decimal(data)
        if isinstance(data, float):
            # A JSON number: its shortest repr is what the client wrote ("92.1").
            number = Decimal(repr(data))
            return number if number.is_finite() else None
        if isinstance(data, str) and self.PLAIN.fullmatch(data.strip()):
            return Decimal(data.strip())
        return None


class StrictDateField(serializers.DateField):
    """An ISO date; a refusal names what was written."""

    def to_internal_value(self, value: Any) -> date:
        try:
            return super().to_internal_value(value)
        except serializers.ValidationError:
            raise serializers.ValidationError(
                f"'{value}' is not a date: write it YYYY-MM-DD, e.g. 2018-04-30."
            ) from None


class TrueOrFalseField(forms.Field):
    """A yes-or-no filter's value: true or false (1 or 0), in any case; blank is as if
    not given. Anything else is refused, naming what was written, rather than read as
    "no filter" (django-filter's own boolean filter ignores a word it does not know)."""

    WORDS = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value: Any) -> bool | None:
        if value in self.empty_values:
            return None
        word = str(value).strip().lower()
        if word not in self.WORDS:
            raise forms.ValidationError(
                f"'{value}' is not true or false: write true or false (or 1 or 0).",
                code="invalid",
            )
        return self.WORDS[word]


class SlugKeyField(serializers.SlugRelatedField):
    """A record named by its slug. A value no slug can be (a NUL character, which
    PostgreSQL cannot even compare) is refused as not found, before any lookup."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)


class TrueOrFalseFilter(filters.BooleanFilter):
    """A boolean filter that refuses a value other than true or false (a 400 naming it).
    Still a ``BooleanFilter``, so the schema documents it as a boolean."""

    field_class = TrueOrFalseField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The value as written reaches the field (django-filter's widget turns an
        # unknown word into "no filter" before any check could see it).
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


def parse_month(value: str) -> periods.Period:
    """A month written YYYY-MM, or a validation error naming what was written."""
    expected = "expected a month written YYYY-MM, e.g. 2018-04"
    try:
        period = periods.parse_period(value)
    except periods.PeriodError:
        raise serializers.ValidationError(f"'{value}' is not a month: {expected}.") from None
    if period.kind != "month":
        kind = period.kind.replace("_", " ")
        raise serializers.ValidationError(f"'{value}' is a {kind}, not a month: {expected}.")
    return period


def checked(serializer_class: type[serializers.Serializer], data: Any, **kwargs: Any) -> Any:
    """A request's body or query as ``serializer_class`` reads it (its validated data), or a
    400 naming each field at fault."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def validation_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    """A model's ValidationError as DRF writes field errors, keeping the field names."""
    if not hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
    return {
        api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else name: messages
        for name, messages in exc.message_dict.items()
    }
