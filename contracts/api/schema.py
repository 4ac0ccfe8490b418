"""What the OpenAPI schema says the same way on every endpoint: the error bodies, the
refusals shared by several endpoints, and the keys in the URLs."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.settings import api_settings

from contracts.api.fields import MAX_ID
from contracts.api_pagination import Pages


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


NOT_SIGNED_IN = OpenApiResponse(
    ErrorDetailSerializer,
    description="No session and no valid `Authorization: Token <key>` header.",
)
AUTH_ERRORS = {401: NOT_SIGNED_IN, 403: NOT_SIGNED_IN}
NO_CONTRACT = OpenApiResponse(
    ErrorDetailSerializer,
    description="No such contract, or one your organisation is not party to.",
)
NO_MEASURE = OpenApiResponse(
    ErrorDetailSerializer, description="No such contract you may see, or no such measure in it."
)
NO_PAGE = "no such page: `page` beyond the last"


@extend_schema_field(
    {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "additionalProperties": {}},
        ],
        "description": "What is wrong with the field; for a list, what is wrong with each "
        "item, keyed by its position from 0 (an item's own fields likewise).",
    }
)
class NestedErrorsField(serializers.JSONField):
    pass


def field_errors(name: str, fields: Any) -> Any:
    """A 400 body of field errors: each field of a request with what is wrong with it.
    ``fields`` names them, or is a serializer's fields (or a filter set's filters), whose
    lists and nested objects are answered item by item."""

    def errors(field: Any) -> serializers.Field:
        if isinstance(field, serializers.BaseSerializer | serializers.ListField):
            return NestedErrorsField(required=False)
        return serializers.ListField(child=serializers.CharField(), required=False)

    named = dict(fields.items()) if hasattr(fields, "items") else dict.fromkeys(fields)
    return inline_serializer(
        name,
        fields={
            field: errors(named.get(field)) for field in [*named, api_settings.NON_FIELD_ERRORS_KEY]
        },
    )


def list_errors(name: str, fields: Any, description: str) -> OpenApiResponse:
    """The 400 of a list: a filter's value it does not take (``fields`` as for
    ``field_errors``), or a `page` or `page_size` that is not a whole number from 1."""
    named = dict(fields.items()) if hasattr(fields, "items") else dict.fromkeys(fields)
    pages = dict.fromkeys(Pages().query_parameters())
    return OpenApiResponse(
        field_errors(name, {**named, **pages}),
        description=f"{description} Or `page` or `page_size` is not a whole number from 1. "
        "Each is named with what is wrong with it.",
    )


def page_parameters() -> list[OpenApiParameter]:
    """`page` and `page_size` as every list documents them, for a paginated document that
    is not a list view (the scorecard)."""
    return [
        OpenApiParameter(name, schema, OpenApiParameter.QUERY, description=description)
        for name, (schema, description) in Pages().query_parameters().items()
    ]


def no_page(what: str = "") -> OpenApiResponse:
    """The 404 of a list: its parent is not found (``what``), or the page asked for."""
    said = f"{what}, or {NO_PAGE}" if what else NO_PAGE[0].upper() + NO_PAGE[1:]
    return OpenApiResponse(ErrorDetailSerializer, description=f"{said}.")


CONTRACT_SLUG = "The contract's slug, as in the contracts list."
MEASURE_SLUG = (
    "The measure's slug: its code lower-cased, other characters as hyphens (SM 1.1 -> sm-1-1)."
)
# What a key matches in the URLs (contracts.api_urls and the viewsets' lookups), so the
# schema says what reaches a view.
CONTRACT_KEY = "[-a-zA-Z0-9_]+"
MEASURE_KEY = "[-a-z0-9]+"
ID_KEY = "[0-9]+"
KEY_PATTERNS = {CONTRACT_SLUG: f"^{CONTRACT_KEY}$", MEASURE_SLUG: f"^{MEASURE_KEY}$"}


def path_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        str,
        OpenApiParameter.PATH,
        description=description,
        pattern=KEY_PATTERNS.get(description),
    )


def id_parameter(description: str) -> OpenApiParameter:
    return OpenApiParameter(
        "id",
        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        OpenApiParameter.PATH,
        description=description,
    )
