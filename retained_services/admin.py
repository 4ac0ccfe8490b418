from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from retained_services.models import AdmissionsFigure, Dataset, EHEFigure


class AdmissionsInline(admin.TabularInline):
    model = AdmissionsFigure
    extra = 0


class EHEInline(admin.TabularInline):
    model = EHEFigure
    extra = 0


@admin.register(Dataset)
class DatasetAdmin(SimpleHistoryAdmin):
    list_display = ["council", "kind", "year", "is_final", "finalised_at"]
    list_filter = ["council", "kind", "is_final"]
    search_fields = ["year", "note"]
    inlines = [AdmissionsInline, EHEInline]


@admin.register(AdmissionsFigure)
class AdmissionsFigureAdmin(SimpleHistoryAdmin):
    list_display = ["dataset", "phase", "first_choice_number", "first_choice_percent"]
    list_filter = ["dataset__council", "phase"]
    search_fields = ["dataset__year"]


@admin.register(EHEFigure)
class EHEFigureAdmin(SimpleHistoryAdmin):
    list_display = ["dataset", "term", "new_ehe", "new_year11_ehe", "total_in_period"]
    list_filter = ["dataset__council", "term"]
    search_fields = ["dataset__year"]
