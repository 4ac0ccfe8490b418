"""Every import kind loads from its sample file under samples/, by the import_data command."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from contracts import imports
from contracts.models import Contract, ImportBatch, Organisation
from kpis.models import Comparator, DataGap, Measure, Observation, SeriesBreak, Target
from retained_services.models import AdmissionsFigure, Dataset, EHEFigure

from .conftest import SAMPLES, row_counts

pytestmark = pytest.mark.django_db

ORDER = imports.KINDS  # contracts first, so every later kind finds its contract and council


def import_sample(kind: str, fmt: str, *extra: str) -> str:
    out = StringIO()
    call_command("import_data", str(SAMPLES / f"{kind}.{fmt}"), "--kind", kind, *extra, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_new_contract_is_set_up_from_the_sample_files_alone(fmt):
    for kind in ORDER:
        output = import_sample(kind, fmt)
        assert "0 changed and 0 unchanged were imported" in output, output

    contract = Contract.objects.select_related("commissioner", "provider").get(
        slug="sample-contract"
    )
    assert (contract.commissioner.name, contract.commissioner.kind) == (
        "Sample City Council",
        "council",
    )
    assert (contract.provider.name, contract.provider.kind) == (
        "Sample Children's Trust",
        "provider",
    )
    assert contract.start == dt.date(2017, 4, 1) and contract.end is None

    measures = {m.code: m for m in Measure.objects.filter(measure_set=contract.measure_set)}
    assert list(measures) == ["KPI 1", "SM 1.1", "SM 3.2", "KPI 4", "KPI 7", "MI 5.19"]
    assert (measures["SM 1.1"].unit, measures["SM 1.1"].per, measures["SM 1.1"].polarity) == (
        "rate",
        10000,
        "band",
    )
    assert measures["SM 3.2"].cumulative and measures["SM 3.2"].decimals == 0
    assert (measures["KPI 4"].frequency, measures["KPI 4"].lag_months) == ("quarterly", 7)
    assert measures["MI 5.19"].polarity == "" and measures["MI 5.19"].slug == "mi-5-19"

    kpi4 = Target.objects.get(measure=measures["KPI 4"])
    assert (kpi4.target, kpi4.tolerance_relative, kpi4.tolerance_unit) == (
        Decimal("560"),
        Decimal("10"),
        "percent",
    )

    figures = Observation.objects.filter(measure__measure_set=contract.measure_set)
    assert figures.count() == 14 and not figures.filter(is_official=True).exists()  # drafts (R14)
    autumn = figures.get(measure=measures["KPI 7"], period="2017/18 Autumn")
    assert (autumn.numerator, autumn.denominator, autumn.period_end) == (
        Decimal("5203"),
        Decimal("5907"),
        dt.date(2017, 12, 31),
    )
    mi = figures.get(measure=measures["MI 5.19"])
    assert mi.flags == ["second_source_disagrees"] and mi.second_value == Decimal("109.4")
    assert figures.get(measure=measures["KPI 4"], period="2017/18 Q2").as_at == dt.date(2017, 8, 31)
    batch = ImportBatch.objects.get()
    assert (batch.contract, batch.state, batch.rows, batch.observations.count()) == (
        contract,
        "pending",
        14,
        14,
    )

    assert Comparator.objects.get(group="England", measure=measures["KPI 7"]).comparable is False
    assert SeriesBreak.objects.get().from_date == dt.date(2017, 10, 1)
    assert DataGap.objects.get().end == dt.date(2017, 12, 31)

    council = Organisation.objects.get(slug="sample-council")
    admissions = Dataset.objects.get(council=council, kind="admissions")
    assert admissions.year == "2018" and not admissions.is_final
    assert AdmissionsFigure.objects.get(
        dataset=admissions, phase="secondary"
    ).any_of_three_percent == Decimal("96.3")
    assert EHEFigure.objects.get(dataset__year="2017/18", term="year").total_in_period == 161


def test_importing_the_same_files_again_changes_nothing():
    for kind in ORDER:
        import_sample(kind, "csv")
    before = row_counts()
    for kind in ORDER:
        output = import_sample(kind, "xlsx")  # the workbooks say what the CSVs say
        assert " 0 new, 0 changed and " in output, output
    assert row_counts() == before


def test_a_dry_run_checks_everything_and_writes_nothing():
    before = row_counts()
    output = import_sample("contracts", "csv", "--dry-run")
    assert "1 new, 0 changed and 0 unchanged would be imported" in output
    assert "Dry run: nothing was written." in output
    assert row_counts() == before
    import_sample("contracts", "csv")
    import_sample("measures", "csv")
    before = row_counts()
    output = import_sample("observations", "xlsx", "--dry-run")
    assert (
        "14 new" in output
        and "would form an import batch (14 figures for sample-contract)" in output
    )
    assert row_counts() == before


def test_rows_may_leave_out_the_contract_when_the_command_names_it(tmp_path):
    import_sample("contracts", "csv")
    import_sample("measures", "csv")
    path = tmp_path / "targets.csv"
    lines = (SAMPLES / "targets.csv").read_text().splitlines()
    path.write_text("\n".join(line.split(",", 1)[1] for line in lines) + "\n")
    out = StringIO()
    call_command(
        "import_data", str(path), "--kind", "targets", "--contract", "sample-contract", stdout=out
    )
    assert "5 new" in out.getvalue()
    assert (
        Target.objects.filter(measure__measure_set__contract__slug="sample-contract").count() == 5
    )


def test_the_command_lists_every_problem_and_fails(tmp_path):
    import_sample("contracts", "csv")
    import_sample("measures", "csv")
    path = tmp_path / "figures.csv"
    path.write_text(
        "contract,code,period,value\nsample-contract,KPI 1,2018-13,90\nsample-contract,KPI 99,2018-01,x\n"
    )
    before = row_counts()
    err = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command(
            "import_data", str(path), "--kind", "observations", stdout=StringIO(), stderr=err
        )
    assert str(failed.value) == (
        "figures.csv: 3 problems found in 2 rows of figures. Nothing was imported: correct the file "
        "and import it again."
    )
    lines = err.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "Row 2, column period (‘2018-13’)",
        "Row 3, column code (‘KPI 99’)",
        "Row 3, column value (‘x’)",
    ]
    assert row_counts() == before
    with pytest.raises(CommandError, match="There is no file"):
        call_command("import_data", str(tmp_path / "missing.csv"), "--kind", "observations")
    with pytest.raises(CommandError, match="There is no contract 'nope'"):
        call_command("import_data", str(path), "--kind", "observations", "--contract", "nope")
