"""The API (``/api/v1/``): contracts, their measures, the monthly scorecard, and the
monthly return's workflow (entering figures, submitting, querying, signing off).

Every endpoint finds its contract or return through ``contracts.access`` and nowhere
else, so another organisation's object is a 404 (never a 403 that would hint it
exists), and whether draft figures show is ``access.may_see_drafts`` (R13). Rating,
bounds and the scorecard come from ``kpis``; every change to a return goes through
``contracts.workflow``, which decides who may act and when, so the API answers with
the same rules and errors as the pages. The views here only choose rows, call those
functions and serialise the result.

Numbers are exact decimals written as strings with no trailing zeros ("616", "92.8"),
never floats, so a client can reproduce the inclusive boundaries of R2.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings

from contracts import access, workflow
from contracts.access import Do
from contracts.models import (
    Action,
    Contract,
    Entry,
    MonthlyReturn,
    Organisation,
    Query,
    ReturnState,
)
from kpis import periods, rating
from kpis.models import (
    VALUE_FIELD,
    Comparator,
    Flag,
    Kind,
    Measure,
    Polarity,
    SeriesBreak,
    Target,
    ToleranceUnit,
    Unit,
)
from kpis.scorecard import ScorecardRow, build_scorecard, latest_month

# --- fields ----------------------------------------------------------------------------


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


class ExactModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: ExactDecimalField,
    }


STATUS_CHOICES = [(status.value, rating.sentence(status)) for status in rating.Status]
# Labels differ between the two directions so the schema documents each (and names
# their enums apart rather than warning that one choice set has two names).
DIRECTION_PREVIOUS_CHOICES = [
    (rating.Direction.IMPROVING.value, "better than the previous figure"),
    (rating.Direction.WORSENING.value, "worse than the previous figure"),
    (rating.Direction.UNCHANGED.value, "equal to the previous figure at the measure's decimals"),
    (rating.Direction.NOT_COMPARABLE.value, "no previous figure, or a series break between"),
]
DIRECTION_YEAR_CHOICES = [
    (rating.Direction.IMPROVING.value, "better than the figure a year earlier"),
    (rating.Direction.WORSENING.value, "worse than the figure a year earlier"),
    (
        rating.Direction.UNCHANGED.value,
        "equal to the figure a year earlier at the measure's decimals",
    ),
    (rating.Direction.NOT_COMPARABLE.value, "no figure a year earlier, or a series break between"),
]

# --- contracts -------------------------------------------------------------------------


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["slug", "name"]


class ContractSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:contract-detail", lookup_field="slug")
    commissioner = OrganisationSerializer(read_only=True)
    provider = OrganisationSerializer(read_only=True)
    measures_url = serializers.HyperlinkedIdentityField(
        view_name="api:measure-list", lookup_field="slug", lookup_url_kwarg="contract_slug"
    )
    scorecard_url = serializers.HyperlinkedIdentityField(
        view_name="api:contract-scorecard", lookup_field="slug"
    )

    class Meta:
        model = Contract
        fields = [
            "url",
            "slug",
            "name",
            "commissioner",
            "provider",
            "start",
            "end",
            "measures_url",
            "scorecard_url",
        ]


# --- measures --------------------------------------------------------------------------


class ToleranceAsWrittenSerializer(ExactModelSerializer):
    """The tolerance exactly as the admin wrote it (the import file's columns)."""

    tolerance_unit = BlankAsNullChoiceField(choices=ToleranceUnit.choices)

    class Meta:
        model = Target
        fields = ["tolerance_low", "tolerance_high", "tolerance_relative", "tolerance_unit"]


class TargetSerializer(ExactModelSerializer):
    tolerance_as_written = ToleranceAsWrittenSerializer(source="*", read_only=True)
    tolerance_low = serializers.SerializerMethodField(
        help_text="The effective tolerance floor (R4): written, or the target less a relative "
        "tolerance; null where lower is better (the better side is open)."
    )
    tolerance_high = serializers.SerializerMethodField(
        help_text="The effective tolerance ceiling (R4): written, or the target plus a relative "
        "tolerance; null where higher is better (the better side is open)."
    )

    class Meta:
        model = Target
        fields = [
            "valid_from",
            "valid_to",
            "target",
            "target_low",
            "target_high",
            "tolerance_as_written",
            "tolerance_low",
            "tolerance_high",
            "note",
        ]

    def _bounds(self, target: Target) -> rating.Bounds:
        # target.measure is the prefetching measure (Django caches the reverse side).
        return rating.resolve_bounds(target.measure.as_definition(), target.as_spec())

    @extend_schema_field(ExactDecimalField(allow_null=True))
    def get_tolerance_low(self, target: Target) -> str | None:
        return ExactDecimalField().to_representation(self._bounds(target).tolerance_low)

    @extend_schema_field(ExactDecimalField(allow_null=True))
    def get_tolerance_high(self, target: Target) -> str | None:
        return ExactDecimalField().to_representation(self._bounds(target).tolerance_high)


class ComparatorSerializer(ExactModelSerializer):
    class Meta:
        model = Comparator
        fields = ["group", "period", "value", "source", "comparable", "note"]


class SeriesBreakSerializer(serializers.ModelSerializer):
    class Meta:
        model = SeriesBreak
        fields = ["from_period", "reason"]


class MeasureSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    polarity = BlankAsNullChoiceField(
        choices=Polarity.choices, help_text="Null: no polarity (never rated)."
    )
    targets = TargetSerializer(many=True, read_only=True)

    class Meta:
        model = Measure
        fields = [
            "url",
            "code",
            "slug",
            "title",
            "kind",
            "unit",
            "per",
            "decimals",
            "polarity",
            "frequency",
            "year_type",
            "cumulative",
            "lag_months",
            "definition",
            "data_source",
            "comparability_note",
            "targets",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, measure: Measure) -> str:
        return reverse(
            "api:measure-detail",
            kwargs={"contract_slug": self.context["contract"].slug, "slug": measure.slug},
            request=self.context.get("request"),
        )


class MeasureDetailSerializer(MeasureSerializer):
    comparators = ComparatorSerializer(many=True, read_only=True)
    series_breaks = SeriesBreakSerializer(many=True, read_only=True)

    class Meta(MeasureSerializer.Meta):
        fields = [*MeasureSerializer.Meta.fields, "comparators", "series_breaks"]


# --- scorecard -------------------------------------------------------------------------


class ScorecardQuerySerializer(serializers.Serializer):
    period = serializers.CharField(
        required=False,
        help_text="The scorecard month, YYYY-MM (e.g. 2018-04). Default: the month of the "
        "latest figure you may see, or the current month when there is none.",
    )

    def validate_period(self, value: str) -> periods.Period:
        return parse_month(value)


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


class ScorecardRowSerializer(serializers.Serializer):
    """One measure on the scorecard (interfaces.md), read from ``kpis.scorecard.ScorecardRow``."""

    code = serializers.CharField(source="measure.code")
    slug = serializers.CharField(source="measure.slug")
    title = serializers.CharField(source="measure.title")
    kind = serializers.ChoiceField(choices=Kind.choices, source="measure.kind")
    unit = serializers.ChoiceField(choices=Unit.choices, source="measure.unit")
    per = serializers.IntegerField(source="measure.per", allow_null=True)
    decimals = serializers.IntegerField(source="measure.decimals")
    period = serializers.CharField(
        allow_null=True, help_text="The period the figure covers (R11); null when there is none."
    )
    value = ExactDecimalField(
        allow_null=True,
        help_text="As reported, or computed unrounded from numerator and denominator.",
    )
    display_value = serializers.CharField(
        help_text="The value as shown beside its verdict, rounded to the measure's decimals (R2)."
    )
    numerator = ExactDecimalField(source="observation.numerator", allow_null=True)
    denominator = ExactDecimalField(source="observation.denominator", allow_null=True)
    target = ExactDecimalField(source="verdict.bounds.target", allow_null=True)
    target_low = ExactDecimalField(source="verdict.bounds.target_low", allow_null=True)
    target_high = ExactDecimalField(source="verdict.bounds.target_high", allow_null=True)
    tolerance_low = ExactDecimalField(
        source="verdict.bounds.tolerance_low",
        allow_null=True,
        help_text="Effective floor (R4); null where there is none or lower is better.",
    )
    tolerance_high = ExactDecimalField(
        source="verdict.bounds.tolerance_high",
        allow_null=True,
        help_text="Effective ceiling (R4); null where there is none or higher is better.",
    )
    status = serializers.ChoiceField(choices=STATUS_CHOICES, source="verdict.status")
    reason = serializers.CharField(
        source="verdict.reason", help_text="The verdict in one sentence."
    )
    direction_previous = serializers.ChoiceField(choices=DIRECTION_PREVIOUS_CHOICES)
    direction_year = serializers.ChoiceField(choices=DIRECTION_YEAR_CHOICES)
    as_at = serializers.DateField(allow_null=True)
    flags = serializers.ListField(child=serializers.ChoiceField(choices=Flag.choices))


class ScorecardSerializer(serializers.Serializer):
    contract = serializers.SlugField(help_text="The contract's slug.")
    period = serializers.CharField(help_text="The scorecard month, YYYY-MM.")
    count = serializers.IntegerField(help_text="How many measures (rows) there are.")
    results = ScorecardRowSerializer(many=True)


# --- errors, for the schema ------------------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class PeriodErrorSerializer(serializers.Serializer):
    period = serializers.ListField(child=serializers.CharField())


NOT_SIGNED_IN = OpenApiResponse(
    ErrorDetailSerializer,
    description="No session and no valid `Authorization: Token <key>` header.",
)
NO_CONTRACT = OpenApiResponse(
    ErrorDetailSerializer,
    description="No such contract, or one your organisation is not party to.",
)
AUTH_ERRORS = {401: NOT_SIGNED_IN, 403: NOT_SIGNED_IN}


def _path(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, str, OpenApiParameter.PATH, description=description)


CONTRACT_SLUG = "The contract's slug, as in the contracts list."
MEASURE_SLUG = (
    "The measure's slug: its code lower-cased, other characters as hyphens (SM 1.1 -> sm-1-1)."
)


# --- views -----------------------------------------------------------------------------


@extend_schema(tags=["contracts"])
@extend_schema_view(
    list=extend_schema(
        summary="Contracts you may see",
        description="The contracts your organisation is party to, as commissioner or provider.",
        responses={200: ContractSerializer(many=True), **AUTH_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One contract",
        parameters=[_path("slug", CONTRACT_SLUG)],
        responses={200: ContractSerializer, **AUTH_ERRORS, 404: NO_CONTRACT},
    ),
)
class ContractViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ContractSerializer
    lookup_field = "slug"

    def get_queryset(self) -> QuerySet[Contract]:
        return access.contracts_for(self.request.user)

    def get_object(self) -> Contract:
        contract = access.contract_for(self.request.user, self.kwargs["slug"])
        self.check_object_permissions(self.request, contract)
        return contract

    @extend_schema(
        tags=["scorecard"],
        summary="The monthly scorecard",
        description=(
            "Every measure of the contract with its latest figure covering a period that ends "
            "on or before the month's end, rated against the target in force for that period "
            "(R13). Not paginated: a scorecard is one document and always lists every measure. "
            "Draft figures appear (flagged `draft`) only for those who may see drafts: provider "
            "staff, commissioners and admins; readers see official figures only."
        ),
        parameters=[_path("slug", CONTRACT_SLUG), ScorecardQuerySerializer],
        responses={
            200: ScorecardSerializer,
            400: OpenApiResponse(
                PeriodErrorSerializer, description="`period` is not a month written YYYY-MM."
            ),
            **AUTH_ERRORS,
            404: NO_CONTRACT,
        },
    )
    @action(detail=True, pagination_class=None, filter_backends=[])
    def scorecard(self, request: Request, slug: str) -> Response:
        contract = self.get_object()
        query = ScorecardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        include_drafts = access.may_see_drafts(request.user, contract)
        month = query.validated_data.get("period") or default_month(contract, include_drafts)
        rows: list[ScorecardRow] = build_scorecard(
            contract.measure_set, month, include_drafts=include_drafts
        )
        document = {
            "contract": contract.slug,
            "period": month.label,
            "count": len(rows),
            "results": rows,
        }
        return Response(ScorecardSerializer(document).data)


def default_month(contract: Contract, include_drafts: bool) -> periods.Period:
    """The month of the latest figure this viewer may see; this month when there is none."""
    month = latest_month(contract.measure_set, include_drafts=include_drafts)
    if month is None:
        today = timezone.localdate()
        month = periods.month(today.year, today.month)
    return month


NO_MEASURE = OpenApiResponse(
    ErrorDetailSerializer, description="No such contract you may see, or no such measure in it."
)


@extend_schema(tags=["measures"])
@extend_schema_view(
    list=extend_schema(
        summary="A contract's measures",
        description="Each measure with its definition and every target, with the tolerance as "
        "written and as resolved (R4).",
        parameters=[_path("contract_slug", CONTRACT_SLUG)],
        responses={200: MeasureSerializer(many=True), **AUTH_ERRORS, 404: NO_CONTRACT},
    ),
    retrieve=extend_schema(
        summary="One measure",
        description="As in the list, with its comparators and series breaks.",
        parameters=[_path("contract_slug", CONTRACT_SLUG), _path("slug", MEASURE_SLUG)],
        responses={200: MeasureDetailSerializer, **AUTH_ERRORS, 404: NO_MEASURE},
    ),
)
class MeasureViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_field = "slug"

    @property
    def contract(self) -> Contract:
        if not hasattr(self, "_contract"):
            self._contract = access.contract_for(self.request.user, self.kwargs["contract_slug"])
        return self._contract

    def get_queryset(self) -> QuerySet[Measure]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no contract
            return Measure.objects.none()
        measures = Measure.objects.filter(
            measure_set_id=self.contract.measure_set_id
        ).prefetch_related(Prefetch("targets", queryset=Target.objects.order_by("valid_from")))
        if self.action == "retrieve":
            measures = measures.prefetch_related("comparators", "series_breaks")
        return measures

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return MeasureDetailSerializer if self.action == "retrieve" else MeasureSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["contract"] = self.contract
        return context


# --- monthly returns: fields -----------------------------------------------------------


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


# What a return can owe (``workflow.OwedItem.kind``), documented for clients.
OWED_KINDS = [
    ("narrative", "the reason for a variance (R9)"),
    ("actions", "an assurance or improvement action with an owner and a due date (R9)"),
    ("no_data_reason", "the reason there is no figure (R9)"),
    ("cannot_rate", "nothing the provider can give: an admin must correct the definition (R9)"),
    ("answer", "an answer to a commissioner's open query"),
]
# The states in which the provider still owes something before submitting.
OWING_STATES = (ReturnState.DRAFT, ReturnState.QUERIED)


# --- monthly returns: documents --------------------------------------------------------


class OwedItemSerializer(serializers.Serializer):
    entry = serializers.IntegerField(source="entry_id", help_text="The entry's id.")
    code = serializers.CharField(help_text="The measure's code.")
    kind = serializers.ChoiceField(choices=OWED_KINDS)
    message = serializers.CharField(help_text="What is owed, in one sentence fit to show.")


class EntryActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Action
        fields = ["id", "description", "owner", "due_date", "recorded_without_owner"]


class EntryQuerySerializer(serializers.ModelSerializer):
    raised_by = serializers.CharField(
        source="raised_by.username", read_only=True, help_text="Who raised it (username)."
    )
    answered_by = serializers.CharField(
        source="answered_by.username",
        read_only=True,
        allow_null=True,
        help_text="Who answered it (username); null while unanswered.",
    )

    class Meta:
        model = Query
        fields = [
            "id",
            "comment",
            "raised_by",
            "raised_at",
            "answer",
            "answered_by",
            "answered_at",
            "closed_at",
        ]


class EntrySerializer(serializers.Serializer):
    """One measure due in a return: the figure as entered, the verdict it gets now, and
    what the provider says about it."""

    # Read from workflow.EntryStatus: the entry (with its figure) and its verdict.

    id = serializers.IntegerField(source="entry.pk")
    code = serializers.CharField(source="entry.measure.code")
    slug = serializers.CharField(source="entry.measure.slug")
    title = serializers.CharField(source="entry.measure.title")
    period = serializers.CharField(
        source="entry.period", help_text="The period the figure covers (R11)."
    )
    value = ExactDecimalField(
        source="entry.observation.value",
        allow_null=True,
        help_text="As entered; null when there is no figure.",
    )
    numerator = ExactDecimalField(source="entry.observation.numerator", allow_null=True)
    denominator = ExactDecimalField(source="entry.observation.denominator", allow_null=True)
    as_at = serializers.DateField(source="entry.observation.as_at", allow_null=True)
    flags = serializers.ListField(
        child=serializers.ChoiceField(choices=Flag.choices),
        source="entry.observation.flags",
        default=list,
    )
    note = serializers.CharField(source="entry.observation.note", default="")
    second_value = ExactDecimalField(source="entry.observation.second_value", allow_null=True)
    second_source = serializers.CharField(source="entry.observation.second_source", default="")
    status = serializers.ChoiceField(choices=STATUS_CHOICES, source="verdict.status")
    reason = serializers.CharField(
        source="verdict.reason", help_text="The verdict in one sentence."
    )
    variance_reason = serializers.CharField(
        source="entry.variance_reason", help_text="Why the measure misses target (R9)."
    )
    no_data_reason = serializers.CharField(
        source="entry.no_data_reason", help_text="Why there is no figure (R9)."
    )
    actions = EntryActionSerializer(source="entry.actions", many=True)
    queries = EntryQuerySerializer(source="entry.queries", many=True)
    version = serializers.IntegerField(
        source="entry.version",
        help_text="Send it back with a change: the change is refused (409) if someone saved "
        "the entry since.",
    )
    updated_by = serializers.CharField(
        source="entry.updated_by.username",
        allow_null=True,
        help_text="Who saved it last (username); null before anyone has.",
    )
    updated_at = serializers.DateTimeField(source="entry.updated_at")
    editable = serializers.SerializerMethodField(
        help_text="Whether you may change this entry now: your role edits entries, and the "
        "return is a draft, or queried and this measure is one of those queried."
    )

    def get_editable(self, status: workflow.EntryStatus) -> bool:
        editable_ids = self.context["editable_ids"]
        return self.context["may_edit"] and (
            editable_ids is None or status.entry.pk in editable_ids
        )


class ReturnSummarySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:return-detail", lookup_url_kwarg="id")
    contract = serializers.SlugField(source="contract.slug", help_text="The contract's slug.")

    class Meta:
        model = MonthlyReturn
        fields = ["id", "url", "contract", "period", "state", "due_date"]


class ReturnSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    contract = serializers.SlugField(help_text="The contract's slug.")
    period = serializers.CharField(help_text="The month of the return, YYYY-MM.")
    state = serializers.ChoiceField(choices=ReturnState.choices)
    due_date = serializers.DateField(allow_null=True)
    owed = OwedItemSerializer(
        many=True,
        help_text="What must be given before the return can be submitted (R9), while it is "
        "draft or queried; empty otherwise.",
    )
    entries = EntrySerializer(many=True)


def _statuses(
    request: Request, monthly_return: MonthlyReturn
) -> tuple[list[workflow.EntryStatus], dict[str, Any]]:
    """The return's entries with their verdicts, and the context that says who may edit."""
    statuses = workflow.entry_statuses(monthly_return)
    # Who raised and answered each query: two queries in all, not two per query.
    prefetch_related_objects(
        [query for status in statuses for query in status.entry.queries.all()],
        "raised_by",
        "answered_by",
    )
    may_edit = access.may(request.user, Do.EDIT_ENTRIES, monthly_return.contract)
    context = {
        "request": request,
        "may_edit": may_edit,
        "editable_ids": workflow.editable_entry_ids(monthly_return) if may_edit else set(),
    }
    return statuses, context


def return_document(request: Request, monthly_return: MonthlyReturn) -> dict[str, Any]:
    """The return as the API shows it, in a fixed number of queries whatever its size."""
    statuses, context = _statuses(request, monthly_return)
    owing = monthly_return.state in OWING_STATES
    document = {
        "id": monthly_return.pk,
        "url": reverse("api:return-detail", kwargs={"id": monthly_return.pk}, request=request),
        "contract": monthly_return.contract.slug,
        "period": monthly_return.period,
        "state": monthly_return.state,
        "due_date": monthly_return.due_date,
        # What workflow.what_is_owed gives, read from the statuses already computed.
        "owed": [item for status in statuses for item in status.owed] if owing else [],
        "entries": statuses,
    }
    return ReturnSerializer(document, context=context).data


def entry_document(request: Request, entry: Entry) -> dict[str, Any]:
    """One entry as it is saved now, as it appears in its return's document."""
    monthly_return = MonthlyReturn.objects.select_related("contract").get(
        pk=entry.monthly_return_id
    )
    statuses, context = _statuses(request, monthly_return)
    (status,) = [s for s in statuses if s.entry.pk == entry.pk]
    return EntrySerializer(status, context=context).data


# --- monthly returns: requests ---------------------------------------------------------


class ReturnFilterSerializer(serializers.Serializer):
    contract = serializers.SlugField(
        required=False, help_text="Only this contract's returns (its slug)."
    )
    period = serializers.CharField(required=False, help_text="Only this month's, YYYY-MM.")
    state = serializers.ChoiceField(
        choices=ReturnState.choices, required=False, help_text="Only returns in this state."
    )

    def validate_contract(self, value: str) -> Contract:
        try:
            return access.contracts_for(self.context["request"].user).get(slug=value)
        except Contract.DoesNotExist:
            # The same words for a contract that does not exist and one you may not see.
            raise serializers.ValidationError(f"'{value}' is not a contract you may see.") from None

    def validate_period(self, value: str) -> periods.Period:
        return parse_month(value)


class ActionChangeSerializer(serializers.Serializer):
    """A new action (no `id`), a change to one (its `id`) or its deletion (`delete`).
    New and changed actions need a description, an owner and a due date."""

    id = serializers.IntegerField(
        required=False, allow_null=True, help_text="An existing action's id; omit to add one."
    )
    description = serializers.CharField(required=False, allow_blank=True)
    owner = serializers.CharField(required=False, allow_blank=True, max_length=200)
    due_date = StrictDateField(required=False, allow_null=True)
    delete = serializers.BooleanField(
        required=False, help_text="True deletes the action named by `id`."
    )


class EntryChangeSerializer(serializers.Serializer):
    """A change to an entry: the `version` it started from and only the fields to change."""

    version = serializers.IntegerField(
        min_value=1, help_text="The entry's `version` when you read it (optimistic locking)."
    )
    value = StrictDecimalField(help_text="A number (JSON number or string); null clears it.")
    numerator = StrictDecimalField()
    denominator = StrictDecimalField()
    as_at = StrictDateField(required=False, allow_null=True)
    flags = serializers.ListField(
        child=serializers.ChoiceField(choices=Flag.choices), required=False, allow_null=True
    )
    note = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    second_value = StrictDecimalField()
    second_source = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=300
    )
    variance_reason = serializers.CharField(required=False, allow_blank=True)
    no_data_reason = serializers.CharField(required=False, allow_blank=True)
    actions = ActionChangeSerializer(many=True, required=False)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Why the change is made, kept in the return's history (say it when "
        "changing a reopened return).",
    )

    # A change names the version it started from, so ``version`` stays required though
    # the method is PATCH: drf-spectacular documents a PATCH body by setting ``partial``
    # (every field optional), which this serializer never is.
    @property
    def partial(self) -> bool:
        return False

    @partial.setter
    def partial(self, value: bool) -> None:
        pass


class NewQuerySerializer(serializers.Serializer):
    entry = serializers.IntegerField(help_text="The id of the entry queried.")
    comment = serializers.CharField(allow_blank=True, help_text="What the query is.")


class RaiseQueriesSerializer(serializers.Serializer):
    queries = NewQuerySerializer(many=True, help_text="One or more entries, each with a comment.")


class QueryAnswerSerializer(serializers.Serializer):
    query = serializers.IntegerField(help_text="The id of an open query.")
    answer = serializers.CharField(allow_blank=True)


class AnswerQueriesSerializer(serializers.Serializer):
    answers = QueryAnswerSerializer(many=True, help_text="One or more open queries, answered.")


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Why the return is reopened (R15)."
    )


class BulkSignOffSerializer(serializers.Serializer):
    returns = serializers.ListField(
        child=serializers.IntegerField(),
        allow_empty=False,
        max_length=200,
        help_text="The ids of the returns to sign off.",
    )


class BulkSignOffResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The return's id, as sent.")
    signed_off = serializers.BooleanField()
    message = serializers.CharField(help_text="What happened, or why it was refused.")


class BulkSignOffResultsSerializer(serializers.Serializer):
    results = BulkSignOffResultSerializer(many=True, help_text="One per id sent, in order.")


# --- monthly returns: errors -----------------------------------------------------------


class WorkflowErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    field = serializers.CharField(
        required=False, help_text="The request field at fault, where there is one."
    )


class OwedErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    owed = OwedItemSerializer(many=True)


class EntryConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = EntrySerializer(
        required=False, help_text="The entry as saved now (when someone saved since you read it)."
    )
    submitted = serializers.DictField(
        required=False, help_text="Your change exactly as you sent it, to compare and resend."
    )


def _field_errors(name: str, fields: Any) -> Any:
    """A 400 body of field errors: each field of a request with what is wrong with it."""
    return inline_serializer(
        name,
        fields={
            field: serializers.ListField(child=serializers.CharField(), required=False)
            for field in [*fields, api_settings.NON_FIELD_ERRORS_KEY]
        },
    )


RETURN_ID = "The return's id."
ENTRY_ID = "The entry's id, as in its return's `entries`."
NO_RETURN = OpenApiResponse(
    ErrorDetailSerializer,
    description="No such return, or one you may not see: another organisation's, or a "
    "return not yet signed off when you see official figures only.",
)
NO_ENTRY = OpenApiResponse(
    ErrorDetailSerializer, description="No such entry, or one in a return you may not see."
)
ROLE_REFUSED = OpenApiResponse(
    ErrorDetailSerializer,
    description="Not signed in, or your role may not do this on this contract.",
)
STATE_REFUSED = OpenApiResponse(
    ErrorDetailSerializer, description="The return's state does not allow this now."
)
REFUSED = OpenApiResponse(
    WorkflowErrorSerializer,
    description="The request breaks the return's rules (`field` names the part at fault), "
    "or its body is malformed (field errors).",
)
WRITE_ERRORS = {
    400: REFUSED,
    401: NOT_SIGNED_IN,
    403: ROLE_REFUSED,
    404: NO_RETURN,
    409: STATE_REFUSED,
}
RETURN_DESCRIPTION = (
    "Answers with the return afterwards. Refusals: 404 for a return you may not see, 403 "
    "when your role may not do this, 409 when the return's state does not allow it."
)


def _id(description: str) -> OpenApiParameter:
    return OpenApiParameter("id", int, OpenApiParameter.PATH, description=description)


# --- monthly returns: views ------------------------------------------------------------


class WorkflowAnswers:
    """Turns the workflow's refusals into HTTP answers, the same for every endpoint."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, workflow.Owed):
            owed = OwedItemSerializer(exc.items, many=True).data
            return Response({"detail": exc.message, "owed": owed}, status=exc.status)
        if isinstance(exc, workflow.WorkflowError):
            body = {"detail": exc.message}
            if exc.detail.get("field"):
                body["field"] = exc.detail["field"]
            return Response(body, status=exc.status)
        if isinstance(exc, DjangoValidationError):
            return Response(validation_errors(exc), status=400)
        return super().handle_exception(exc)  # type: ignore[misc]


def validation_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    """A model's ValidationError as DRF writes field errors, keeping the field names."""
    if not hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
    return {
        api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else name: messages
        for name, messages in exc.message_dict.items()
    }


@extend_schema(tags=["returns"])
class ReturnViewSet(WorkflowAnswers, viewsets.GenericViewSet):
    """The monthly returns you may see, and the steps of their workflow (R9, R14, R15)."""

    serializer_class = ReturnSummarySerializer
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9]+"
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[MonthlyReturn]:
        return access.returns_for(self.request.user).order_by("contract__slug", "-period_start")

    def _visible(self) -> MonthlyReturn:
        return access.return_for(self.request.user, self.kwargs["id"])

    def _document(self) -> Response:
        """The return as it is now (after the step just taken)."""
        return Response(return_document(self.request, self._visible()))

    @extend_schema(
        summary="Returns you may see",
        description="Newest month first within each contract. Provider staff, commissioners "
        "and admins see returns in every state; readers and officers only signed-off ones.",
        parameters=[ReturnFilterSerializer],
        responses={
            200: ReturnSummarySerializer(many=True),
            400: OpenApiResponse(
                _field_errors("ReturnFilterErrors", ReturnFilterSerializer().fields),
                description="A filter's value is not one the filter takes; the message names it.",
            ),
            **AUTH_ERRORS,
        },
    )
    def list(self, request: Request) -> Response:
        filters = ReturnFilterSerializer(data=request.query_params, context={"request": request})
        filters.is_valid(raise_exception=True)
        returns = self.get_queryset()
        if "contract" in filters.validated_data:
            returns = returns.filter(contract=filters.validated_data["contract"])
        if "period" in filters.validated_data:
            returns = returns.filter(period=filters.validated_data["period"].label)
        if "state" in filters.validated_data:
            returns = returns.filter(state=filters.validated_data["state"])
        page = self.paginate_queryset(returns)
        serializer = ReturnSummarySerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        summary="One return",
        description="The return with every entry: its figure, verdict (R1), narrative, "
        "actions and queries, its `version` (send it back with a change) and whether you may "
        "change it now; and, while draft or queried, what is still owed before it can be "
        "submitted (R9).",
        parameters=[_id(RETURN_ID)],
        responses={200: ReturnSerializer, **AUTH_ERRORS, 404: NO_RETURN},
    )
    def retrieve(self, request: Request, **kwargs: Any) -> Response:
        return self._document()

    @extend_schema(
        summary="Submit (provider lead)",
        description="Draft or queried -> submitted, refused while anything is owed (R9): the "
        "400 lists exactly what. Submitting closes the answered queries. " + RETURN_DESCRIPTION,
        parameters=[_id(RETURN_ID)],
        request=None,
        responses={
            200: ReturnSerializer,
            **WRITE_ERRORS,
            400: OpenApiResponse(OwedErrorSerializer, description="Something is still owed."),
        },
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, **kwargs: Any) -> Response:
        workflow.submit(self._visible().pk, request.user)
        return self._document()

    @extend_schema(
        summary="Query measures (commissioner)",
        description="Submitted -> queried: challenge one or more measures, each with a "
        "comment. The provider may then change only the queried measures. " + RETURN_DESCRIPTION,
        parameters=[_id(RETURN_ID)],
        request=RaiseQueriesSerializer,
        responses={200: ReturnSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def query(self, request: Request, **kwargs: Any) -> Response:
        monthly_return = self._visible()
        body = RaiseQueriesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        queries = [(q["entry"], q["comment"]) for q in body.validated_data["queries"]]
        workflow.raise_query(monthly_return.pk, request.user, queries)
        return self._document()

    @extend_schema(
        summary="Answer queries (provider)",
        description="Answer open queries by their ids while the return is queried; "
        "resubmitting closes them. " + RETURN_DESCRIPTION,
        parameters=[_id(RETURN_ID)],
        request=AnswerQueriesSerializer,
        responses={200: ReturnSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, **kwargs: Any) -> Response:
        monthly_return = self._visible()
        body = AnswerQueriesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        answers = [(a["query"], a["answer"]) for a in body.validated_data["answers"]]
        workflow.answer_queries(monthly_return.pk, request.user, answers)
        return self._document()

    @extend_schema(
        summary="Sign off (commissioner)",
        description="Submitted -> signed off: the return freezes and its figures become "
        "official (R14). Refused (400, with `owed`) while a measure cannot be rated. "
        + RETURN_DESCRIPTION,
        parameters=[_id(RETURN_ID)],
        request=None,
        responses={
            200: ReturnSerializer,
            **WRITE_ERRORS,
            400: OpenApiResponse(
                OwedErrorSerializer, description="A measure cannot be rated (R9)."
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="sign-off", url_name="sign-off")
    def sign_off(self, request: Request, **kwargs: Any) -> Response:
        workflow.sign_off(self._visible().pk, request.user)
        return self._document()

    @extend_schema(
        summary="Reopen (commissioner)",
        description="Signed off -> draft, only with a reason (R15). Its figures are draft "
        "again until it is signed off once more; every version stays in the history. "
        + RETURN_DESCRIPTION,
        parameters=[_id(RETURN_ID)],
        request=ReopenSerializer,
        responses={200: ReturnSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, **kwargs: Any) -> Response:
        monthly_return = self._visible()
        body = ReopenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        workflow.reopen(monthly_return.pk, request.user, body.validated_data["reason"])
        return self._document()

    @extend_schema(
        operation_id="v1_returns_bulk_sign_off_create",
        summary="Sign off several returns (commissioner)",
        description="Each return is signed off on its own: one refusal stops no other. "
        "Always 200, with a result per id sent; a return you may not see reads "
        "'No such return.'",
        request=BulkSignOffSerializer,
        responses={
            200: BulkSignOffResultsSerializer,
            400: OpenApiResponse(
                _field_errors("BulkSignOffErrors", BulkSignOffSerializer().fields),
                description="`returns` is not a list of ids.",
            ),
            **AUTH_ERRORS,
        },
    )
    @action(detail=False, methods=["post"], url_path="sign-off", url_name="bulk-sign-off")
    def bulk_sign_off(self, request: Request) -> Response:
        body = BulkSignOffSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        wanted = list(dict.fromkeys(body.validated_data["returns"]))
        # Another organisation's return is not found, as everywhere: the workflow's own
        # refusal would name its contract.
        visible = set(self.get_queryset().filter(pk__in=wanted).values_list("pk", flat=True))
        done = {
            result.return_id: result
            for result in workflow.bulk_sign_off(
                [pk for pk in wanted if pk in visible], request.user
            )
        }
        results = [
            {"id": pk, "signed_off": done[pk].signed_off, "message": done[pk].message}
            if pk in done
            else {"id": pk, "signed_off": False, "message": "No such return."}
            for pk in wanted
        ]
        return Response(BulkSignOffResultsSerializer({"results": results}).data)


@extend_schema(tags=["returns"])
class EntryViewSet(WorkflowAnswers, viewsets.GenericViewSet):
    """One entry of a return: read it, or change its figure, narrative and actions."""

    serializer_class = EntrySerializer
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9]+"
    filter_backends: list[Any] = []

    def _entry(self) -> Entry:
        visible = access.returns_for(self.request.user)
        try:
            return Entry.objects.select_related("observation").get(
                pk=self.kwargs["id"], monthly_return__in=visible
            )
        except Entry.DoesNotExist:
            raise Http404("No such entry.") from None

    @extend_schema(
        summary="One entry",
        description="As in its return's `entries`.",
        parameters=[_id(ENTRY_ID)],
        responses={200: EntrySerializer, **AUTH_ERRORS, 404: NO_ENTRY},
    )
    def retrieve(self, request: Request, **kwargs: Any) -> Response:
        return Response(entry_document(request, self._entry()))

    @extend_schema(
        summary="Change an entry (provider)",
        description=(
            "Send the entry's `version` and only what changes: the figure's fields, the "
            "reasons (R9), actions to add, change or delete, and a `reason` for the record. "
            "Fields left out keep their values; null clears a figure's field. Allowed while "
            "the return is a draft, and while it is queried for the queried measures only. "
            "Answers with the entry as saved."
        ),
        parameters=[_id(ENTRY_ID)],
        request=EntryChangeSerializer,
        responses={
            200: EntrySerializer,
            400: OpenApiResponse(
                _field_errors("EntryChangeErrors", EntryChangeSerializer().fields),
                description="A field is malformed (the message names what was written) or "
                "breaks a rule: a figure that contradicts its numerator and denominator "
                "(R6), an action without an owner or due date.",
            ),
            401: NOT_SIGNED_IN,
            403: ROLE_REFUSED,
            404: NO_ENTRY,
            409: OpenApiResponse(
                EntryConflictSerializer,
                description="Someone saved the entry since your `version`: nothing was "
                "saved; `current` is the entry as saved, `submitted` your change. Or the "
                "return's state does not allow the change (`detail` only).",
            ),
        },
    )
    def partial_update(self, request: Request, **kwargs: Any) -> Response:
        entry = self._entry()
        body = EntryChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        change = body.validated_data
        figures = {name: change[name] for name in workflow.FIGURE_FIELDS if name in change}
        if entry.observation is not None and entry.version == change["version"]:
            # PATCH keeps what is not sent: save_entry treats a figure with no value,
            # numerator or denominator as cleared, so send the ones left out as they are.
            # Read at the version the client names, so save_entry's check covers them.
            for name in ("value", "numerator", "denominator"):
                figures.setdefault(name, getattr(entry.observation, name))
        narrative = {name: change[name] for name in workflow.NARRATIVE_FIELDS if name in change}
        saved = workflow.save_entry(
            entry.pk,
            request.user,
            version=change["version"],
            figures=figures,
            narrative=narrative or None,
            actions=change.get("actions", ()),
            reason=change.get("reason", ""),
        )
        return Response(entry_document(request, saved))

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, workflow.StaleEntry):
            sent = self.request.data if isinstance(self.request.data, dict) else {}
            fields = EntryChangeSerializer().fields
            return Response(
                {
                    "detail": exc.message,
                    # Read afresh: the entry as saved by whoever saved first.
                    "current": entry_document(self.request, exc.entry),
                    "submitted": {name: value for name, value in sent.items() if name in fields},
                },
                status=exc.status,
            )
        return super().handle_exception(exc)
