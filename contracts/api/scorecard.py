"""The monthly scorecard (``contracts/<slug>/scorecard/``) and a measure's statistical
process control chart (``contracts/<slug>/measures/<slug>/series/``): read from
``kpis.scorecard``, so the API, the pages and the report always agree. Each is an action
of the contracts' or the measures' viewset (``contracts.api.definitions``), written here
as a mixin."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from contracts import access
from contracts.api.fields import STATUS_CHOICES, ExactDecimalField, checked, parse_month
from contracts.api.schema import (
    AUTH_ERRORS,
    CONTRACT_SLUG,
    MEASURE_SLUG,
    NO_CONTRACT,
    NO_MEASURE,
    list_errors,
    no_page,
    page_parameters,
    path_parameter,
)
from contracts.api_pagination import Pages
from contracts.models import Contract
from kpis import periods, rating
from kpis.models import Flag, Kind, Measure, Unit
from kpis.scorecard import (
    ScorecardRow,
    build_row,
    build_scorecard,
    latest_month,
    spc_points,
    with_history,
)

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

# --- the scorecard ---------------------------------------------------------------------


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
    """A page of the scorecard: the envelope of every list (``contracts.api_pagination``)
    with the contract and month it is of."""

    contract = serializers.SlugField(help_text="The contract's slug.")
    period = serializers.CharField(help_text="The scorecard month, YYYY-MM.")
    count = serializers.IntegerField(help_text="How many measures (rows) there are in all.")
    next = serializers.URLField(allow_null=True, help_text="The next page; null on the last.")
    previous = serializers.URLField(
        allow_null=True, help_text="The previous page; null on the first."
    )
    results = ScorecardRowSerializer(many=True, help_text="This page's rows.")


# --- a measure's statistical process control series -----------------------------------


class SeriesQuerySerializer(serializers.Serializer):
    period = serializers.CharField(
        required=False,
        help_text="The figures up to the end of this month, YYYY-MM (e.g. 2018-04). Default: "
        "the month of the latest figure you may see, or the current month when there is none.",
    )

    def validate_period(self, value: str) -> periods.Period:
        return parse_month(value)


class PeriodErrorSerializer(serializers.Serializer):
    period = serializers.ListField(child=serializers.CharField())


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


# --- the views -------------------------------------------------------------------------


def shown_month(
    user: access.AnyUser, contract: Contract, asked: periods.Period | None
) -> tuple[periods.Period, bool]:
    """The month to show and whether the viewer's draft figures count (R13): the month
    asked for, else that of the latest figure this viewer may see, else the current one."""
    include_drafts = access.may_see_drafts(user, contract)
    month = asked or latest_month(contract.measure_set, include_drafts=include_drafts)
    if month is None:
        today = timezone.localdate()
        month = periods.month(today.year, today.month)
    return month, include_drafts


class ScorecardAction:
    """``scorecard``, an action of the contracts' viewset (its ``get_object``)."""

    @extend_schema(
        tags=["scorecard"],
        summary="The monthly scorecard",
        description=(
            "Every measure of the contract with its latest figure covering a period that ends "
            "on or before the month's end, rated against the target in force for that period "
            "(R13), or those of the `kind` and `status` asked for, in the contract's order. "
            "Paginated as every list is (`page`, `page_size`), with the contract and month. "
            "Draft figures appear (flagged `draft`) only for those who may see drafts: provider "
            "staff, commissioners and admins; readers see official figures only."
        ),
        parameters=[
            path_parameter("slug", CONTRACT_SLUG),
            ScorecardQuerySerializer,
            *page_parameters(),
        ],
        responses={
            200: ScorecardSerializer,
            400: list_errors(
                "ScorecardQueryErrors",
                ScorecardQuerySerializer().fields,
                "`period` is not a month written YYYY-MM, or `kind` or `status` is not one of "
                "its values.",
            ),
            **AUTH_ERRORS,
            404: no_page(NO_CONTRACT.description.rstrip(".")),
        },
    )
    @action(detail=True, pagination_class=Pages, filter_backends=[])
    def scorecard(self, request: Request, slug: str) -> Response:
        contract = self.get_object()  # type: ignore[attr-defined]
        query = checked(ScorecardQuerySerializer, request.query_params)
        month, include_drafts = shown_month(request.user, contract, query.get("period"))
        rows: list[ScorecardRow] = build_scorecard(
            contract.measure_set, month, include_drafts=include_drafts
        )
        kind, verdict = query.get("kind"), query.get("status")
        rows = [
            row
            for row in rows
            if (kind is None or row.measure.kind == kind)
            and (verdict is None or row.verdict.status == verdict)
        ]
        paginator: Pages = self.paginator  # type: ignore[attr-defined]
        page = paginator.paginate_queryset(rows, request, view=self)
        listed = paginator.get_paginated_response(page).data
        document = {"contract": contract.slug, "period": month.label, **listed}
        return Response(ScorecardSerializer(document).data)


class SeriesAction:
    """``series``, an action of the measures' viewset (its ``contract``)."""

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
            path_parameter("contract_slug", CONTRACT_SLUG),
            path_parameter("slug", MEASURE_SLUG),
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
        contract: Contract = self.contract  # type: ignore[attr-defined]
        query = checked(SeriesQuerySerializer, request.query_params)
        month, include_drafts = shown_month(request.user, contract, query.get("period"))
        measure = with_history(
            Measure.objects.filter(measure_set_id=contract.measure_set_id, slug=slug),
            month,
            include_drafts=include_drafts,
        ).first()
        if measure is None:
            raise Http404("No such measure.")
        document = measure_series_document(contract, measure, month)
        return Response(MeasureSeriesSerializer(document).data)
