"""The API (``/api/v1/``): contracts, their measures, the monthly scorecard, and the
monthly return's workflow (entering figures, submitting, querying, signing off).

Every endpoint finds its contract or return through ``contracts.access`` and nowhere
else, so another organisation's object is a 404 (never a 403 that would hint it
exists), and whether draft figures show is ``access.may_see_drafts`` (R13). Rating,
bounds and the scorecard come from ``kpis``; every change to a return goes through
``contracts.workflow``, which decides who may act and when, so the API answers with
the same rules and errors as the pages. The views here only choose rows, call those
functions and serialise the result.

- ``fields``: how values are read and written (exact decimals, strict numbers and dates).
- ``schema``: what the OpenAPI schema says the same way everywhere (errors, URL keys).
- ``definitions``: contracts, measures and targets, read and kept by the council's admins.
- ``scorecard``: the monthly scorecard and a measure's statistical process control chart.
- ``returns``: the monthly returns, their entries and the steps of their workflow.

The names below are those used from outside the package (``contracts.api_urls``,
``retained_services.api``, ``SPECTACULAR_SETTINGS``).
"""

from contracts.api.definitions import ContractViewSet, MeasureViewSet, TargetViewSet
from contracts.api.fields import MAX_ID, StrictDecimalField
from contracts.api.returns import OWED_KINDS, EntryViewSet, ReturnViewSet
from contracts.api.schema import CONTRACT_KEY, NOT_SIGNED_IN, ErrorDetailSerializer

__all__ = [
    "CONTRACT_KEY",
    "MAX_ID",
    "NOT_SIGNED_IN",
    "OWED_KINDS",
    "ContractViewSet",
    "EntryViewSet",
    "ErrorDetailSerializer",
    "MeasureViewSet",
    "ReturnViewSet",
    "StrictDecimalField",
    "TargetViewSet",
]
