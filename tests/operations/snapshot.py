"""Everything a database holds, as the app reads it, in one JSON document.

``python -m tests.operations.snapshot`` (with ``DATABASE_URL`` naming the database)
prints: every table's rows in primary-key order (the history tables and the returns
included), every contract's scorecard for every month from its start to its latest
figure, with and without draft figures (``kpis.scorecard.build_scorecard``), and every
return's entries with their verdicts (``contracts.workflow``). The backup test compares
the original database's with the restored one's.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def rows(model: Any) -> list[list[Any]]:
    fields = [f.attname for f in model._meta.concrete_fields]
    return [list(r) for r in model._base_manager.order_by("pk").values_list(*fields)]


def scorecards() -> dict[str, list[list[Any]]]:
    from contracts.models import Contract
    from kpis import periods
    from kpis.scorecard import build_scorecard, following, latest_month

    cards: dict[str, list[list[Any]]] = {}
    for contract in Contract.objects.select_related("measure_set").order_by("slug"):
        last = latest_month(contract.measure_set, include_drafts=True)
        if last is None:
            continue
        month = periods.month(contract.start.year, contract.start.month)
        while month.start <= last.start:
            for drafts in (False, True):
                cards[f"{contract.slug} {month.label} drafts={drafts}"] = [
                    [
                        row.measure.code,
                        row.period,
                        row.as_at,
                        row.value,
                        row.observation.pk if row.observation else None,
                        row.target.pk if row.target else None,
                        str(row.verdict.status),
                        row.verdict.reason,
                        str(row.direction_previous),
                        str(row.direction_year),
                        [str(f) for f in row.flags],
                        row.variation,
                        row.assurance,
                        row.tolerance_assurance,
                    ]
                    for row in build_scorecard(contract.measure_set, month, include_drafts=drafts)
                ]
            month = following(month)
    return cards


def returns() -> dict[str, list[list[Any]]]:
    from contracts import workflow
    from contracts.models import MonthlyReturn

    result = {}
    for monthly_return in MonthlyReturn.objects.select_related("contract").order_by("pk"):
        result[f"{monthly_return.contract.slug} {monthly_return.period}"] = [
            [monthly_return.state]
        ] + [
            [
                status.entry.measure.code,
                status.entry.period,
                str(status.verdict.status),
                status.verdict.reason,
                status.entry.variance_reason,
                status.entry.version,
            ]
            for status in workflow.entry_statuses(monthly_return)
        ]
    return result


def snapshot() -> dict[str, Any]:
    from django.apps import apps

    return {
        "tables": {
            model._meta.db_table: rows(model)
            for model in sorted(
                apps.get_models(include_auto_created=True), key=lambda m: m._meta.db_table
            )
            if not model._meta.proxy and model._meta.managed
        },
        "scorecards": scorecards(),
        "returns": returns(),
    }


def main() -> None:
    import os

    import django
    from django.core.serializers.json import DjangoJSONEncoder

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    json.dump(snapshot(), sys.stdout, cls=DjangoJSONEncoder, sort_keys=True)


if __name__ == "__main__":
    main()
