"""The API under ``/api/v1/`` (interfaces.md), namespaced ``api``.

Measures and targets nest under their contract: a measure keyed by its slug (``SM 1.1`` ->
``sm-1-1``), a target by its id. Returns and entries are keyed by id; the workflow's steps
hang off a return (``returns/<id>/submit/``), and ``returns/sign-off/`` signs off several
at once. The router names each route ``<basename>-list``, ``<basename>-detail`` and
``<basename>-<action>`` (``api:measure-series``).
"""

from rest_framework.routers import SimpleRouter

from contracts.api import (
    CONTRACT_KEY,
    ContractViewSet,
    EntryViewSet,
    MeasureViewSet,
    ReturnViewSet,
    TargetViewSet,
)

app_name = "api"

CONTRACT = f"contracts/(?P<contract_slug>{CONTRACT_KEY})"

router = SimpleRouter()
router.register("contracts", ContractViewSet, basename="contract")
router.register(f"{CONTRACT}/measures", MeasureViewSet, basename="measure")
router.register(f"{CONTRACT}/targets", TargetViewSet, basename="target")
router.register("returns", ReturnViewSet, basename="return")
router.register("entries", EntryViewSet, basename="entry")

urlpatterns = router.urls
