"""Bad files and bad rows: each gets a clear message, every problem at once, and nothing changes."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest

from contracts import imports
from kpis.models import Observation, Target

from .conftest import SAMPLES, csv_bytes, row_counts, xlsx_bytes

pytestmark = pytest.mark.django_db

OBS_HEADINGS = [
    "contract",
    "code",
    "period",
    "value",
    "numerator",
    "denominator",
    "as_at",
    "flags",
    "second_value",
    "note",
]


def refused(data: bytes, name: str, kind: str = "observations", **kwargs) -> str:
    """The message of a file refused as a whole; nothing may have changed."""
    before = row_counts()
    with pytest.raises(imports.ImportFileError) as error:
        imports.import_file(kind, data, name, **kwargs)
    assert row_counts() == before
    return error.value.message


def problems_of(
    data: bytes, name: str, kind: str = "observations", **kwargs
) -> list[imports.Problem]:
    """The problems of a file whose rows are wrong; nothing may have changed."""
    before = row_counts()
    report = imports.import_file(kind, data, name, **kwargs)
    assert not report.ok and not report.written
    assert row_counts() == before
    return report.problems


# --- bad files -------------------------------------------------------------------------


def test_an_empty_file_is_refused():
    assert refused(b"", "figures.csv") == "figures.csv is empty: there is nothing to import."
    assert "is empty" in refused(b"\xef\xbb\xbf\r\n", "figures.csv")


def test_a_file_with_headings_and_no_rows_is_refused():
    assert "no rows of data" in refused(csv_bytes(OBS_HEADINGS, []), "figures.csv")
    assert "no rows of data" in refused(xlsx_bytes(OBS_HEADINGS, []), "figures.xlsx")


def test_a_file_that_is_not_what_its_extension_says_is_refused():
    message = refused(csv_bytes(OBS_HEADINGS, [["c", "KPI 1", "2018-03", "90"]]), "figures.xlsx")
    assert message.startswith(
        "figures.xlsx is named .xlsx but is not an Excel workbook: it looks like a text file"
    )
    message = refused(xlsx_bytes(OBS_HEADINGS, [["c", "KPI 1", "2018-03", 90]]), "figures.csv")
    assert "is named .csv but is not a CSV text file: it looks like a zip archive" in message
    assert "not an Excel workbook that can be read" in refused(
        b"PK\x03\x04 not really a zip", "figures.xlsx"
    )
    assert "old-style binary Office file" in refused(
        b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "figures.xlsx"
    )
    assert "only .csv (UTF-8) and .xlsx files" in refused(b"a,b\n1,2\n", "figures.xls")


def test_a_sheet_with_the_wrong_headings_names_the_missing_ones(cast):
    problems = problems_of(
        csv_bytes(["contract", "measure", "month", "figure"], [["c", "KPI 1", "2018-03", "90"]]),
        "f.csv",
    )
    assert [(p.row, p.column) for p in problems] == [(1, "code"), (1, "period"), (1, "value")]
    assert (
        "the heading row has no ‘code’ column, which figures need. The file's headings are: contract, measure, month, figure"
        in problems[0].why
    )


def test_headings_are_matched_ignoring_case_and_spaces_and_extra_columns_are_ignored(cast):
    data = csv_bytes(
        [" Contract", "CODE", "Period ", "Value", "Comment from the system"],
        [["c", "KPI 1", "2018-03", "90", "x"]],
    )
    report = imports.import_file("observations", data, "f.csv")
    assert report.ok and report.created == 1
    assert report.ignored_columns == ["comment_from_the_system"]


def test_a_csv_in_another_encoding_is_refused_naming_the_problem(cast):
    data = csv_bytes(
        OBS_HEADINGS,
        [["c", "KPI 1", "2018-03", "90", "", "", "", "", "", "Dip – see note"]],
        encoding="cp1252",
    )
    message = refused(data, "figures.csv")
    assert message == (
        "figures.csv is not UTF-8: the byte 0x96 on line 2 is not valid UTF-8. It looks like Windows-1252 "
        "(Western European, what Excel's plain 'CSV' saves), where that byte is ‘–’. Save the file as "
        "'CSV UTF-8 (comma delimited)' and import it again."
    )
    assert "UTF-16" in refused("contract,code\n".encode("utf-16"), "figures.csv")


def test_a_csv_with_or_without_a_byte_order_mark_is_read(cast):
    rows = [["c", "KPI 1", "2018-03", "90", "", "", "", "", "", "Dip – see note"]]
    report = imports.import_file(
        "observations", b"\xef\xbb\xbf" + csv_bytes(OBS_HEADINGS, rows), "f.csv", dry_run=True
    )
    assert report.ok and report.created == 1


def test_cells_with_formulas_are_refused_naming_each_cell(cast):
    from openpyxl.worksheet.formula import ArrayFormula

    data = xlsx_bytes(
        OBS_HEADINGS,
        [
            ["c", "KPI 1", "2018-02", "=90+1"],
            ["c", "KPI 1", "2018-03", 90, "=E1", 100],
            ["c", "KPI 2", "2018-03", ArrayFormula("D4", "=SUM(D2:D3)")],
        ],
    )
    problems = problems_of(data, "figures.xlsx")
    assert [(p.row, p.column, p.value) for p in problems] == [
        (2, "value", "=90+1"),
        (3, "numerator", "=E1"),
        (4, "value", "=SUM(D2:D3)"),
    ]
    assert problems[0].why.startswith(
        "cell D2 holds a formula. Imports read values only and never run formulas"
    )
    assert "cell E3 holds a formula" in problems[1].why


def test_an_upload_larger_than_the_limit_is_refused_before_it_is_read(settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    message = refused(b"x" * (50 * 1024 * 1024), "figures.csv", limit=imports.max_upload_bytes())
    assert message.startswith("figures.csv is 50.0 MB, larger than the 10.0 MB an upload may be.")


# --- bad rows, all at once -------------------------------------------------------------


def test_every_problem_of_every_row_is_reported_at_once_and_nothing_is_imported(cast):
    rows = [
        ["c", "KPI 99", "2018-03", "90"],  # 2: unknown measure
        ["c", "KPI 1", "2018/19 Q1", "90"],  # 3: not a month
        ["c", "KPI 1", "2018-02", "", "120", "100"],  # 4: numerator larger than denominator
        ["c", "KPI 2", "2018-03", "90"],  # 5
        ["c", "KPI 2", "2018-03", "91"],  # 6: duplicate of row 5
        ["c", "KPI 1", "2018-04", "90"],  # 7: the April return is signed off
        ["c", "KPI 1", "2018-01", "92,1"],  # 8: not a number
        ["c", "KPI 2", "2018-01", "90", "", "", "31/31/2018"],  # 9: not a date
        ["c", "KPI 2", "2018-02", "90", "", "", "", "late"],  # 10: unknown flag
        ["c", "KPI 2", "2999-01", "90"],  # 11: not ended yet
        ["other", "KPI 1", "2018-03", "90"],  # 12: unknown contract
        [
            "c",
            "KPI 4",
            "2017/18 Q3",
            "402",
            "",
            "",
            "",
            "",
            "",
            "=cmd|' /C calc'!A0",
        ],  # 13: a formula
        ["c", "KPI 1", "2017-12", "50", "1", "3"],  # 14: value disagrees with n/d
    ]
    problems = problems_of(csv_bytes(OBS_HEADINGS, rows), "figures.csv")
    found = {(p.row, p.column): p for p in problems}
    assert sorted(found) == [
        (2, "code"),
        (3, "period"),
        (4, "numerator"),
        (6, "period"),
        (7, "period"),
        (8, "value"),
        (9, "as_at"),
        (10, "flags"),
        (11, "period"),
        (12, "contract"),
        (13, "note"),
        (14, "value"),
    ]
    assert found[(2, "code")].value == "KPI 99"
    assert (
        found[(2, "code")].why
        == "is not the code of a measure of c (its measures: KPI 1, KPI 2, KPI 4)."
    )
    assert "KPI 1 is monthly: '2018/19 Q1' is a quarter, not a month." in found[(3, "period")].why
    assert (
        found[(4, "numerator")].why
        == "KPI 1: the numerator 120 is larger than the denominator 100, but the measure is a percentage (R6)"
    )
    assert (
        found[(6, "period")].why
        == "KPI 2 2018-03 is already in row 5 of this file: a figure can be given once."
    )
    assert (
        "is a figure of the 2018-04 return, which is signed off: it changes only when a commissioner reopens that return"
        in found[(7, "period")].why
    )
    assert found[(8, "value")].value == "92,1" and "is not a number" in found[(8, "value")].why
    assert "is not a date" in found[(9, "as_at")].why
    assert "unknown flag(s) late" in found[(10, "flags")].why
    assert "has not ended yet" in found[(11, "period")].why
    assert "is not the slug of any contract" in found[(12, "contract")].why
    assert "holds a formula" in found[(13, "note")].why
    assert "disagrees with its numerator and denominator" in found[(14, "value")].why
    assert str(found[(8, "value")]).startswith(
        "Row 8, column value (‘92,1’): ‘92,1’ is not a number"
    )


def test_an_official_figure_is_not_changed_by_an_import_but_the_same_figure_again_is_fine(cast):
    from tests.factories import ObservationFactory

    contract, _ = cast
    kpi1 = contract.measure_set.measures.get(code="KPI 1")
    ObservationFactory(measure=kpi1, period="2018-03", value=Decimal("91"), is_official=True)
    problems = problems_of(csv_bytes(OBS_HEADINGS[:4], [["c", "KPI 1", "2018-03", "92"]]), "f.csv")
    assert (
        problems[0].why
        == "KPI 1 2018-03 is an official figure: it changes only when a commissioner reopens its return, with a reason (R15)."
    )
    report = imports.import_file(
        "observations", csv_bytes(OBS_HEADINGS[:4], [["c", "KPI 1", "2018-03", "91.0"]]), "f.csv"
    )
    assert report.ok and report.unchanged == 1 and not report.batches


def test_a_figure_of_an_open_return_belongs_to_the_return(cast):
    from contracts import workflow

    contract, _ = cast
    workflow.open_return(contract, "2018-03")
    problems = problems_of(csv_bytes(OBS_HEADINGS[:4], [["c", "KPI 1", "2018-03", "92"]]), "f.csv")
    assert (
        "belongs to the 2018-03 return, which is draft: enter it there, or upload the return's spreadsheet"
        in problems[0].why
    )


def test_a_target_outside_its_own_tolerance_is_refused_with_the_engines_words(cast):
    from tests.factories import MeasureFactory

    contract, _ = cast
    MeasureFactory(measure_set=contract.measure_set, code="KPI 3")
    headings = ["contract", "code", "valid_from", "target", "tolerance_low", "tolerance_high"]
    rows = [
        ["c", "KPI 3", "2017-04-01", "70", "85", "100"],
        ["c", "KPI 4", "2017-04-01", "560", "", "500"],
    ]
    problems = problems_of(csv_bytes(headings, rows), "t.csv", kind="targets")
    assert [(p.row, p.column, p.value) for p in problems] == [
        (2, "target", "70"),
        (3, "target", "560"),
    ]
    assert (
        problems[0].why
        == "KPI 3: the tolerance floor 85 is above the target 70, but higher is better (R6)"
    )
    assert (
        problems[1].why
        == "KPI 4: the tolerance ceiling 500 is below the target 560, but lower is better (R6)"
    )


def test_a_target_that_official_figures_are_rated_against_changes_only_by_revision(cast):
    contract, _ = cast
    headings = ["contract", "code", "valid_from", "target", "tolerance_low", "tolerance_high"]
    problems = problems_of(
        csv_bytes(headings, [["c", "KPI 1", "2017-04-01", "90", "80", "100"]]),
        "t.csv",
        kind="targets",
    )
    assert problems[0].column == "target"
    assert problems[0].why.startswith(
        "KPI 1: official figures (2018-04) are rated against the target this would change"
    )
    assert Target.objects.get(
        measure__code="KPI 1", measure__measure_set=contract.measure_set
    ).target == Decimal("95")


def test_duplicate_rows_and_overlapping_targets_in_one_file_are_refused(cast):
    headings = ["contract", "code", "valid_from", "valid_to", "target"]
    problems = problems_of(
        csv_bytes(
            headings,
            [
                ["c", "KPI 4", "2017-04-01", "", "560"],
                ["c", "KPI 4", "2017-04-01", "", "500"],
                ["c", "KPI 4", "2016-04-01", "2017-06-30", "600"],
            ],
        ),
        "t.csv",
        kind="targets",
    )
    assert [(p.row, p.column) for p in problems] == [(3, "valid_from"), (4, "valid_from")]
    assert "is already in row 2 of this file" in problems[0].why
    assert "already has a target in force in this period" in problems[1].why


def test_a_malformed_number_in_a_workbook_has_a_clean_message(cast):
    data = xlsx_bytes(
        ["contract", "code", "valid_from", "target"], [["c", "KPI 4", "2019-04-01", "five hundred"]]
    )
    problems = problems_of(data, "t.xlsx", kind="targets")
    assert str(problems[0]) == (
        "Row 2, column target (‘five hundred’): ‘five hundred’ is not a number: write digits with an "
        "optional minus sign and decimal point, for example 92.5 (no commas, spaces or % signs)."
    )


def test_measure_rows_are_checked_by_the_models_own_rules(cast):
    headings = ["contract", "code", "title", "kind", "unit", "per", "frequency", "year_type"]
    rows = [
        ["c", "KPI 9", "A rate", "kpi", "rate", "", "monthly", "financial"],  # a rate needs per
        [
            "c",
            "KPI 10",
            "Termly",
            "kpi",
            "percent",
            "",
            "termly",
            "financial",
        ],  # terms are academic
        ["c", "KPI-1", "Same slug", "kpi", "percent", "", "monthly", "financial"],  # slug of KPI 1
        ["c", "KPI 11", "Odd", "big", "percent", "", "weekly", "financial"],  # unknown choices
    ]
    problems = problems_of(csv_bytes(headings, rows), "m.csv", kind="measures")
    found = {(p.row, p.column): p.why for p in problems}
    assert found[(2, "per")] == "A rate needs its population base, e.g. 10000."
    assert found[(3, "year_type")] == "Termly measures run over academic years."
    assert (4, "code") in found
    assert found[(5, "kind")] == "is not one of kpi, supporting, mi."
    assert found[(5, "frequency")] == "is not one of monthly, quarterly, termly, annual."


def test_a_final_retained_dataset_is_not_changed_by_an_import():
    from retained_services.models import Dataset
    from tests.factories import OrganisationFactory

    council = OrganisationFactory(slug="sunderland", name="Sunderland City Council")
    Dataset.objects.create(council=council, kind="admissions", year="2018", is_final=True)
    data = csv_bytes(
        ["council", "year", "phase", "first_choice_percent"],
        [["sunderland", "2018", "primary", "95"]],
    )
    problems = problems_of(data, "a.csv", kind="admissions")
    assert (
        problems[0].column == "year" and "is final: the officer must reopen it" in problems[0].why
    )


def test_the_export_of_a_workbook_with_formula_like_text_imports_back_as_text(cast):
    data = xlsx_bytes(
        OBS_HEADINGS,
        [["c", "KPI 1", "2018-03", 90, None, None, None, None, None, "'=not a formula"]],
    )
    report = imports.import_file("observations", data, "f.xlsx")
    assert report.ok
    assert Observation.objects.get(period="2018-03", measure__code="KPI 1").note == "=not a formula"


def test_the_sample_observations_workbook_has_no_formulas():
    workbook = openpyxl.load_workbook(io.BytesIO((SAMPLES / "observations.xlsx").read_bytes()))
    assert not any(c.data_type == "f" for row in workbook.active.iter_rows() for c in row)


def test_a_figure_due_in_a_signed_off_return_is_refused_even_without_an_entry(cast):
    from tests.factories import MeasureFactory

    contract, _ = cast
    MeasureFactory(measure_set=contract.measure_set, code="KPI 3")  # added after April's sign-off
    rows = [["c", "KPI 3", "2018-04", "90"], ["c", "KPI 3", "2018-03", "90"]]
    problems = problems_of(csv_bytes(OBS_HEADINGS[:4], rows), "f.csv")
    assert [(p.row, p.column) for p in problems] == [(2, "period")]
    assert "KPI 3 2018-04 is a figure of the 2018-04 return, which is signed off" in problems[0].why
