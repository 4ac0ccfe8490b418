"""The read API under ``/api/v1/`` (interfaces.md), namespaced ``api``.

Measures nest under their contract, keyed by the measure's slug (``SM 1.1`` -> ``sm-1-1``).
"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from contracts.api import ContractViewSet, MeasureViewSet

app_name = "api"

router = SimpleRouter()
router.register("contracts", ContractViewSet, basename="contract")

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
