"""Admin for the measure catalogue. Every change is kept by django-simple-history
(who, when, before and after); model ``clean()`` runs the rating engine's
self-contradiction checks, so a contradictory target is refused with its message."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from kpis.models import (
    Comparator,
    DataGap,
    Measure,
    MeasureSet,
    Observation,
    Rebase,
    SeriesBreak,
    Target,
)


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0
    fields = [
        "valid_from", "valid_to", "target", "target_low", "target_high",
        "tolerance_low", "tolerance_high", "tolerance_relative", "tolerance_unit", "note",
    ]


@admin.register(MeasureSet)
class MeasureSetAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Measure)
class MeasureAdmin(SimpleHistoryAdmin):
    list_display = ["code", "title", "kind", "unit", "polarity", "frequency", "measure_set"]
    list_filter = ["measure_set", "kind", "unit", "polarity", "frequency", "year_type", "cumulative"]
    search_fields = ["code", "title", "definition"]
    readonly_fields = ["slug"]
    inlines = [TargetInline]


@admin.register(Target)
class TargetAdmin(SimpleHistoryAdmin):
    list_display = [
        "measure", "valid_from", "valid_to", "target", "tolerance_low", "tolerance_high",
        "tolerance_relative", "tolerance_unit",
    ]
    list_filter = ["measure__measure_set", "valid_from", "tolerance_unit"]
    search_fields = ["measure__code", "measure__title", "note"]
    list_select_related = ["measure"]
    autocomplete_fields = ["measure"]


@admin.register(Observation)
class ObservationAdmin(SimpleHistoryAdmin):
    list_display = ["measure", "period", "value", "numerator", "denominator", "as_at", "is_official"]
    list_filter = ["measure__measure_set", "is_official", "measure__kind"]
    search_fields = ["measure__code", "measure__title", "period", "note"]
    readonly_fields = ["period_start", "period_end"]
    list_select_related = ["measure"]
    autocomplete_fields = ["measure"]


@admin.register(SeriesBreak)
class SeriesBreakAdmin(SimpleHistoryAdmin):
    list_display = ["measure", "from_period", "reason"]
    list_filter = ["measure__measure_set"]
    search_fields = ["measure__code", "reason"]
    readonly_fields = ["from_date"]
    list_select_related = ["measure"]


@admin.register(DataGap)
class DataGapAdmin(SimpleHistoryAdmin):
    list_display = ["measure", "start", "end", "reason"]
    list_filter = ["measure__measure_set"]
    search_fields = ["measure__code", "reason"]
    list_select_related = ["measure"]


@admin.register(Comparator)
class ComparatorAdmin(SimpleHistoryAdmin):
    list_display = ["measure", "group", "period", "value", "comparable", "source"]
    list_filter = ["measure__measure_set", "group", "comparable"]
    search_fields = ["measure__code", "group", "source"]
    readonly_fields = ["period_end"]
    list_select_related = ["measure"]


@admin.register(Rebase)
class RebaseAdmin(SimpleHistoryAdmin):
    list_display = ["measure", "from_period", "reason"]
    list_filter = ["measure__measure_set"]
    search_fields = ["measure__code", "reason"]
    readonly_fields = ["from_date"]
    list_select_related = ["measure"]
