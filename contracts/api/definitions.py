"""A contract's definitions: the contract, its measures and their targets, read by
everyone party to the contract and kept by its council's admins.

Read, each is found through ``contracts.access`` (another organisation's is a 404).
Written (``Do.KEEP_DEFINITIONS``), every write is checked by the model's own
``full_clean``, as the Django admin and the import check it (R6, R16), and saved with
the API user in its history.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Prefetch, Q, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings

from contracts import access
from contracts.access import Do
from contracts.api.fields import (
    BlankAsNullChoiceField,
    ExactDecimalField,
    ExactModelSerializer,
    SlugKeyField,
    StrictDateField,
    StrictDecimalField,
    TrueOrFalseFilter,
    validation_errors,
)
from contracts.api.schema import (
    AUTH_ERRORS,
    CONTRACT_KEY,
    CONTRACT_SLUG,
    ID_KEY,
    MEASURE_KEY,
    MEASURE_SLUG,
    NO_CONTRACT,
    NO_MEASURE,
    NOT_SIGNED_IN,
    ErrorDetailSerializer,
    field_errors,
    id_parameter,
    list_errors,
    no_page,
    path_parameter,
)
from contracts.api.scorecard import ScorecardAction, SeriesAction
from contracts.models import Contract, Organisation, measure_set_for
from kpis import rating
from kpis.models import (
    VALUE_FIELD,
    Comparator,
    Frequency,
    Kind,
    Measure,
    MeasureSet,
    Polarity,
    SeriesBreak,
    Target,
    TargetValues,
    ToleranceUnit,
    Unit,
    YearType,
    measure_slug,
)

# --- reading ---------------------------------------------------------------------------


def contract_record_url(serializer: serializers.Serializer, view_name: str, **key: Any) -> str:
    """The URL of a record under the serializer's contract (``contracts/<slug>/...``)."""
    return reverse(
        view_name,
        kwargs={"contract_slug": serializer.context["contract"].slug, **key},
        request=serializer.context.get("request"),
    )


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
    targets_url = serializers.HyperlinkedIdentityField(
        view_name="api:target-list", lookup_field="slug", lookup_url_kwarg="contract_slug"
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
            "targets_url",
        ]


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
            "id",
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


class ContractTargetSerializer(TargetSerializer):
    """A target in the contract's targets list: as in its measure's, naming the measure."""

    url = serializers.SerializerMethodField()
    measure = serializers.CharField(source="measure.slug", help_text="The measure's slug.")
    code = serializers.CharField(source="measure.code", help_text="The measure's code.")

    class Meta(TargetSerializer.Meta):
        fields = ["id", "url", "measure", "code", *TargetSerializer.Meta.fields[1:]]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, target: Target) -> str:
        return contract_record_url(self, "api:target-detail", id=target.pk)


class ComparatorSerializer(ExactModelSerializer):
    class Meta:
        model = Comparator
        fields = ["group", "period", "value", "source", "comparable", "note"]


class SeriesBreakSerializer(serializers.ModelSerializer):
    class Meta:
        model = SeriesBreak
        fields = ["from_period", "reason"]


# A measure's own fields, read and written alike (after its code): how it is measured and
# rated, then the notes that describe it.
MEASURE_FIELDS = [
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
]
MEASURE_NOTES = ["definition", "data_source", "comparability_note"]


class MeasureSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    polarity = BlankAsNullChoiceField(
        choices=Polarity.choices, help_text="Null: no polarity (never rated)."
    )
    targets = TargetSerializer(many=True, read_only=True)

    class Meta:
        model = Measure
        fields = ["url", "code", "slug", *MEASURE_FIELDS, *MEASURE_NOTES, "targets"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, measure: Measure) -> str:
        return contract_record_url(self, "api:measure-detail", slug=measure.slug)


class MeasureDetailSerializer(MeasureSerializer):
    comparators = ComparatorSerializer(many=True, read_only=True)
    series_breaks = SeriesBreakSerializer(many=True, read_only=True)

    class Meta(MeasureSerializer.Meta):
        fields = [*MeasureSerializer.Meta.fields, "comparators", "series_breaks"]


# --- writing: checked by the model -----------------------------------------------------


# The reason recorded in a record's history when a write gives none, and how long one may
# be (django-simple-history's change reason column; the same for every history table).
API_REASON = "Saved through the API"
REASON_LENGTH = Contract.history.model._meta.get_field("history_change_reason").max_length


def written(value: Any) -> str:
    """A value from a request as its sender wrote it, for a message."""
    return value if isinstance(value, str) else json.dumps(value)


class CheckedModelSerializer(serializers.ModelSerializer):
    """A write checked by the model's own ``full_clean`` (its fields, ``clean()`` and
    constraints), the check the Django admin and the import make, so the API refuses the
    same things in the same words (R6, R16); each message under the request field it
    concerns. Saved with the API user and a reason in the record's history: the write's
    ``reason``, or "Saved through the API"."""

    reason = serializers.CharField(
        required=False,
        write_only=True,
        max_length=REASON_LENGTH,
        help_text="Why: recorded with the change in the record's history (at most "
        f'{REASON_LENGTH} characters). Default: "{API_REASON}".',
    )
    # Where a model field's messages go when the request has no field of its name.
    error_fields: dict[str, str] = {}
    # Off where the serializer checks the model's constraints itself, in better words.
    check_constraints = True
    # Fields a write may send only with the value they have anyway (``fixed_values``).
    fixed_fields: tuple[str, ...] = ()

    def get_field_names(self, declared_fields: Any, info: Any) -> list[str]:
        return [*super().get_field_names(declared_fields, info), "reason"]

    def get_validators(self) -> list[Any]:
        return []  # uniqueness is full_clean's, in the model's words

    def fixed_values(self, data: Mapping[str, Any]) -> dict[str, tuple[Any, Callable[[str], str]]]:
        """Each of ``fixed_fields`` with the value it must have if sent (one that stays, or
        one made from another field) and the refusal of any other value, given what was
        sent: a different one is refused rather than ignored in silence."""
        return {}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        if isinstance(data, Mapping):
            for name, (value, refusal) in self.fixed_values(data).items():
                if name in data and data[name] != value:
                    errors[name] = [refusal(written(data[name]))]
        try:
            attrs = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**exc.detail, **errors}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def new_instance(self) -> models.Model:
        return self.Meta.model()

    def unchecked(self, instance: models.Model) -> list[str]:
        """Model fields full_clean leaves alone: those set only when saving."""
        return []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance if self.instance is not None else self.new_instance()
        for name, value in attrs.items():
            if name != "reason":
                setattr(instance, name, value)
        try:
            instance.full_clean(
                exclude=self.unchecked(instance), validate_constraints=self.check_constraints
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(self.request_errors(exc)) from None
        self.checked = instance
        return attrs

    def request_errors(self, exc: DjangoValidationError) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for name, messages in validation_errors(exc).items():
            if name not in self.fields:
                name = self.error_fields.get(name, api_settings.NON_FIELD_ERRORS_KEY)
            errors.setdefault(name, []).extend(messages)
        return errors

    def create(self, validated_data: dict[str, Any]) -> models.Model:
        return self._save()

    def update(self, instance: models.Model, validated_data: dict[str, Any]) -> models.Model:
        return self._save()

    def before_save(self, instance: models.Model) -> None:
        pass

    def _save(self) -> models.Model:
        instance = self.checked
        # Who and why, for django-simple-history (as the import stamps its rows).
        instance._history_user = self.context["request"].user  # type: ignore[attr-defined]
        reason = self.validated_data.get("reason", API_REASON)
        instance._change_reason = reason  # type: ignore[attr-defined]
        self.before_save(instance)
        try:
            with transaction.atomic():
                instance.save()
        except IntegrityError:
            # Checked a moment ago: someone saved a clashing record since (a same code).
            raise serializers.ValidationError(
                {
                    api_settings.NON_FIELD_ERRORS_KEY: [
                        "Someone saved a record that clashes with this one meanwhile: read "
                        "it again, then retry."
                    ]
                }
            ) from None
        return instance


class OrganisationSlugField(SlugKeyField):
    def __init__(self, kind: str, **kwargs: Any) -> None:
        super().__init__(
            slug_field="slug", queryset=Organisation.objects.filter(kind=kind), **kwargs
        )
        self.error_messages["does_not_exist"] = f"'{{value}}' is not the slug of any {kind}."
        self.error_messages["invalid"] = f"Give the {kind}'s slug."


class ContractWriteSerializer(CheckedModelSerializer):
    """A new contract. Its measure set is made with it (or an unclaimed one of its slug,
    loaded before it, is taken), as the import does."""

    slug = serializers.SlugField(
        max_length=100, help_text="The contract's key in URLs: letters, digits and hyphens."
    )
    commissioner = OrganisationSlugField(
        Organisation.Kind.COUNCIL,
        help_text="The commissioning council's slug: your own council, unless you are a superuser.",
    )
    provider = OrganisationSlugField(Organisation.Kind.PROVIDER, help_text="The provider's slug.")
    start = StrictDateField()
    end = StrictDateField(required=False, allow_null=True, help_text="Null: open-ended.")
    error_fields = {"measure_set": "slug"}

    class Meta:
        model = Contract
        fields = ["slug", "name", "commissioner", "provider", "start", "end"]

    def validate_commissioner(self, council: Organisation) -> Organisation:
        user = self.context["request"].user
        membership = access.membership_of(user)
        if user.is_superuser or (membership and membership.organisation_id == council.pk):
            return council
        own = membership.organisation.slug if membership else "none"
        raise serializers.ValidationError(
            f"'{council.slug}' is not your council ({own}): an admin creates contracts "
            "commissioned by their own council."
        )

    def validate_slug(self, slug: str) -> str:
        if Contract.objects.filter(slug=slug).exists():
            raise serializers.ValidationError(f"There is already a contract '{slug}'.")
        return slug

    def unchecked(self, instance: models.Model) -> list[str]:
        return ["measure_set"] if instance._state.adding else []

    def before_save(self, contract: Contract) -> None:
        if contract._state.adding:
            contract.measure_set = self._measure_set(contract)

    def _measure_set(self, contract: Contract) -> MeasureSet:
        measure_set = measure_set_for(contract.slug, contract.name)
        if measure_set._state.adding:
            measure_set._history_user = contract._history_user  # type: ignore[attr-defined]
            measure_set._change_reason = contract._change_reason  # type: ignore[attr-defined]
            measure_set.save()
        return measure_set


class ContractChangeSerializer(ContractWriteSerializer):
    """A change to a contract: its key (slug) and commissioner stay; sent, they must be
    the contract's own."""

    slug = None  # type: ignore[assignment]
    commissioner = None  # type: ignore[assignment]
    fixed_fields = ("slug", "commissioner")

    class Meta(ContractWriteSerializer.Meta):
        fields = ["name", "provider", "start", "end"]

    def fixed_values(self, data: Mapping[str, Any]) -> dict[str, tuple[Any, Callable[[str], str]]]:
        contract: Contract = self.instance
        slug, council = contract.slug, contract.commissioner.slug
        return {
            "slug": (
                slug,
                lambda sent: (
                    f"The slug cannot change: this contract's is '{slug}', not "
                    f"'{sent}'. A contract under another slug is a new contract (POST)."
                ),
            ),
            "commissioner": (
                council,
                lambda sent: (
                    f"The commissioner cannot change: this contract's is '{council}', not '{sent}'."
                ),
            ),
        }


# Up to six decimal places are stored (kpis.models.VALUE_FIELD), so no more are shown.
MAX_DECIMALS = VALUE_FIELD["decimal_places"]


class MeasureWriteSerializer(CheckedModelSerializer):
    """A new measure of the contract, or a change to one. Fields left out of a new
    measure take the import's defaults (monthly, financial year, one decimal)."""

    polarity = BlankAsNullChoiceField(
        choices=Polarity.choices,
        read_only=False,
        required=False,
        help_text="Null: no polarity (never rated).",
    )
    decimals = serializers.IntegerField(
        min_value=0,
        max_value=MAX_DECIMALS,
        required=False,
        help_text=f"Decimal places shown, 0 to {MAX_DECIMALS}.",
    )
    error_fields = {"slug": "code", "measure_set": "code"}
    # The code's and the slug's uniqueness are checked in validate(), naming the clash.
    check_constraints = False
    fixed_fields = ("slug",)

    class Meta:
        model = Measure
        fields = ["code", *MEASURE_FIELDS, "display_order", *MEASURE_NOTES]

    def new_instance(self) -> Measure:
        return Measure(measure_set=self.context["contract"].measure_set)

    def fixed_values(self, data: Mapping[str, Any]) -> dict[str, tuple[Any, Callable[[str], str]]]:
        code = data.get("code", getattr(self.instance, "code", None))
        if not isinstance(code, str) or not measure_slug(code):
            return {}  # no code, or a bad one: the code's own error says so
        slug = measure_slug(code)
        return {
            "slug": (
                slug,
                lambda sent: (
                    f"The slug cannot change by itself: it is made from the code "
                    f"('{code}' makes '{slug}'), not '{sent}'. Change the code instead."
                ),
            )
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        contract: Contract = self.context["contract"]
        if "code" in attrs:
            slug = measure_slug(attrs["code"])
            others = Measure.objects.filter(measure_set_id=contract.measure_set_id)
            if self.instance is not None:
                others = others.exclude(pk=self.instance.pk)
            clash = others.filter(Q(code=attrs["code"]) | Q(slug=slug)).first() if slug else None
            if clash is not None:
                same = "." if clash.code == attrs["code"] else f", with the same URL key '{slug}'."
                raise serializers.ValidationError(
                    {"code": [f"{contract.slug} already has the measure {clash.code}{same}"]}
                )
        # A new frequency or year type under figures (R11), or a new way of rating under
        # official ones (R15, R16), is the model's refusal (Measure.frozen_changes).
        return super().validate(attrs)


class TargetWriteSerializer(CheckedModelSerializer):
    """A new target of one of the contract's measures, as the admin or a targets file
    writes it: a point target or a target range (band measures), and a tolerance either
    as a band or relative to the target (R4). Blank tolerance: none (R3)."""

    measure = SlugKeyField(
        slug_field="slug",
        queryset=Measure.objects.none(),
        help_text="The measure's slug (its code lower-cased, other characters as hyphens).",
    )
    valid_from = StrictDateField(help_text="The first day it is in force.")
    valid_to = StrictDateField(
        required=False, allow_null=True, help_text="The last day; null: until further notice."
    )
    target = StrictDecimalField()
    target_low = StrictDecimalField(help_text="Band measures: target range from.")
    target_high = StrictDecimalField(help_text="Band measures: target range to.")
    tolerance_low = StrictDecimalField(help_text="The tolerance band as written, from.")
    tolerance_high = StrictDecimalField(help_text="The tolerance band as written, to.")
    tolerance_relative = StrictDecimalField(
        help_text="A tolerance relative to the target, in `tolerance_unit` (R4)."
    )
    tolerance_unit = BlankAsNullChoiceField(
        choices=ToleranceUnit.choices,
        read_only=False,
        required=False,
        help_text="With `tolerance_relative`: points, or percent of the target.",
    )

    class Meta:
        model = Target
        # The columns of a targets file, with the measure for its contract and code.
        fields = ["measure", "valid_from", "valid_to", *TargetValues.VALUE_FIELDS, "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        contract = self.context.get("contract")
        if "measure" in self.fields and contract is not None:
            self.fields["measure"].queryset = Measure.objects.filter(
                measure_set_id=contract.measure_set_id
            )
            self.fields["measure"].error_messages["does_not_exist"] = (
                f"'{{value}}' is not the slug of a measure of {contract.slug}."
            )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        def current(name: str) -> Any:
            return attrs[name] if name in attrs else getattr(self.instance, name, None)

        valid_from, valid_to = current("valid_from"), current("valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            raise serializers.ValidationError(
                {
                    "valid_to": [
                        f"is before valid_from ({valid_from.isoformat()}): a target cannot "
                        "end before it starts."
                    ]
                }
            )
        return super().validate(attrs)


class TargetChangeSerializer(TargetWriteSerializer):
    """A change to a target: its measure stays (sent, it must be the target's own).
    Refused once official figures are rated against it (R16): then only a target revision
    changes it."""

    measure = None  # type: ignore[assignment]
    fixed_fields = ("measure",)

    def fixed_values(self, data: Mapping[str, Any]) -> dict[str, tuple[Any, Callable[[str], str]]]:
        slug = self.instance.measure.slug
        return {
            "measure": (
                slug,
                lambda sent: (
                    f"The measure cannot change: this target's is '{slug}', not "
                    f"'{sent}'. Add a target to that measure instead."
                ),
            )
        }

    class Meta(TargetWriteSerializer.Meta):
        fields = [name for name in TargetWriteSerializer.Meta.fields if name != "measure"]


# --- the views' shared parts -----------------------------------------------------------


class DefinitionWrites:
    """POST (create), PUT and PATCH (change) for the keepers of a contract's definitions:
    404 for what you may not see, then 403 unless you keep it, then the model's checks
    (400); answered with the record as the reads show it, saved in one transaction."""

    create_serializer_class: type[serializers.Serializer]
    change_serializer_class: type[serializers.Serializer]

    def kept_contract(self, instance: models.Model | None) -> Contract | None:
        """The contract whose keepers may make this write (None: one not yet made)."""
        return None

    def document(self, saved: models.Model) -> dict[str, Any]:
        fresh = self.get_queryset().get(pk=saved.pk)  # type: ignore[attr-defined]
        return self.get_serializer(fresh).data  # type: ignore[attr-defined]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        access.require(request.user, Do.KEEP_DEFINITIONS, self.kept_contract(None))
        body = self.create_serializer_class(
            data=request.data,
            context=self.get_serializer_context(),  # type: ignore[attr-defined]
        )
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            saved = body.save()
        return Response(self.document(saved), status=201)

    def update(
        self, request: Request, *args: Any, partial: bool = False, **kwargs: Any
    ) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        access.require(request.user, Do.KEEP_DEFINITIONS, self.kept_contract(instance))
        body = self.change_serializer_class(
            instance,
            data=request.data,
            partial=partial,
            context=self.get_serializer_context(),  # type: ignore[attr-defined]
        )
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            saved = body.save()
        return Response(self.document(saved))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


class OfContract:
    """A view of one contract's records, found through ``contracts.access`` (404)."""

    @property
    def contract(self) -> Contract:
        if not hasattr(self, "_contract"):
            self._contract = access.contract_for(
                self.request.user,  # type: ignore[attr-defined]
                self.kwargs["contract_slug"],  # type: ignore[attr-defined]
            )
        return self._contract

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()  # type: ignore[misc]
        if not getattr(self, "swagger_fake_view", False):
            context["contract"] = self.contract
        return context

    def kept_contract(self, instance: models.Model | None) -> Contract | None:
        return self.contract


class ContractFilter(filters.FilterSet):
    commissioner = filters.CharFilter(
        field_name="commissioner__slug",
        help_text="Only contracts this council commissions (its slug).",
    )
    provider = filters.CharFilter(
        field_name="provider__slug", help_text="Only contracts this provider runs (its slug)."
    )
    active_on = filters.DateFilter(
        method="filter_active_on",
        help_text="Only contracts running on this date (YYYY-MM-DD): started on or before "
        "it and not ended before it.",
    )

    class Meta:
        model = Contract
        fields = ["commissioner", "provider", "active_on"]

    def filter_active_on(self, contracts: QuerySet, name: str, day: date) -> QuerySet:
        return contracts.filter(start__lte=day).filter(Q(end__isnull=True) | Q(end__gte=day))


NO_POLARITY = "none"


class MeasureFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=Kind.choices, help_text="Only measures of this kind.")
    unit = filters.ChoiceFilter(choices=Unit.choices, help_text="Only measures in this unit.")
    polarity = filters.ChoiceFilter(
        choices=[*Polarity.choices, (NO_POLARITY, "No polarity")],
        method="filter_polarity",
        help_text="Only measures of this polarity; `none` for those without one.",
    )
    frequency = filters.ChoiceFilter(
        choices=Frequency.choices, help_text="Only measures reported this often."
    )
    year_type = filters.ChoiceFilter(
        choices=YearType.choices, help_text="Only measures over this kind of year."
    )
    cumulative = TrueOrFalseFilter(help_text="Only cumulative (or only non-cumulative) ones.")

    class Meta:
        model = Measure
        fields = ["kind", "unit", "polarity", "frequency", "year_type", "cumulative"]

    def filter_polarity(self, measures: QuerySet, name: str, value: str) -> QuerySet:
        return measures.filter(polarity="" if value == NO_POLARITY else value)


class TargetFilter(filters.FilterSet):
    measure = filters.CharFilter(
        field_name="measure__slug", help_text="Only this measure's targets (its slug)."
    )
    in_force_on = filters.DateFilter(
        method="filter_in_force_on",
        help_text="Only targets in force on this date (YYYY-MM-DD), from valid_from to "
        "valid_to inclusive (R12).",
    )

    class Meta:
        model = Target
        fields = ["measure", "in_force_on"]

    def filter_in_force_on(self, targets: QuerySet, name: str, day: date) -> QuerySet:
        return targets.in_force_on(day)


# --- the schema: five operations, the same for each kind of definition -----------------


NOT_A_KEEPER = OpenApiResponse(
    ErrorDetailSerializer,
    description="Not signed in, or not one of the contract's council's admins: only they "
    "(and superusers) create and change contracts, measures and targets.",
)
NO_TARGET = OpenApiResponse(
    ErrorDetailSerializer, description="No such contract you may see, or no such target of it."
)
TARGET_ID = "The target's id, as in the contract's targets."


def definition_operations(
    noun: str,
    *,
    key: OpenApiParameter,
    not_found: OpenApiResponse,
    new_examples: list[OpenApiExample],
    replace_example: OpenApiExample,
    change_example: OpenApiExample,
    list_summary: str,
    list_description: str,
    retrieve_description: str | None = None,
    create_verb: str = "Add",
    create_description: str,
    update_description: str,
    write_errors: str,
) -> Callable[[type], type]:
    """The schema of a definition's viewset, read from the viewset itself: list, retrieve,
    create, update and partial_update of a ``noun`` (contract, measure, target), found by
    ``key`` (under its contract's URL for an ``OfContract`` viewset). The list shows it as
    ``serializer_class``, the rest as ``detail_serializer_class`` where there is one;
    ``not_found`` is the 404 of its own URL, and ``write_errors`` says what makes a write a
    400."""

    def decorate(viewset: Any) -> Any:
        listed = viewset.serializer_class
        shown = getattr(viewset, "detail_serializer_class", listed)
        in_contract = issubclass(viewset, OfContract)
        within = [path_parameter("contract_slug", CONTRACT_SLUG)] if in_contract else []
        keyed = [*within, key]
        title = noun.capitalize()
        refusals = {
            400: OpenApiResponse(
                field_errors(
                    f"{title}WriteErrors",
                    [
                        *viewset.create_serializer_class().fields,
                        *viewset.change_serializer_class.fixed_fields,
                    ],
                ),
                description=write_errors,
            ),
            401: NOT_SIGNED_IN,
            403: NOT_A_KEEPER,
        }

        def change(summary: str, description: str, example: OpenApiExample) -> Any:
            return extend_schema(
                summary=summary,
                description=description,
                parameters=keyed,
                request=viewset.change_serializer_class,
                examples=[example],
                responses={200: shown, **refusals, 404: not_found},
            )

        return extend_schema_view(
            list=extend_schema(
                summary=list_summary,
                description=list_description,
                parameters=within,
                responses={
                    200: listed(many=True),
                    400: list_errors(
                        f"{title}FilterErrors",
                        viewset.filterset_class.base_filters,
                        "A filter's value is not one the filter takes.",
                    ),
                    **AUTH_ERRORS,
                    404: no_page("No such contract you may see" if in_contract else ""),
                },
            ),
            retrieve=extend_schema(
                summary=f"One {noun}",
                description=retrieve_description,
                parameters=keyed,
                responses={200: shown, **AUTH_ERRORS, 404: not_found},
            ),
            create=extend_schema(
                summary=f"{create_verb} a {noun} (admin)",
                description=create_description,
                parameters=within,
                request=viewset.create_serializer_class,
                examples=new_examples,
                responses={201: shown, **refusals, **({404: NO_CONTRACT} if in_contract else {})},
            ),
            update=change(f"Change a {noun} (admin)", update_description, replace_example),
            partial_update=change(
                f"Change some of a {noun} (admin)",
                "As PUT, sending only what changes.",
                change_example,
            ),
        )(viewset)

    return decorate


# --- the views -------------------------------------------------------------------------


# The action mixins come after DefinitionWrites: an operation with no description of its
# own is described by the first docstring among the viewset's bases, and the schema keeps
# the one it has always had.
@extend_schema(tags=["contracts"])
@definition_operations(
    "contract",
    key=path_parameter("slug", CONTRACT_SLUG),
    not_found=NO_CONTRACT,
    new_examples=[
        OpenApiExample(
            "A new contract",
            value={
                "slug": "residential-care",
                "name": "Residential care",
                "commissioner": "sunderland",
                "provider": "together-for-children",
                "start": "2019-04-01",
                "end": None,
            },
            request_only=True,
        )
    ],
    replace_example=OpenApiExample(
        "The contract as it now reads",
        value={
            "name": "Children's services",
            "provider": "together-for-children",
            "start": "2017-04-01",
            "end": "2024-03-31",
        },
        request_only=True,
    ),
    change_example=OpenApiExample("A new end date", value={"end": "2024-03-31"}, request_only=True),
    list_summary="Contracts you may see",
    list_description="The contracts your organisation is party to, as commissioner or "
    "provider (every contract, for a superuser), by name.",
    create_verb="Create",
    create_description="A contract commissioned by your council (any council, for a "
    "superuser), with an empty measure set: add its measures and targets next. Checked as "
    "the Django admin and the contracts import check it; recorded in its history, with the "
    "`reason` given.",
    update_description="Its name, provider and dates. Its slug and commissioner cannot "
    "change: sent with another value, either is refused (400). Recorded in its history, with "
    "the `reason` given.",
    write_errors="A field is malformed or breaks a rule (the message names it): a slug "
    "already taken, an organisation that is not a council or provider, a commissioner "
    "other than your own council, a contract ending before it starts; on a change, another "
    "slug or commissioner (they cannot change).",
)
class ContractViewSet(DefinitionWrites, ScorecardAction, viewsets.ReadOnlyModelViewSet):
    serializer_class = ContractSerializer
    create_serializer_class = ContractWriteSerializer
    change_serializer_class = ContractChangeSerializer
    filterset_class = ContractFilter
    lookup_field = "slug"
    lookup_value_regex = CONTRACT_KEY

    def get_queryset(self) -> QuerySet[Contract]:
        return access.contracts_for(self.request.user).order_by("name", "slug")

    def kept_contract(self, instance: models.Model | None) -> Contract | None:
        return instance  # type: ignore[return-value]

    def document(self, saved: models.Model) -> dict[str, Any]:
        # A contract just made by a superuser of no party is still answered.
        fresh = Contract.objects.select_related("commissioner", "provider").get(pk=saved.pk)
        return self.get_serializer(fresh).data

    def get_object(self) -> Contract:
        contract = access.contract_for(self.request.user, self.kwargs["slug"])
        self.check_object_permissions(self.request, contract)
        return contract


NEW_MEASURE = OpenApiExample(
    "A quarterly count",
    value={
        "code": "SM 9.1",
        "title": "Foster carers approved",
        "kind": "supporting",
        "unit": "count",
        "polarity": "up",
        "frequency": "quarterly",
        "year_type": "financial",
        "cumulative": False,
        "decimals": 0,
        "data_source": "Fostering panel minutes",
    },
    request_only=True,
)
# Actions answered with one record in full (a write answers as `retrieve` shows it).
DETAIL_ACTIONS = ("retrieve", "create", "update", "partial_update")


@extend_schema(tags=["measures"])
@definition_operations(
    "measure",
    key=path_parameter("slug", MEASURE_SLUG),
    not_found=NO_MEASURE,
    new_examples=[NEW_MEASURE],
    replace_example=NEW_MEASURE,
    change_example=OpenApiExample(
        "A clearer title", value={"title": "Foster carers approved at panel"}, request_only=True
    ),
    list_summary="A contract's measures",
    list_description="Each measure with its definition and every target, with the tolerance "
    "as written and as resolved (R4), in the contract's order.",
    retrieve_description="As in the list, with its comparators and series breaks.",
    create_description="Checked as the Django admin and the measures import check it; "
    "recorded in its history. Answers with the measure as `retrieve` shows it; its `url` is "
    "keyed by the slug made from its code. Targets are added under the contract's "
    "`targets/`.",
    update_description="Fields left out keep their values. A new code moves the measure to "
    "the slug made from it; a `slug` is never written (one other than the code's is "
    "refused). Recorded in its history, with the `reason` given.",
    write_errors="A field is malformed or breaks a rule (the message names it): a code "
    "the contract already has (or one with the same URL key), a rate without its "
    "population base, quarters outside financial years, a `slug` other than the code's, a "
    "new frequency or year type for a measure that has figures (R11), a new way of rating "
    "one with official figures (R15, R16).",
)
class MeasureViewSet(OfContract, DefinitionWrites, SeriesAction, viewsets.ReadOnlyModelViewSet):
    serializer_class = MeasureSerializer
    detail_serializer_class = MeasureDetailSerializer
    create_serializer_class = MeasureWriteSerializer
    change_serializer_class = MeasureWriteSerializer
    filterset_class = MeasureFilter
    lookup_field = "slug"
    lookup_value_regex = MEASURE_KEY

    def get_queryset(self) -> QuerySet[Measure]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no contract
            return Measure.objects.none()
        measures = Measure.objects.filter(
            measure_set_id=self.contract.measure_set_id
        ).prefetch_related(Prefetch("targets", queryset=Target.objects.order_by("valid_from")))
        if self.action in DETAIL_ACTIONS:
            measures = measures.prefetch_related("comparators", "series_breaks")
        return measures

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action in DETAIL_ACTIONS:
            return self.detail_serializer_class
        return self.serializer_class


@extend_schema(tags=["targets"])
@definition_operations(
    "target",
    key=id_parameter(TARGET_ID),
    not_found=NO_TARGET,
    new_examples=[
        OpenApiExample(
            "A target with a tolerance band",
            value={
                "measure": "kpi-1",
                "valid_from": "2019-04-01",
                "valid_to": None,
                "target": "95",
                "tolerance_low": "85",
                "tolerance_high": "100",
                "note": "Agreed for 2019/20.",
            },
            request_only=True,
        ),
        OpenApiExample(
            "A target with a relative tolerance (R4)",
            value={
                "measure": "kpi-4",
                "valid_from": "2019-04-01",
                "target": "560",
                "tolerance_relative": "10",
                "tolerance_unit": "percent",
            },
            request_only=True,
        ),
    ],
    replace_example=OpenApiExample(
        "The target as it now reads",
        value={
            "valid_from": "2019-04-01",
            "valid_to": "2020-03-31",
            "target": "95",
            "tolerance_low": "85",
            "tolerance_high": "100",
            "note": "Agreed for 2019/20; replaced from April 2020.",
        },
        request_only=True,
    ),
    change_example=OpenApiExample(
        "A target ending",
        value={"valid_to": "2020-03-31", "note": "Replaced from April 2020."},
        request_only=True,
    ),
    list_summary="A contract's targets",
    list_description="Every target of every measure of the contract, by measure (in the "
    "contract's order) and start, with the tolerance as written and as resolved (R4).",
    create_description="Set directly while no official figure falls in its validity (R16); "
    "checked as the Django admin and the targets import check it (R6); recorded in its "
    "history.",
    update_description="Allowed while no official figure is rated against what it changes "
    "(R16); afterwards only a target revision changes it. Its measure cannot change "
    "(another is refused); fields left out keep their values. Recorded in its history, with "
    "the `reason` given.",
    write_errors="A field is malformed or breaks a rule (the message names it): a target "
    "that contradicts itself (R6: a tolerance floor above the target, a ceiling below it, "
    "a range outside its band, a percentage outside 0-100), validity overlapping another "
    "target's, a change behind official figures, which only a target revision makes "
    "(R16), or, on a change, another measure.",
)
class TargetViewSet(OfContract, DefinitionWrites, viewsets.ReadOnlyModelViewSet):
    serializer_class = ContractTargetSerializer
    create_serializer_class = TargetWriteSerializer
    change_serializer_class = TargetChangeSerializer
    filterset_class = TargetFilter
    lookup_field = "pk"
    lookup_url_kwarg = "id"
    lookup_value_regex = ID_KEY

    def get_queryset(self) -> QuerySet[Target]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no contract
            return Target.objects.none()
        return (
            Target.objects.filter(measure__measure_set_id=self.contract.measure_set_id)
            .select_related("measure")
            .order_by("measure__display_order", "measure__code", "valid_from")
        )
