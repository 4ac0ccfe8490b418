"""The API under ``/api/v1/`` (interfaces.md), namespaced ``api``.

Measures nest under their contract, keyed by the measure's slug (``SM 1.1`` -> ``sm-1-1``).
Returns and entries are keyed by id; the workflow's steps hang off a return
(``returns/<id>/submit/``), and ``returns/sign-off/`` signs off several at once.
"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from contracts.api import ContractViewSet, EntryViewSet, MeasureViewSet, ReturnViewSet

app_name = "api"

router = SimpleRouter()
router.register("contracts", ContractViewSet, basename="contract")
router.register("returns", ReturnViewSet, basename="return")
router.register("entries", EntryViewSet, basename="entry")

urlpatterns = [
    *router.urls,
    path(
        "contracts/<slug:contract_slug>/measures/",
        MeasureViewSet.as_view({"get": "list"}),
        name="measure-list",
    ),
    path(
        "contracts/<slug:contract_slug>/measures/<slug:slug>/",
        MeasureViewSet.as_view({"get": "retrieve"}),
        name="measure-detail",
    ),
]
