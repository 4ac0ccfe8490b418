"""The report's records in the Django admin: the written text and reviewed commentary
with their history, and published reports, which are frozen and so read-only."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from reports.models import MeasureCommentary, PublishedReport, ReportText


@admin.register(ReportText)
class ReportTextAdmin(SimpleHistoryAdmin):
    list_display = ("contract", "period", "section", "updated_by", "updated_at")
    list_filter = ("section", "contract")
    search_fields = ("text",)


@admin.register(MeasureCommentary)
class MeasureCommentaryAdmin(SimpleHistoryAdmin):
    list_display = ("measure", "period", "state", "reviewed_by", "reviewed_at")
    list_filter = ("state",)
    search_fields = ("measure__code", "text")


@admin.register(PublishedReport)
class PublishedReportAdmin(admin.ModelAdmin):
    """Published reports are frozen (R17): shown, never changed or deleted here."""

    list_display = ("contract", "period", "published_by", "published_at")
    readonly_fields = ("contract", "period", "published_by", "published_at", "data", "html")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
