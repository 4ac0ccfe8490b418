from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from contracts.models import Contract, Membership, Organisation


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "slug"]
    list_filter = ["kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Contract)
class ContractAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "commissioner", "provider", "start", "end"]
    list_filter = ["commissioner", "provider"]
    search_fields = ["name", "slug"]
    list_select_related = ["commissioner", "provider"]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["organisation", "role"]
    search_fields = ["user__username", "user__email", "organisation__name"]
    list_select_related = ["user", "organisation"]
from contracts import import_admin  # noqa: E402,F401  (import and export in the admin)
