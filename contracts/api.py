"""The API (``/api/v1/``): contracts, their measures, the monthly scorecard, and the
monthly return's workflow (entering figures, submitting, querying, signing off).

Every endpoint finds its contract or return through ``contracts.access`` and nowhere
else, so another organisation's object is a 404 (never a 403 that would hint it
exists), and whether draft figures show is ``access.may_see_drafts`` (R13). Rating,
bounds and the scorecard come from ``kpis``; every change to a return goes through
``contracts.workflow``, which decides who may act and when, so the API answers with
the same rules and errors as the pages. The views here only choose rows, call those
functions and serialise the result.

A contract's definitions (the contract, its measures and targets) are created and changed
by the council's admins (``may_keep_definitions``); every write is checked by the model's
own ``full_clean``, as the Django admin and the import check it (R6, R16), and saved with
the API user in its history.

Numbers are exact decimals written as strings with no trailing zeros ("616", "92.8"),
never floats, so a client can reproduce the inclusive boundaries of R2.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import Http404
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
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
    Role,
)
from kpis import periods, rating
from kpis.models import (
    VALUE_FIELD,
    Comparator,
    Flag,
    Frequency,
    Kind,
    Measure,
    MeasureSet,
    Polarity,
    SeriesBreak,
    Target,
    ToleranceUnit,
    Unit,
    YearType,
    measure_slug,
)
from kpis.scorecard import (
    ScorecardRow,
    build_row,
    build_scorecard,
    latest_month,
    spc_points,
    with_history,
)

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
        return reverse(
            "api:target-detail",
            kwargs={"contract_slug": self.context["contract"].slug, "id": target.pk},
            request=self.context.get("request"),
        )


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
    kind = serializers.ChoiceField(
        choices=Kind.choices, required=False, help_text="Only measures of this kind."
    )
    status = serializers.ChoiceField(
        choices=STATUS_CHOICES, required=False, help_text="Only measures with this verdict (R1)."
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


# Statistical process control's vocabularies (interfaces.md), each word documented.
SPC_VARIATION_CHOICES = [
    ("common_cause", "only the variation chance gives: no signal at the latest figure"),
    ("special_cause_improving", "the latest figure is part of a signal of real improvement"),
    ("special_cause_concerning", "the latest figure is part of a signal of real deterioration"),
    (
        "special_cause_neither",
        "a signal on a measure with no better direction (a band measure or no polarity)",
    ),
    ("insufficient_data", "too few comparable figures for process limits"),
]
SPC_ASSURANCE_CHOICES = [
    ("consistently_passing", "the process limits lie wholly on the target's passing side"),
    ("consistently_failing", "the process limits lie wholly on the target's failing side"),
    ("hit_and_miss", "the target lies between the process limits"),
    ("not_applicable", "no target, no process limits, or no polarity"),
]
SPC_TOLERANCE_CHOICES = [
    ("consistently_within", "the process limits lie wholly within tolerance"),
    ("consistently_outside", "the process limits lie wholly outside tolerance"),
    ("hit_and_miss", "the edge of the tolerance lies between the process limits"),
    ("not_applicable", "no tolerance, no process limits, or no polarity"),
]


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
    variation = serializers.ChoiceField(
        choices=SPC_VARIATION_CHOICES,
        allow_null=True,
        help_text="Statistical process control: the kind of variation at the latest figure "
        "(Making Data Count), over the figures up to the month. Null for a cumulative measure.",
    )
    assurance = serializers.ChoiceField(
        choices=SPC_ASSURANCE_CHOICES,
        allow_null=True,
        help_text="Whether the process limits say the target will be met reliably. Null for "
        "a cumulative measure.",
    )
    tolerance_assurance = serializers.ChoiceField(
        choices=SPC_TOLERANCE_CHOICES,
        allow_null=True,
        help_text="Whether the process limits say the figure will stay within tolerance. Null "
        "for a cumulative measure.",
    )


class ScorecardSerializer(serializers.Serializer):
    contract = serializers.SlugField(help_text="The contract's slug.")
    period = serializers.CharField(help_text="The scorecard month, YYYY-MM.")
    count = serializers.IntegerField(help_text="How many measures (rows) there are.")
    results = ScorecardRowSerializer(many=True)


# --- a measure's statistical process control series -----------------------------------


class SeriesQuerySerializer(serializers.Serializer):
    period = serializers.CharField(
        required=False,
        help_text="The figures up to the end of this month, YYYY-MM (e.g. 2018-04). Default: "
        "the month of the latest figure you may see, or the current month when there is none.",
    )

    def validate_period(self, value: str) -> periods.Period:
        return parse_month(value)


class SPCLimitsSerializer(serializers.Serializer):
    mean = ExactDecimalField(help_text="The centre line: the mean of the values.")
    mean_moving_range = ExactDecimalField(help_text="The mean of the moving ranges (MR-bar).")
    upper = ExactDecimalField(help_text="Upper process limit: mean + 2.66 x MR-bar.")
    lower = ExactDecimalField(help_text="Lower process limit: mean - 2.66 x MR-bar.")
    upper_two_sigma = ExactDecimalField(help_text="mean + 2/3 x 2.66 x MR-bar.")
    lower_two_sigma = ExactDecimalField(help_text="mean - 2/3 x 2.66 x MR-bar.")
    points = serializers.IntegerField(help_text="How many values the limits were computed from.")
    moving_ranges = serializers.IntegerField(help_text="How many moving ranges went into MR-bar.")
    provisional = serializers.BooleanField(
        help_text="Trial limits from fewer values than the baseline; they move as values arrive."
    )


class SPCPointSerializer(serializers.Serializer):
    period = serializers.CharField(source="period.label", help_text="The period (R11).")
    value = ExactDecimalField(
        allow_null=True, help_text="The unrounded value as rated (R2); null: no figure (a gap)."
    )
    status = serializers.ChoiceField(
        choices=STATUS_CHOICES,
        allow_null=True,
        help_text="The verdict against the target in force for the period (R12); null: no figure.",
    )
    segment = serializers.IntegerField(help_text="Index in `segments` of the point's segment.")
    moving_range = ExactDecimalField(
        allow_null=True,
        help_text="The difference from the value before; null at a segment's start or by a gap.",
    )
    variation = serializers.ChoiceField(
        choices=SPC_VARIATION_CHOICES,
        allow_null=True,
        help_text="This point's own reading (the signals covering it); null: no figure.",
    )
    signals = serializers.ListField(
        child=serializers.IntegerField(), help_text="Indices in `signals` of those covering it."
    )


SPC_STARTS_CHOICES = [
    ("start", "the first figure"),
    ("series_break", "a series break: figures either side are not comparable"),
    ("rebase", "a rebase a person recorded with a reason: the process changed"),
]
SPC_VERSUS_CHOICES = [
    (rating.Direction.IMPROVING.value, "the rebased mean is better than the one it replaced"),
    (rating.Direction.WORSENING.value, "the rebased mean is worse than the one it replaced"),
    (rating.Direction.UNCHANGED.value, "the same at the measure's decimals"),
    (
        rating.Direction.NOT_COMPARABLE.value,
        "after a series break, or while the rebase has too few figures for limits of its own",
    ),
]


class SPCSegmentSerializer(serializers.Serializer):
    starts = serializers.ChoiceField(choices=SPC_STARTS_CHOICES, source="kind")
    reason = serializers.CharField(help_text="Why it starts, as the chart labels it.")
    from_period = serializers.CharField(help_text="Its first period.")
    to_period = serializers.CharField(help_text="Its last period.")
    points = serializers.IntegerField(help_text="How many figures it holds.")
    limits = SPCLimitsSerializer(
        allow_null=True, help_text="Its own limits; null while it has too few figures."
    )
    judged_by = serializers.IntegerField(
        allow_null=True,
        help_text="Index of the segment whose limits judge its points: itself, the one before "
        "for a rebase still short of figures (a rebase cannot hide a run), or null.",
    )
    versus_previous = serializers.ChoiceField(
        choices=SPC_VERSUS_CHOICES,
        allow_null=True,
        help_text="For a rebase, its mean against the one it replaced; null for the first.",
    )


class SPCSignalSerializer(serializers.Serializer):
    rule = serializers.ChoiceField(
        choices=[
            ("beyond_limit", "a value beyond a process limit"),
            ("shift", "a run of values on one side of the mean (7 by default)"),
            ("trend", "a run of values each above (below) the one before (7 by default)"),
            ("two_of_three", "two of three values beyond the two-sigma line on one side"),
        ]
    )
    side = serializers.ChoiceField(
        choices=[
            ("high", "above the mean"),
            ("low", "below the mean"),
            ("up", "rising"),
            ("down", "falling"),
        ]
    )
    variation = serializers.ChoiceField(choices=SPC_VARIATION_CHOICES)
    segment = serializers.IntegerField(help_text="Index of the segment whose limits judged it.")
    periods = serializers.ListField(
        child=serializers.CharField(), help_text="The periods of the values it covers."
    )
    points = serializers.ListField(
        child=serializers.IntegerField(), help_text="Indices in `points` of the values it covers."
    )


class SPCChangeSerializer(serializers.Serializer):
    change = serializers.ChoiceField(
        choices=[("series_break", "a series break"), ("rebase", "a rebase")]
    )
    from_period = serializers.CharField()
    reason = serializers.CharField()
    applied = serializers.BooleanField(
        help_text="Whether it starts a segment of this series (false: before the first figure "
        "or after the latest)."
    )


class MeasureSeriesSerializer(serializers.Serializer):
    contract = serializers.SlugField(help_text="The contract's slug.")
    code = serializers.CharField(help_text="The measure's code.")
    slug = serializers.SlugField(help_text="The measure's slug.")
    period = serializers.CharField(help_text="The figures are those up to this month's end.")
    charted = serializers.BooleanField(
        help_text="False for a cumulative measure: a figure to date climbs through the year by "
        "construction, so it has no XmR chart (and the lists below are empty)."
    )
    shift_points = serializers.IntegerField(help_text="The contract's run length for a shift.")
    trend_points = serializers.IntegerField(help_text="The contract's run length for a trend.")
    minimum_points = serializers.IntegerField(help_text="Fewer values: insufficient data.")
    baseline_points = serializers.IntegerField(help_text="Limits lock on this many values.")
    variation = serializers.ChoiceField(choices=SPC_VARIATION_CHOICES, allow_null=True)
    assurance = serializers.ChoiceField(choices=SPC_ASSURANCE_CHOICES, allow_null=True)
    tolerance_assurance = serializers.ChoiceField(choices=SPC_TOLERANCE_CHOICES, allow_null=True)
    limits = SPCLimitsSerializer(
        allow_null=True, help_text="The limits in force at the latest figure (the verdicts')."
    )
    points = SPCPointSerializer(many=True)
    segments = SPCSegmentSerializer(many=True)
    signals = SPCSignalSerializer(many=True)
    changes = SPCChangeSerializer(
        many=True, help_text="The measure's recorded series breaks and rebases, in order."
    )


def measure_series_document(
    contract: Contract, measure: Measure, month: periods.Period
) -> dict[str, Any]:
    """A measure's XmR chart up to ``month`` (``measure`` from ``with_history``), read from
    the scorecard's row so the series and the scorecard always agree."""
    history = measure.visible_history
    row = build_row(measure, month, history)
    chart = row.spc
    config = measure.measure_set.spc_config()
    applied = {(str(c.kind), c.from_period) for c in chart.changes} if chart else set()
    recorded = [("series_break", b) for b in measure.series_breaks.all()] + [
        ("rebase", r) for r in measure.rebases.all()
    ]
    changes = [
        {
            "change": kind,
            "from_period": c.from_period,
            "reason": c.reason,
            "applied": (kind, c.from_period) in applied,
        }
        for kind, c in sorted(recorded, key=lambda kc: (kc[1].from_date, kc[0]))
    ]
    document: dict[str, Any] = {
        "contract": contract.slug,
        "code": measure.code,
        "slug": measure.slug,
        "period": month.label,
        "charted": chart is not None,
        "shift_points": config.shift_points,
        "trend_points": config.trend_points,
        "minimum_points": config.minimum_points,
        "baseline_points": config.baseline_points,
        "variation": row.variation,
        "assurance": row.assurance,
        "tolerance_assurance": row.tolerance_assurance,
        "limits": None,
        "points": [],
        "segments": [],
        "signals": [],
        "changes": changes,
    }
    if chart is None:
        return document
    analysis = chart.analysis
    label = [p.label for p in chart.periods]
    document.update(
        limits=analysis.limits,
        points=spc_points(measure, history, chart),
        segments=[
            {
                "kind": s.kind,
                "reason": s.reason,
                "from_period": label[s.start],
                "to_period": label[s.end],
                "points": s.points,
                "limits": s.limits,
                "judged_by": s.judged_by,
                "versus_previous": s.versus_previous,
            }
            for s in analysis.segments
        ],
        signals=[
            {
                "rule": s.rule,
                "side": s.side,
                "variation": s.variation,
                "segment": s.segment,
                "periods": [label[i] for i in s.indices],
                "points": list(s.indices),
            }
            for s in analysis.signals
        ],
    )
    return document


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
NOT_A_KEEPER = OpenApiResponse(
    ErrorDetailSerializer,
    description="Not signed in, or not one of the contract's council's admins: only they "
    "(and superusers) create and change contracts, measures and targets.",
)
NO_PAGE = "no such page: `page` beyond the last, or not a whole number from 1"


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


def _field_errors(name: str, fields: Any) -> Any:
    """A 400 body of field errors: each field of a request with what is wrong with it.
    ``fields`` names them, or is a serializer's fields, whose lists and nested objects
    are answered item by item."""

    def errors(field: Any) -> serializers.Field:
        if isinstance(field, serializers.BaseSerializer | serializers.ListField):
            return NestedErrorsField(required=False)
        return serializers.ListField(child=serializers.CharField(), required=False)

    named = dict(fields.items()) if hasattr(fields, "items") else dict.fromkeys(fields)
    return inline_serializer(
        name,
        fields={
            field: errors(named.get(field))
            for field in [*named, api_settings.NON_FIELD_ERRORS_KEY]
        },
    )


def _refused(body: type[serializers.Serializer], description: str) -> OpenApiResponse:
    """A 400 that is either a rule's refusal (``detail``, and ``field`` where there is one)
    or the body's field errors: any of the two shapes (a refusal would also pass for field
    errors, so not exactly one of them)."""
    messages = {"type": "array", "items": {"type": "string"}}
    nested = {"oneOf": [messages, {"type": "object", "additionalProperties": {}}]}
    refusal = {
        "type": "object",
        "properties": {
            "detail": {"type": "string"},
            "field": {"type": "string", "description": "The request field at fault, if any."},
        },
        "required": ["detail"],
    }
    fields = body().fields
    field_errors = {
        "type": "object",
        "properties": {
            **{
                name: nested
                if isinstance(field, serializers.BaseSerializer | serializers.ListField)
                else messages
                for name, field in fields.items()
            },
            api_settings.NON_FIELD_ERRORS_KEY: messages,
        },
    }
    return OpenApiResponse(
        {"anyOf": [refusal, field_errors]},
        description=description,
    )


def _no_page(what: str = "") -> OpenApiResponse:
    """The 404 of a list: its parent is not found (``what``), or the page asked for."""
    said = f"{what}, or {NO_PAGE}" if what else NO_PAGE[0].upper() + NO_PAGE[1:]
    return OpenApiResponse(ErrorDetailSerializer, description=f"{said}.")


def _path(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        str,
        OpenApiParameter.PATH,
        description=description,
        pattern=KEY_PATTERNS.get(description),
    )


# Ids are 64-bit (BigAutoField); a larger number would overflow the database's integer.
MAX_ID = 2**63 - 1


def _id(description: str) -> OpenApiParameter:
    return OpenApiParameter(
        "id",
        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        OpenApiParameter.PATH,
        description=description,
    )


CONTRACT_SLUG = "The contract's slug, as in the contracts list."
MEASURE_SLUG = (
    "The measure's slug: its code lower-cased, other characters as hyphens (SM 1.1 -> sm-1-1)."
)
TARGET_ID = "The target's id, as in the contract's targets."
# What a key matches in the URLs (contracts.api_urls), so the schema says what reaches a view.
CONTRACT_KEY = "[-a-zA-Z0-9_]+"
MEASURE_KEY = "[-a-z0-9]+"
KEY_PATTERNS = {CONTRACT_SLUG: f"^{CONTRACT_KEY}$", MEASURE_SLUG: f"^{MEASURE_KEY}$"}


# --- definitions: who keeps them, and writes the model checks ---------------------------


def may_keep_definitions(user: access.AnyUser, contract: Contract | None = None) -> bool:
    """Whether a user may create and change contracts, measures and targets (README,
    roles): a superuser, or an admin of the contract's council; for a contract not yet
    made, an admin of any council (the request's commissioner is then checked)."""
    if user.is_authenticated and user.is_superuser:
        return True
    membership = access.membership_of(user)
    if membership is None or membership.role != Role.ADMIN:
        return False
    return contract is None or membership.organisation_id == contract.commissioner_id


def require_keeper(user: access.AnyUser, contract: Contract | None = None) -> None:
    if not may_keep_definitions(user, contract):
        raise PermissionDenied(
            "Only the council's admins create and change contracts, measures and targets."
        )


class CheckedModelSerializer(serializers.ModelSerializer):
    """A write checked by the model's own ``full_clean`` (its fields, ``clean()`` and
    constraints), the check the Django admin and the import make, so the API refuses the
    same things in the same words (R6, R16); each message under the request field it
    concerns. Saved with the API user and a reason in the record's history."""

    # Where a model field's messages go when the request has no field of its name.
    error_fields: dict[str, str] = {}
    # Off where the serializer checks the model's constraints itself, in better words.
    check_constraints = True

    def get_validators(self) -> list[Any]:
        return []  # uniqueness is full_clean's, in the model's words

    def new_instance(self) -> models.Model:
        return self.Meta.model()

    def unchecked(self, instance: models.Model) -> list[str]:
        """Model fields full_clean leaves alone: those set only when saving."""
        return []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance if self.instance is not None else self.new_instance()
        for name, value in attrs.items():
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
        instance._change_reason = "Saved through the API"  # type: ignore[attr-defined]
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


class OrganisationSlugField(serializers.SlugRelatedField):
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
        help_text="The commissioning council's slug: your own council, unless you are a "
        "superuser.",
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
        unclaimed = MeasureSet.objects.filter(slug=contract.slug, contract__isnull=True).first()
        if unclaimed is not None:
            return unclaimed
        slug, number = contract.slug, 1
        while MeasureSet.objects.filter(slug=slug).exists():
            suffix = "-measures" if number == 1 else f"-measures-{number}"
            slug, number = contract.slug[: 100 - len(suffix)] + suffix, number + 1
        measure_set = MeasureSet(slug=slug, name=f"{contract.name}: contract measures"[:200])
        measure_set._history_user = contract._history_user  # type: ignore[attr-defined]
        measure_set._change_reason = contract._change_reason  # type: ignore[attr-defined]
        measure_set.save()
        return measure_set


class ContractChangeSerializer(ContractWriteSerializer):
    """A change to a contract: its key (slug) and commissioner stay."""

    slug = None  # type: ignore[assignment]
    commissioner = None  # type: ignore[assignment]

    class Meta(ContractWriteSerializer.Meta):
        fields = ["name", "provider", "start", "end"]


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

    class Meta:
        model = Measure
        fields = [
            "code",
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
            "display_order",
            "definition",
            "data_source",
            "comparability_note",
        ]

    def new_instance(self) -> Measure:
        return Measure(measure_set=self.context["contract"].measure_set)

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
        if self.instance is not None and self.instance.observations.exists():
            # As the import refuses it: figures are labelled by these periods (R11).
            for name in ("frequency", "year_type"):
                if name in attrs and attrs[name] != getattr(self.instance, name):
                    raise serializers.ValidationError(
                        {
                            name: [
                                f"{self.instance.code} already has figures labelled by its "
                                f"{self.instance.get_frequency_display().lower()} "
                                f"{self.instance.year_type} periods (R11); its frequency and "
                                "year type cannot change. Add a new measure instead."
                            ]
                        }
                    )
        return super().validate(attrs)


class TargetWriteSerializer(CheckedModelSerializer):
    """A new target of one of the contract's measures, as the admin or a targets file
    writes it: a point target or a target range (band measures), and a tolerance either
    as a band or relative to the target (R4). Blank tolerance: none (R3)."""

    measure = serializers.SlugRelatedField(
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
        fields = [
            "measure",
            "valid_from",
            "valid_to",
            "target",
            "target_low",
            "target_high",
            "tolerance_low",
            "tolerance_high",
            "tolerance_relative",
            "tolerance_unit",
            "note",
        ]

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
    """A change to a target: its measure stays. Refused once official figures are rated
    against it (R16): then only a target revision changes it."""

    measure = None  # type: ignore[assignment]

    class Meta(TargetWriteSerializer.Meta):
        fields = [name for name in TargetWriteSerializer.Meta.fields if name != "measure"]


class DefinitionWrites:
    """POST (create), PUT and PATCH (change) for the keepers of a contract's definitions:
    404 for what you may not see, then 403 unless you keep it, then the model's checks
    (400); answered with the record as the reads show it, saved in one transaction."""

    create_serializer_class: type[serializers.Serializer]
    change_serializer_class: type[serializers.Serializer]

    def kept_contract(self, instance: models.Model | None) -> Contract | None:
        """The contract whose keepers may make this write."""
        return None

    def document(self, saved: models.Model) -> dict[str, Any]:
        fresh = self.get_queryset().get(pk=saved.pk)  # type: ignore[attr-defined]
        return self.get_serializer(fresh).data  # type: ignore[attr-defined]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        require_keeper(request.user, self.kept_contract(None))
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
        require_keeper(request.user, self.kept_contract(instance))
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


# --- filters ---------------------------------------------------------------------------


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
    cumulative = filters.BooleanFilter(help_text="Only cumulative (or only non-cumulative) ones.")

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


# --- views -----------------------------------------------------------------------------


NEW_CONTRACT = OpenApiExample(
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
CONTRACT_CHANGE = OpenApiExample("A new end date", value={"end": "2024-03-31"}, request_only=True)
CONTRACT_REPLACE = OpenApiExample(
    "The contract as it now reads",
    value={
        "name": "Children's services",
        "provider": "together-for-children",
        "start": "2017-04-01",
        "end": "2024-03-31",
    },
    request_only=True,
)
CONTRACT_WRITE_ERRORS = OpenApiResponse(
    _field_errors("ContractWriteErrors", ContractWriteSerializer.Meta.fields),
    description="A field is malformed or breaks a rule (the message names it): a slug "
    "already taken, an organisation that is not a council or provider, a commissioner "
    "other than your own council, a contract ending before it starts.",
)


@extend_schema(tags=["contracts"])
@extend_schema_view(
    list=extend_schema(
        summary="Contracts you may see",
        description="The contracts your organisation is party to, as commissioner or provider "
        "(every contract, for a superuser), by name.",
        responses={
            200: ContractSerializer(many=True),
            400: OpenApiResponse(
                _field_errors("ContractFilterErrors", ContractFilter.base_filters),
                description="A filter's value is not one the filter takes.",
            ),
            **AUTH_ERRORS,
            404: _no_page(),
        },
    ),
    retrieve=extend_schema(
        summary="One contract",
        parameters=[_path("slug", CONTRACT_SLUG)],
        responses={200: ContractSerializer, **AUTH_ERRORS, 404: NO_CONTRACT},
    ),
    create=extend_schema(
        summary="Create a contract (admin)",
        description="A contract commissioned by your council (any council, for a superuser), "
        "with an empty measure set: add its measures and targets next. Checked as the "
        "Django admin and the contracts import check it; recorded in its history.",
        request=ContractWriteSerializer,
        examples=[NEW_CONTRACT],
        responses={
            201: ContractSerializer,
            400: CONTRACT_WRITE_ERRORS,
            401: NOT_SIGNED_IN,
            403: NOT_A_KEEPER,
        },
    ),
    update=extend_schema(
        summary="Change a contract (admin)",
        description="Its name, provider and dates; its slug and commissioner stay. Recorded "
        "in its history.",
        parameters=[_path("slug", CONTRACT_SLUG)],
        request=ContractChangeSerializer,
        examples=[CONTRACT_REPLACE],
        responses={
            200: ContractSerializer,
            400: CONTRACT_WRITE_ERRORS,
            401: NOT_SIGNED_IN,
            403: NOT_A_KEEPER,
            404: NO_CONTRACT,
        },
    ),
    partial_update=extend_schema(
        summary="Change some of a contract (admin)",
        description="As PUT, sending only what changes.",
        parameters=[_path("slug", CONTRACT_SLUG)],
        request=ContractChangeSerializer,
        examples=[CONTRACT_CHANGE],
        responses={
            200: ContractSerializer,
            400: CONTRACT_WRITE_ERRORS,
            401: NOT_SIGNED_IN,
            403: NOT_A_KEEPER,
            404: NO_CONTRACT,
        },
    ),
)
class ContractViewSet(DefinitionWrites, viewsets.ReadOnlyModelViewSet):
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

    @extend_schema(
        tags=["scorecard"],
        summary="The monthly scorecard",
        description=(
            "Every measure of the contract with its latest figure covering a period that ends "
            "on or before the month's end, rated against the target in force for that period "
            "(R13). Not paginated: a scorecard is one document listing every measure, or those "
            "of the `kind` and `status` asked for. "
            "Draft figures appear (flagged `draft`) only for those who may see drafts: provider "
            "staff, commissioners and admins; readers see official figures only."
        ),
        parameters=[_path("slug", CONTRACT_SLUG), ScorecardQuerySerializer],
        responses={
            200: ScorecardSerializer,
            400: OpenApiResponse(
                _field_errors("ScorecardQueryErrors", ScorecardQuerySerializer().fields),
                description="`period` is not a month written YYYY-MM, or `kind` or `status` "
                "is not one of its values.",
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
        kind, verdict = query.validated_data.get("kind"), query.validated_data.get("status")
        rows = [
            row
            for row in rows
            if (kind is None or row.measure.kind == kind)
            and (verdict is None or row.verdict.status == verdict)
        ]
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
# Actions answered with one record in full (a write answers as `retrieve` shows it).
DETAIL_ACTIONS = ("retrieve", "create", "update", "partial_update")


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
MEASURE_CHANGE = OpenApiExample(
    "A clearer title", value={"title": "Foster carers approved at panel"}, request_only=True
)
MEASURE_WRITE_ERRORS = OpenApiResponse(
    _field_errors("MeasureWriteErrors", MeasureWriteSerializer.Meta.fields),
    description="A field is malformed or breaks a rule (the message names it): a code "
    "the contract already has (or one with the same URL key), a rate without its "
    "population base, quarters outside financial years, a new frequency or year type for "
    "a measure that has figures (R11).",
)


@extend_schema(tags=["measures"])
@extend_schema_view(
    list=extend_schema(
        summary="A contract's measures",
        description="Each measure with its definition and every target, with the tolerance as "
        "written and as resolved (R4), in the contract's order.",
        parameters=[_path("contract_slug", CONTRACT_SLUG)],
        responses={
            200: MeasureSerializer(many=True),
            400: OpenApiResponse(
                _field_errors("MeasureFilterErrors", MeasureFilter.base_filters),
                description="A filter's value is not one the filter takes.",
            ),
            **AUTH_ERRORS,
            404: _no_page("No such contract you may see"),
        },
    ),
    retrieve=extend_schema(
        summary="One measure",
        description="As in the list, with its comparators and series breaks.",
        parameters=[_path("contract_slug", CONTRACT_SLUG), _path("slug", MEASURE_SLUG)],
        responses={200: MeasureDetailSerializer, **AUTH_ERRORS, 404: NO_MEASURE},
    ),
    create=extend_schema(
        summary="Add a measure (admin)",
        description="Checked as the Django admin and the measures import check it; recorded "
        "in its history. Answers with the measure as `retrieve` shows it; its `url` is keyed "
        "by the slug made from its code. Targets are added under the contract's `targets/`.",
        parameters=[_path("contract_slug", CONTRACT_SLUG)],
        request=MeasureWriteSerializer,
        examples=[NEW_MEASURE],
        responses={
            201: MeasureDetailSerializer,
            400: MEASURE_WRITE_ERRORS,
            401: NOT_SIGNED_IN,
            403: NOT_A_KEEPER,
            404: NO_CONTRACT,
        },
    ),
    update=extend_schema(
        summary="Change a measure (admin)",
        description="Fields left out keep their values. A new code moves the measure to the "
        "slug made from it. Recorded in its history.",
        parameters=[_path("contract_slug", CONTRACT_SLUG), _path("slug", MEASURE_SLUG)],
        request=MeasureWriteSerializer,
        examples=[NEW_MEASURE],
        responses={
            200: MeasureDetailSerializer,
            400: MEASURE_WRITE_ERRORS,
            401: NOT_SIGNED_IN,
            403: NOT_A_KEEPER,
            404: NO_MEASURE,
        },
    ),
    partial_update=extend_schema(
        summary="Change some of a measure (admin)",
        description="As PUT, sending only what changes.",
        parameters=[_path("contract_slug", CONTRACT_SLUG), _path("slug", MEASURE_SLUG)],
        request=MeasureWriteSerializer,
        examples=[MEASURE_CHANGE],
        responses={
            200: MeasureDetailSerializer,
            400: MEASURE_WRITE_ERRORS,
            401: NOT_SIGNED_IN,
            403: NOT_A_KEEPER,
            404: NO_MEASURE,
        },
    ),
)
class MeasureViewSet(OfContract, DefinitionWrites, viewsets.ReadOnlyModelViewSet):
    lookup_field = "slug"
    lookup_value_regex = MEASURE_KEY
    create_serializer_class = MeasureWriteSerializer
    change_serializer_class = MeasureWriteSerializer
    filterset_class = MeasureFilter

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
        return MeasureDetailSerializer if self.action in DETAIL_ACTIONS else MeasureSerializer

    @extend_schema(
        summary="A measure's statistical process control chart",
        description=(
            "The measure's XmR chart (Making Data Count) over its figures up to the month: each "
            "point with its value, verdict, moving range and reading; each segment (split at "
            "series breaks and rebases, earlier limits kept) with its mean and process limits, "
            "provisional below the baseline; the special-cause signals with the points they "
            "cover; the variation and assurance verdicts (as on the scorecard); and the recorded "
            "series breaks and rebases. Draft figures count only for those who may see drafts."
        ),
        parameters=[
            _path("contract_slug", CONTRACT_SLUG),
            _path("slug", MEASURE_SLUG),
            SeriesQuerySerializer,
        ],
        responses={
            200: MeasureSeriesSerializer,
            400: OpenApiResponse(
                PeriodErrorSerializer, description="`period` is not a month written YYYY-MM."
            ),
            **AUTH_ERRORS,
            404: NO_MEASURE,
        },
    )
    @action(detail=True, pagination_class=None, filter_backends=[])
    def series(self, request: Request, contract_slug: str, slug: str) -> Response:
        contract = self.contract
        query = SeriesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        include_drafts = access.may_see_drafts(request.user, contract)
        month = query.validated_data.get("period") or default_month(contract, include_drafts)
        measure = with_history(
            Measure.objects.filter(measure_set_id=contract.measure_set_id, slug=slug),
            month,
            include_drafts=include_drafts,
        ).first()
        if measure is None:
            raise Http404("No such measure.")
        document = measure_series_document(contract, measure, month)
        return Response(MeasureSeriesSerializer(document).data)


NO_TARGET = OpenApiResponse(
    ErrorDetailSerializer, description="No such contract you may see, or no such target of it."
)
NEW_TARGET = OpenApiExample(
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
)
NEW_RELATIVE_TARGET = OpenApiExample(
    "A target with a relative tolerance (R4)",
    value={
        "measure": "kpi-4",
        "valid_from": "2019-04-01",
        "target": "560",
        "tolerance_relative": "10",
        "tolerance_unit": "percent",
    },
    request_only=True,
)
TARGET_REPLACE = OpenApiExample(
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
)
TARGET_CHANGE = OpenApiExample(
    "A target ending",
    value={"valid_to": "2020-03-31", "note": "Replaced from April 2020."},
    request_only=True,
)
TARGET_WRITE_ERRORS = OpenApiResponse(
    _field_errors("TargetWriteErrors", TargetWriteSerializer.Meta.fields),
    description="A field is malformed or breaks a rule (the message names it): a target "
    "that contradicts itself (R6: a tolerance floor above the target, a ceiling below it, "
    "a range outside its band, a percentage outside 0-100), validity overlapping another "
    "target's, or a change behind official figures, which only a target revision makes "
    "(R16).",
)


@extend_schema(tags=["targets"])
@extend_schema_view(
    list=extend_schema(
        summary="A contract's targets",
        description="Every target of every measure of the contract, by measure (in the "
        "contract's order) and start, with the tolerance as written and as resolved (R4).",
        parameters=[_path("contract_slug", CONTRACT_SLUG)],
        responses={
            200: ContractTargetSerializer(many=True),
            400: OpenApiResponse(
                _field_errors("TargetFilterErrors", TargetFilter.base_filters),
                description="A filter's value is not one the filter takes.",
            ),
            **AUTH_ERRORS,
            404: _no_page("No such contract you may see"),
        },
    ),
    retrieve=extend_schema(
        summary="One target",
        parameters=[_path("contract_slug", CONTRACT_SLUG), _id(TARGET_ID)],
        responses={200: ContractTargetSerializer, **AUTH_ERRORS, 404: NO_TARGET},
    ),
    create=extend_schema(
        summary="Add a target (admin)",
        description="Set directly while no official figure falls in its validity (R16); "
        "checked as the Django admin and the targets import check it (R6); recorded in its "
        "history.",
        parameters=[_path("contract_slug", CONTRACT_SLUG)],
        request=TargetWriteSerializer,
        examples=[NEW_TARGET, NEW_RELATIVE_TARGET],
        responses={
            201: ContractTargetSerializer,
            400: TARGET_WRITE_ERRORS,
            401: NOT_SIGNED_IN,
            403: NOT_A_KEEPER,
            404: NO_CONTRACT,
        },
    ),
    update=extend_schema(
        summary="Change a target (admin)",
        description="Allowed while no official figure is rated against what it changes "
        "(R16); afterwards only a target revision changes it. Its measure stays; fields left "
        "out keep their values. Recorded in its history.",
        parameters=[_path("contract_slug", CONTRACT_SLUG), _id(TARGET_ID)],
        request=TargetChangeSerializer,
        examples=[TARGET_REPLACE],
        responses={
            200: ContractTargetSerializer,
            400: TARGET_WRITE_ERRORS,
            401: NOT_SIGNED_IN,
            403: NOT_A_KEEPER,
            404: NO_TARGET,
        },
    ),
    partial_update=extend_schema(
        summary="Change some of a target (admin)",
        description="As PUT, sending only what changes.",
        parameters=[_path("contract_slug", CONTRACT_SLUG), _id(TARGET_ID)],
        request=TargetChangeSerializer,
        examples=[TARGET_CHANGE],
        responses={
            200: ContractTargetSerializer,
            400: TARGET_WRITE_ERRORS,
            401: NOT_SIGNED_IN,
            403: NOT_A_KEEPER,
            404: NO_TARGET,
        },
    ),
)
class TargetViewSet(OfContract, DefinitionWrites, viewsets.ReadOnlyModelViewSet):
    serializer_class = ContractTargetSerializer
    create_serializer_class = TargetWriteSerializer
    change_serializer_class = TargetChangeSerializer
    filterset_class = TargetFilter
    lookup_field = "pk"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[Target]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no contract
            return Target.objects.none()
        return (
            Target.objects.filter(measure__measure_set_id=self.contract.measure_set_id)
            .select_related("measure")
            .order_by("measure__display_order", "measure__code", "valid_from")
        )


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
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="An existing action's id; omit to add one.",
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
        min_value=1,
        max_value=MAX_ID,
        help_text="The entry's `version` when you read it (optimistic locking).",
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
    entry = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The id of the entry queried."
    )
    comment = serializers.CharField(allow_blank=True, help_text="What the query is.")


class RaiseQueriesSerializer(serializers.Serializer):
    queries = NewQuerySerializer(many=True, help_text="One or more entries, each with a comment.")


class QueryAnswerSerializer(serializers.Serializer):
    query = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The id of an open query."
    )
    answer = serializers.CharField(allow_blank=True)


class AnswerQueriesSerializer(serializers.Serializer):
    answers = QueryAnswerSerializer(many=True, help_text="One or more open queries, answered.")


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Why the return is reopened (R15)."
    )


class BulkSignOffSerializer(serializers.Serializer):
    returns = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
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
            404: _no_page(),
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
        responses={
            200: ReturnSerializer,
            **WRITE_ERRORS,
            400: _refused(RaiseQueriesSerializer, REFUSED.description),
        },
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
        responses={
            200: ReturnSerializer,
            **WRITE_ERRORS,
            400: _refused(AnswerQueriesSerializer, REFUSED.description),
        },
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
        responses={
            200: ReturnSerializer,
            **WRITE_ERRORS,
            400: _refused(ReopenSerializer, REFUSED.description),
        },
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
