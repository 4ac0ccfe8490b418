"""The read API (``/api/v1/``): contracts, their measures and the monthly scorecard.

Every endpoint finds its contract through ``contracts.access`` and nowhere else, so a
contract of another organisation is a 404 (never a 403 that would hint it exists), and
whether draft figures show is ``access.may_see_drafts`` (R13). Rating, bounds and the
scorecard come from ``kpis``; the views here only choose rows and serialise them.

Numbers are exact decimals written as strings with no trailing zeros ("616", "92.8"),
never floats, so a client can reproduce the inclusive boundaries of R2.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from contracts import access
from contracts.models import Contract, Organisation
from kpis import periods, rating
from kpis.models import (
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
