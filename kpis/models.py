"""The measuring engine's records: measure sets, measures, targets, figures.

This app knows nothing of contracts or people (a contract points at its measure
set). Rating itself lives in the pure module ``kpis.rating``; the models only
translate their rows into the engine's plain values.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from kpis import periods, rating, spc

VALUE_FIELD = {"max_digits": 18, "decimal_places": 6, "null": True, "blank": True}


def measure_slug(code: str) -> str:
    """The key of a measure in URLs: the code lower-cased, every run of other
    characters one hyphen (``SM 1.1`` -> ``sm-1-1``), as the API promises."""
    return re.sub(r"[^a-z0-9]+", "-", code.lower()).strip("-")


class Kind(models.TextChoices):
    KPI = "kpi", "Key performance indicator"
    SUPPORTING = "supporting", "Supporting measure"
    MI = "mi", "Management information"


class Unit(models.TextChoices):
    PERCENT = "percent", "Percentage"
    RATE = "rate", "Rate per population"
    COUNT = "count", "Count"
    DAYS = "days", "Number of days"
    FTE = "fte", "Full-time equivalents"
    OTHER = "other", "Other"


class Polarity(models.TextChoices):
    UP = "up", "Higher is better"
    DOWN = "down", "Lower is better"
    BAND = "band", "Within a band"


class Frequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    TERMLY = "termly", "Termly"
    ANNUAL = "annual", "Annual"


class YearType(models.TextChoices):
    FINANCIAL = "financial", "Financial (April to March)"
    ACADEMIC = "academic", "Academic (September to August)"
    CALENDAR = "calendar", "Calendar (January to December)"


class ToleranceUnit(models.TextChoices):
    POINTS = "points", "Points"
    PERCENT = "percent", "Percent of the target"


class Flag(models.TextChoices):
    """Data-quality flags (interfaces.md). ``lag``, ``series_break`` and ``draft``
    are also derived by the scorecard; the rest are recorded with the figure."""

    LAG = "lag", "Data lag"
    GAP = "gap", "Gap in the data"
    SERIES_BREAK = "series_break", "Series break"
    SECOND_SOURCE_DISAGREES = "second_source_disagrees", "Second source disagrees"
    ILLUSTRATIVE = "illustrative", "Illustrative"
    PROVISIONAL = "provisional", "Provisional"
    DRAFT = "draft", "Draft"


RECORDED_FLAGS = {
    Flag.GAP,
    Flag.SECOND_SOURCE_DISAGREES,
    Flag.ILLUSTRATIVE,
    Flag.PROVISIONAL,
    Flag.LAG,
    Flag.SERIES_BREAK,
}


class MeasureSet(models.Model):
    """A catalogue of measures: a contract's, or a council's own.

    The statistical process control settings default to Making Data Count's, as
    NHSRplotthedots implements them (kpis.spc.SPCConfig); a contract may change them.
    """

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    spc_shift_points = models.PositiveSmallIntegerField(
        default=7, help_text="Points in a row on one side of the mean that signal a shift."
    )
    spc_trend_points = models.PositiveSmallIntegerField(
        default=7, help_text="Points in a row each rising (or falling) that signal a trend."
    )
    spc_minimum_points = models.PositiveSmallIntegerField(
        default=12, help_text="Fewer points than this: insufficient data for process limits."
    )
    spc_baseline_points = models.PositiveSmallIntegerField(
        default=20, help_text="Limits are provisional below this many points, then lock."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # kpis.spc.SPCConfig's settings and the fields holding them, in the order it checks them.
    SPC_FIELDS = {
        "shift_points": ("spc_shift_points", "shift run length"),
        "trend_points": ("spc_trend_points", "trend run length"),
        "minimum_points": ("spc_minimum_points", "minimum points for process limits"),
        "baseline_points": ("spc_baseline_points", "baseline points"),
    }

    def spc_config(self) -> spc.SPCConfig:
        return spc.SPCConfig(
            **{setting: getattr(self, name) for setting, (name, _) in self.SPC_FIELDS.items()}
        )

    def clean(self) -> None:
        """Settings kpis.spc cannot work with are refused here, under the field at fault,
        so no chart of the contract's measures fails on them later."""
        if any(not isinstance(getattr(self, name), int) for name, _ in self.SPC_FIELDS.values()):
            return  # a blank or malformed setting: its field's own error says so
        try:
            self.spc_config()
        except ValueError as exc:
            name, words = self.spc_field_at_fault()
            raise ValidationError(
                {name: f"The {words} cannot be {getattr(self, name)}: {exc}."}
            ) from exc

    def spc_field_at_fault(self) -> tuple[str, str]:
        """The first setting, in the order kpis.spc checks them, that cannot work with the
        ones before it (the rest at their defaults): its field and what it is called."""
        given: dict[str, int] = {}
        for setting, (name, words) in self.SPC_FIELDS.items():
            given[setting] = getattr(self, name)
            try:
                spc.SPCConfig(**given)
            except ValueError:
                return name, words
        return self.SPC_FIELDS["baseline_points"]


class Measure(models.Model):
    measure_set = models.ForeignKey(MeasureSet, on_delete=models.CASCADE, related_name="measures")
    code = models.CharField(max_length=30, help_text="As the contract writes it, e.g. 'KPI 1', 'SM 1.1'.")
    slug = models.SlugField(max_length=40, editable=False)
    title = models.CharField(max_length=400)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    definition = models.TextField(blank=True)
    unit = models.CharField(max_length=20, choices=Unit.choices)
    per = models.PositiveIntegerField(
        null=True, blank=True, help_text="Population base of a rate, e.g. 10000."
    )
    decimals = models.PositiveSmallIntegerField(default=1)
    polarity = models.CharField(
        max_length=10, choices=Polarity.choices, blank=True, help_text="Blank: no polarity."
    )
    frequency = models.CharField(max_length=20, choices=Frequency.choices, default=Frequency.MONTHLY)
    year_type = models.CharField(max_length=20, choices=YearType.choices, default=YearType.FINANCIAL)
    cumulative = models.BooleanField(
        default=False, help_text="Accumulates over the year; judged by projection (R7)."
    )
    lag_months = models.PositiveSmallIntegerField(
        default=0, help_text="Months after its period ends that a figure usually arrives."
    )
    data_source = models.CharField(max_length=300, blank=True)
    comparability_note = models.TextField(blank=True)
    display_order = models.PositiveIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["measure_set", "display_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["measure_set", "code"], name="measure_code_unique"),
            models.UniqueConstraint(fields=["measure_set", "slug"], name="measure_slug_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    # How its figures are labelled (R11): fixed once the measure has any figure.
    PERIOD_FIELDS = ("frequency", "year_type")
    # How its figures are rated and shown (R2, R3, R7): fixed once any figure is official,
    # as official verdicts never change silently (R15, R16).
    VERDICT_FIELDS = ("polarity", "unit", "per", "decimals", "cumulative")
    # Figures are stored to six decimal places (VALUE_FIELD), so no more can be shown.
    MAX_DECIMALS = VALUE_FIELD["decimal_places"]
    # Figures arrive at most two years after their period ends.
    MAX_LAG_MONTHS = 24

    def clean(self) -> None:
        self.slug = measure_slug(self.code)
        if not self.slug:
            raise ValidationError({"code": "The code needs at least one letter or digit."})
        if self.unit == Unit.RATE and not self.per:
            raise ValidationError({"per": "A rate needs its population base, e.g. 10000."})
        if self.unit != Unit.RATE and self.per:
            raise ValidationError({"per": "Only a rate has a population base."})
        if self.frequency == Frequency.TERMLY and self.year_type != YearType.ACADEMIC:
            raise ValidationError({"year_type": "Termly measures run over academic years."})
        if self.frequency == Frequency.QUARTERLY and self.year_type != YearType.FINANCIAL:
            raise ValidationError({"year_type": "Quarters are financial quarters (Q1 = April to June)."})
        errors: dict[str, list[str]] = {}
        if isinstance(self.decimals, int) and self.decimals > self.MAX_DECIMALS:
            errors["decimals"] = [
                f"{self.code}: figures are stored to {self.MAX_DECIMALS} decimal places, so "
                f"{self.decimals} cannot be shown; use 0 to {self.MAX_DECIMALS}."
            ]
        if isinstance(self.lag_months, int) and self.lag_months > self.MAX_LAG_MONTHS:
            errors["lag_months"] = [
                f"{self.code}: a figure is due at most {self.MAX_LAG_MONTHS} months after its "
                f"period ends, not {self.lag_months}."
            ]
        for name, message in self.frozen_changes().items():
            errors.setdefault(name, []).append(message)
        if errors:
            raise ValidationError(errors)

    def frozen_changes(self) -> dict[str, str]:
        """What this save would change that the measure's figures fix, each with why.

        Its frequency and year type label its figures (R11), so they stay once it has any
        figure; its polarity, unit, population base, decimals and whether it accumulates
        decide and show their verdicts, so they stay once any figure is official (R15,
        R16). One place for the admin, the import and the API, which all call full_clean.
        """
        stored = Measure.objects.filter(pk=self.pk).first() if self.pk else None
        if stored is None:
            return {}
        changed = [
            name
            for name in (*self.PERIOD_FIELDS, *self.VERDICT_FIELDS)
            if getattr(stored, name) != getattr(self, name)
        ]
        if not changed:
            return {}
        problems: dict[str, str] = {}
        figures = Observation.objects.filter(measure_id=self.pk).order_by("period_end")
        period_changes = [n for n in changed if n in self.PERIOD_FIELDS]
        if period_changes and figures.exists():
            for name in period_changes:
                problems[name] = (
                    f"{stored.code}: the {name.replace('_', ' ')} cannot change from "
                    f"{stored.shown(name)} to {self.shown(name)}: its figures are labelled by its "
                    f"{stored.get_frequency_display().lower()} {stored.year_type} periods (R11); "
                    "its frequency and year type cannot change. Add a new measure instead."
                )
        verdict_changes = [n for n in changed if n in self.VERDICT_FIELDS]
        official = (
            list(figures.filter(is_official=True).values_list("period", flat=True))
            if verdict_changes
            else []
        )
        if official:
            span = official[0] if len(official) == 1 else f"{official[0]} to {official[-1]}"
            which = "figure" if len(official) == 1 else "figures"
            for name in verdict_changes:
                problems[name] = (
                    f"{stored.code}: the {name} cannot change from {stored.shown(name)} to "
                    f"{self.shown(name)}: it has {len(official)} official {which} ({span}), whose "
                    "verdicts it would change, and official verdicts never change silently "
                    "(R15, R16). Add a new measure instead."
                )
        return problems

    def shown(self, name: str) -> str:
        """A definition field's value as a message quotes it: ``'up' (Higher is better)``."""
        value = getattr(self, name)
        field = self._meta.get_field(name)
        if value is None or value == "":
            return "none"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if field.choices:
            return f"'{value}' ({dict(field.flatchoices).get(value, value)})"
        return str(value)

    def as_definition(self) -> rating.Definition:
        return rating.Definition(
            code=self.code,
            polarity=self.polarity or None,
            unit=self.unit,
            per=Decimal(self.per) if self.per else None,
            decimals=self.decimals,
            cumulative=self.cumulative,
        )

    def parse_period(self, label: str) -> periods.Period:
        """Parse a period label for this measure; the kind must match its frequency (R11)."""
        period = periods.parse_period(label, self.year_type)
        wanted = periods.period_kind_for(self.frequency, self.year_type)
        if period.kind != wanted:
            raise periods.PeriodError(
                f"{self.code} is {self.get_frequency_display().lower()}: "
                f"'{label}' is a {period.kind}, not a {wanted.replace('_', ' ')}."
            )
        return period


class TargetQuerySet(models.QuerySet):
    def in_force_on(self, day: date) -> TargetQuerySet:
        """Targets in force on a day: valid_from to valid_to inclusive (R12)."""
        return self.filter(valid_from__lte=day).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))


class TargetValues(models.Model):
    """A target and tolerance as an admin writes them.

    Tolerance is either an absolute band as written (``tolerance_low``-
    ``tolerance_high``) or relative to the target (``tolerance_relative`` in points
    or percent of the target, R4). Blank tolerance means none (R3).
    """

    target = models.DecimalField(**VALUE_FIELD)
    target_low = models.DecimalField(**VALUE_FIELD, help_text="Band measures: target range from.")
    target_high = models.DecimalField(**VALUE_FIELD, help_text="Band measures: target range to.")
    tolerance_low = models.DecimalField(**VALUE_FIELD)
    tolerance_high = models.DecimalField(**VALUE_FIELD)
    tolerance_relative = models.DecimalField(**VALUE_FIELD)
    tolerance_unit = models.CharField(max_length=10, choices=ToleranceUnit.choices, blank=True)

    VALUE_FIELDS = (
        "target", "target_low", "target_high", "tolerance_low", "tolerance_high",
        "tolerance_relative", "tolerance_unit",
    )

    class Meta:
        abstract = True

    def as_spec(self) -> rating.TargetSpec:
        return rating.TargetSpec(
            target=self.target,
            target_low=self.target_low,
            target_high=self.target_high,
            tolerance_low=self.tolerance_low,
            tolerance_high=self.tolerance_high,
            tolerance_relative=self.tolerance_relative,
            tolerance_unit=self.tolerance_unit or None,
        )

    def value_problems(self, measure: Measure) -> list[str]:
        """Self-contradictions of these values for this measure (R6), in the engine's words."""
        problems = []
        if (self.tolerance_relative is None) != (not self.tolerance_unit):
            problems.append(
                f"{measure.code}: a relative tolerance needs both its size and its unit (points or percent)."
            )
        return problems + rating.definition_problems(measure.as_definition(), self.as_spec())


class Target(TargetValues):
    """A target and tolerance with its period of validity (R12, R16)."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="targets")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="Blank: until further notice.")
    note = models.TextField(blank=True, help_text="Where the figures come from, or why they changed.")
    history = HistoricalRecords()

    objects = TargetQuerySet.as_manager()

    class Meta:
        ordering = ["measure", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "valid_from"], name="target_valid_from_unique"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="target_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measure.code} from {self.valid_from:%d %b %Y}"

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.measure_id is not None:
            problems = self.value_problems(self.measure)
            if problems:
                errors.setdefault("__all__", []).extend(problems)
            overlapping = Target.objects.filter(measure_id=self.measure_id).exclude(pk=self.pk)
            if self.valid_to is not None:
                overlapping = overlapping.filter(valid_from__lte=self.valid_to)
            overlapping = overlapping.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=self.valid_from))
            if self.valid_from and overlapping.exists():
                errors.setdefault("valid_from", []).append(
                    f"{self.measure.code} already has a target in force in this period "
                    f"({overlapping.first()})."
                )
            frozen = self.official_periods_affected()
            if frozen:
                errors.setdefault("__all__", []).append(
                    f"{self.measure.code}: official figures ({', '.join(frozen)}) are rated against "
                    "the target this would change; change it through a target revision effective "
                    "from a later month (R16)."
                )
        if errors:
            raise ValidationError(errors)

    def official_periods_affected(self) -> list[str]:
        """Periods of official figures whose target in force this save would change (R16).

        A new target, or a change to an existing one's values or start, touches every
        official figure inside its validity; a change to its end alone touches only the
        figures between the old end and the new one.
        """
        official = Observation.objects.filter(measure_id=self.measure_id, is_official=True)
        before = Target.objects.filter(pk=self.pk).first() if self.pk else None
        unchanged_values = before is not None and all(
            getattr(before, f) == getattr(self, f) for f in (*self.VALUE_FIELDS, "valid_from")
        )
        if unchanged_values:
            if before.valid_to == self.valid_to:
                return []
            ends = sorted(d for d in (before.valid_to, self.valid_to) if d is not None)
            official = official.filter(period_end__gt=ends[0])
            if len(ends) == 2:
                official = official.filter(period_end__lte=ends[1])
        else:
            spans = [(self.valid_from, self.valid_to)]
            if before is not None:
                spans.append((before.valid_from, before.valid_to))
            within = Q()
            for start, end in spans:
                span = Q(period_end__gte=start)
                if end is not None:
                    span &= Q(period_end__lte=end)
                within |= span
            official = official.filter(within)
        return list(official.order_by("period_end").values_list("period", flat=True)[:5])


class ObservationQuerySet(models.QuerySet):
    def visible(self, include_drafts: bool) -> ObservationQuerySet:
        """Readers see official figures only (R13, R14)."""
        return self if include_drafts else self.filter(is_official=True)

    def with_figure(self) -> ObservationQuerySet:
        """Figures that can be rated: the query form of ``kpis.scorecard.has_figure``."""
        return self.filter(Q(value__isnull=False) | Q(numerator__isnull=False, denominator__isnull=False))


class Observation(models.Model):
    """One figure of a measure for the period it covers (R11)."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="observations")
    period = models.CharField(max_length=20, help_text="As R11: 2018-04, 2018/19 Q1, 2017/18 Autumn, 2017/18, 2018.")
    period_start = models.DateField(editable=False)
    period_end = models.DateField(editable=False)
    value = models.DecimalField(**VALUE_FIELD)
    numerator = models.DecimalField(**VALUE_FIELD)
    denominator = models.DecimalField(**VALUE_FIELD)
    as_at = models.DateField(null=True, blank=True, help_text="The date the figure is as at (data lag).")
    source = models.CharField(max_length=300, blank=True)
    flags = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    second_value = models.DecimalField(**VALUE_FIELD, help_text="A second source's figure.")
    second_source = models.CharField(max_length=300, blank=True)
    is_official = models.BooleanField(
        default=False, help_text="Draft until its return is signed off or its import batch accepted (R14)."
    )
    history = HistoricalRecords()

    objects = ObservationQuerySet.as_manager()

    FIGURE_FIELDS = (
        "period", "value", "numerator", "denominator", "as_at", "source", "flags", "note",
        "second_value", "second_source",
    )

    class Meta:
        ordering = ["measure", "period_end"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "period"], name="observation_period_unique"),
        ]
        indexes = [models.Index(fields=["measure", "period_end"])]

    def __str__(self) -> str:
        return f"{self.measure.code} {self.period}"

    def set_period(self, label: str) -> None:
        period = self.measure.parse_period(label)
        self.period, self.period_start, self.period_end = period.label, period.start, period.end

    def as_figure(self) -> rating.Figure:
        return rating.Figure(value=self.value, numerator=self.numerator, denominator=self.denominator)

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        try:
            self.set_period(self.period)
        except periods.PeriodError as exc:
            errors["period"] = [str(exc)]
        unknown = sorted(set(self.flags or []) - {str(f) for f in RECORDED_FLAGS})
        if unknown:
            errors["flags"] = [f"Unknown flag(s): {', '.join(unknown)}."]
        problems = rating.figure_problems(self.measure.as_definition(), self.as_figure())
        if problems:
            errors.setdefault("value", []).extend(problems)
        stored = Observation.objects.filter(pk=self.pk, is_official=True).first() if self.pk else None
        if stored is not None and any(getattr(stored, f) != getattr(self, f) for f in self.FIGURE_FIELDS):
            errors.setdefault("__all__", []).append(
                f"{self.measure.code} {self.period} is an official figure: it changes only when a "
                "commissioner reopens its return, with a reason (R15)."
            )
        if errors:
            raise ValidationError(errors)


class SeriesBreak(models.Model):
    """A change of method from a period on: figures either side are not comparable (R8)."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="series_breaks")
    from_period = models.CharField(max_length=20)
    from_date = models.DateField(editable=False)
    reason = models.TextField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["measure", "from_date"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "from_period"], name="series_break_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.measure.code} from {self.from_period}"

    def clean(self) -> None:
        try:
            self.from_date = periods.parse_period(self.from_period, self.measure.year_type).start
        except periods.PeriodError as exc:
            raise ValidationError({"from_period": str(exc)}) from exc


class DataGap(models.Model):
    """Dates for which no figure could be produced (a system migration, say)."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="data_gaps")
    start = models.DateField()
    end = models.DateField()
    reason = models.TextField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["measure", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="data_gap_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.measure.code} gap {self.start} to {self.end}"


class Comparator(models.Model):
    """A benchmark value (statistical neighbours, region, England, ...) with its own period."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="comparators")
    group = models.CharField(max_length=100)
    period = models.CharField(max_length=20)
    period_end = models.DateField(editable=False)
    value = models.DecimalField(max_digits=18, decimal_places=6)
    source = models.CharField(max_length=300, blank=True)
    comparable = models.BooleanField(default=True, help_text="Untick where definitions differ.")
    note = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["measure", "group", "period_end"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "group", "period"], name="comparator_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.measure.code} {self.group} {self.period}"

    def clean(self) -> None:
        try:
            self.period_end = periods.parse_period(self.period, self.measure.year_type).end
        except periods.PeriodError as exc:
            raise ValidationError({"period": str(exc)}) from exc


class Rebase(models.Model):
    """A person's decision that a measure's process has changed from a period on, so its
    process limits are recalculated from there (kpis.spc). Audited; the chart keeps the
    earlier limits visible, so a rebase cannot hide a worsening run."""

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="rebases")
    from_period = models.CharField(max_length=20)
    from_date = models.DateField(editable=False)
    reason = models.TextField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["measure", "from_date"]
        constraints = [models.UniqueConstraint(fields=["measure", "from_period"], name="rebase_unique")]

    def __str__(self) -> str:
        return f"{self.measure.code} rebased from {self.from_period}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not self.reason.strip():
            errors["reason"] = "Say why the process limits are recalculated."
        if self.measure_id is not None:
            try:
                self.from_date = self.measure.parse_period(self.from_period).start
            except periods.PeriodError as exc:
                errors["from_period"] = str(exc)
            else:
                outside = self.outside_figures()
                if outside:
                    errors["from_period"] = outside
        if errors:
            raise ValidationError(errors)

    def outside_figures(self) -> str | None:
        """Why the rebase would recalculate nothing: its period is not after the measure's
        first figure, or is after its latest (kpis.scorecard.spc_series ignores it there)."""
        figures = (
            Observation.objects.filter(measure_id=self.measure_id)
            .with_figure()
            .order_by("period_start")
        )
        first, last = figures.first(), figures.last()
        code = self.measure.code
        if first is None:
            return (
                f"{code} has no figures yet: a rebase recalculates its process limits from "
                "a period within its figures."
            )
        span = f"{code}'s figures run from {first.period} to {last.period}"
        if self.from_date < first.period_start:
            return f"{self.from_period} is before {code}'s first figure: {span}."
        if self.from_date == first.period_start:
            return (
                f"{self.from_period} is the period of {code}'s first figure, where its process limits "
                f"already start: {span}; rebase from a later period."
            )
        if self.from_date > last.period_start:
            return f"{self.from_period} is after {code}'s latest figure: {span}."
        return None
