"""Acceptance: export the demo contract, import it into an empty database, and every
month's scorecard is identical, flags and reasons included (issue 6)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from contracts import exports, imports
from contracts.models import Contract, ImportBatch, MonthlyReturn, Organisation, Role
from kpis import periods
from kpis.models import MeasureSet, Observation
from kpis.scorecard import build_scorecard
from retained_services.models import Dataset
from tests.factories import member

pytestmark = pytest.mark.django_db

# The order a new contract is set up in; every kind of the contract, in both formats.
KINDS = (
    ("contracts", "xlsx"),
    ("measures", "csv"),
    ("targets", "xlsx"),
    ("observations", "xlsx"),
    ("comparators", "csv"),
    ("series_breaks", "xlsx"),
    ("data_gaps", "csv"),
)


def fingerprint(contract: Contract, month: periods.Period, include_drafts: bool) -> list[tuple]:
    """A scorecard's every field that a reader, the API or a report could see."""
    rows = []
    for row in build_scorecard(contract.measure_set, month, include_drafts=include_drafts):
        measure, obs, verdict = row.measure, row.observation, row.verdict
        rows.append(
            (
                measure.code,
                measure.title,
                measure.kind,
                measure.unit,
                measure.per,
                measure.polarity,
                measure.frequency,
                measure.year_type,
                measure.cumulative,
                measure.decimals,
                measure.lag_months,
                measure.definition,
                measure.data_source,
                measure.comparability_note,
                row.period,
                row.as_at,
                row.value,
                row.display_value,
                None if obs is None else tuple(getattr(obs, f) for f in Observation.FIGURE_FIELDS),
                None if obs is None else obs.is_official,
                None
                if row.target is None
                else (
                    row.target.as_spec(),
                    row.target.valid_from,
                    row.target.valid_to,
                    row.target.note,
                ),
                verdict.status,
                verdict.reason,
                verdict.value,
                verdict.bounds,
                verdict.projected,
                row.direction_previous,
                row.direction_year,
                tuple(row.flags),
                tuple(
                    measure.comparators.values_list(
                        "group", "period", "value", "source", "comparable", "note"
                    )
                ),
            )
        )
    return rows


def months_with_figures(contract: Contract) -> list[periods.Period]:
    ends = Observation.objects.filter(measure__measure_set=contract.measure_set).values_list(
        "period_end", flat=True
    )
    first, last = min(ends), max(ends)
    month = periods.month(first.year, first.month)
    found = []
    while month.start <= last:
        found.append(month)
        month = periods.add_months(month, 1)
    return found


def scorecards(contract: Contract) -> dict[tuple[str, bool], list[tuple]]:
    return {
        (month.label, drafts): fingerprint(contract, month, drafts)
        for month in months_with_figures(contract)
        for drafts in (True, False)
    }


def empty_the_database() -> None:
    MonthlyReturn.objects.all().delete()
    Contract.objects.all().delete()
    MeasureSet.objects.all().delete()
    Dataset.objects.all().delete()
    Organisation.objects.all().delete()
    assert not Observation.objects.exists() and not Contract.objects.exists()


def test_the_demo_contract_survives_export_and_import_into_an_empty_database():
    call_command("load_demo", stdout=StringIO())
    contract = Contract.objects.get(slug="sunderland-tfc")
    files = {
        kind: (f"{kind}.{fmt}", exports.render(exports.contract_sheet(kind, contract), fmt))
        for kind, fmt in KINDS
    }
    before = scorecards(contract)
    assert len(before) >= 16 and any(
        row[-2] for card in before.values() for row in card
    )  # flags shown

    empty_the_database()
    for kind, _ in KINDS:
        name, data = files[kind]
        report = imports.import_file(kind, data, name)
        assert report.ok, report.lines()
        assert report.written and report.created == report.rows

    contract = Contract.objects.get(slug="sunderland-tfc")
    batch = ImportBatch.objects.get(contract=contract)
    assert batch.state == ImportBatch.State.PENDING and batch.rows == Observation.objects.count()
    commissioner = member(contract.commissioner, Role.COMMISSIONER, "new-commissioner")
    imports.accept_batch(batch.pk, commissioner)

    assert scorecards(contract) == before
