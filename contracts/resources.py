"""django-import-export resources, one per import kind of interfaces.md (issue 6).

Each resource's columns are its kind's headings, in order (``contracts.imports.SPECS``),
so a file exported from one contract imports into another unchanged. Exporting goes
through django-import-export as usual (``resource.export``), each column from one
small function. Importing goes through ``contracts.imports.run_import``, the one import
path the command and the pages use too: ``import_data`` hands the rows to it and turns
its report into django-import-export's ``Result``, so the admin's preview shows every
problem by row and column, and its confirmation writes all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from django.utils.html import escape
from import_export import resources
from import_export.fields import Field
from import_export.results import Error, Result, RowResult

from contracts import imports
from contracts.models import Contract, Organisation
from contracts.returns_forms import plain_number
from kpis.models import Comparator, DataGap, Measure, Observation, SeriesBreak, Target
from retained_services.models import AdmissionsFigure, EHEFigure


def number(value: Decimal | None) -> Decimal | None:
    """A stored decimal without its padding zeros (92.100000 -> 92.1), for writing."""
    return None if value is None else Decimal(plain_number(value))


def col(name: str, getter: Callable[[Any], Any]) -> Field:
    """A column written by ``getter(record)``."""
    return Field(column_name=name, dehydrate_method=getter, readonly=True)


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _contract_slug(measure: Measure) -> str:
    return measure.measure_set.contract.slug


class ImportResource(resources.ModelResource):
    """A kind's columns for export, and the door to ``contracts.imports`` for import."""

    kind: ClassVar[str] = ""
    select: ClassVar[tuple[str, ...]] = ()

    def __init__(self, contract: Contract | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.contract = contract

    @classmethod
    def headings(cls) -> list[str]:
        return list(imports.SPECS[cls.kind].headings)

    @classmethod
    def get_display_name(cls) -> str:
        return f"{imports.SPECS[cls.kind].label.capitalize()} ({cls.kind})"

    def contract_queryset(self, contract: Contract, *, include_drafts: bool = True) -> QuerySet:
        return self._meta.model.objects.filter(measure__measure_set=contract.measure_set)

    def export(self, queryset: QuerySet | None = None, **kwargs: Any) -> Any:
        if queryset is None:
            queryset = self.get_queryset()
        if self.select:
            queryset = queryset.select_related(*self.select)
        return super().export(queryset=queryset, **kwargs)

    def import_data(
        self,
        dataset: Any,
        dry_run: bool = False,
        raise_errors: bool = False,
        use_transactions: bool | None = None,
        collect_failed_rows: bool = False,
        rollback_on_validation_errors: bool = False,
        **kwargs: Any,
    ) -> Result:
        """All or nothing, whatever the flags: ``contracts.imports`` writes a file whole or
        not at all, and reports every problem."""
        table = getattr(dataset, "table", None)
        result = Result()
        try:
            if table is None:
                table = imports.read_rows(list(dataset.headers or []), dataset)
        except imports.ImportFileError as exc:
            result.append_base_error(Error(exc))
            return result
        report = imports.run_import(
            self.kind,
            table,
            contract=self.contract,
            dry_run=dry_run,
            user=kwargs.get("user"),
            file_name=kwargs.get("file_name") or "",
        )
        result = result_from_report(report, table)
        if raise_errors and not report.ok:
            raise imports.ImportFileError(report.summary())
        return result


def result_from_report(report: imports.ImportReport, table: imports.Table) -> Result:
    """The report as django-import-export's ``Result``: a row with problems is invalid,
    with each problem under its column; problems of the file as a whole (its headings)
    are base errors; every other row is new, changed or unchanged (skip)."""
    result = Result()
    result.report = report  # type: ignore[attr-defined]
    headings = [h for h in imports.SPECS[report.kind].headings if h in table.headings]
    result.diff_headers = headings
    result.add_dataset_headers(headings)
    result.total_rows = len(table.rows)
    by_row: dict[int, list[imports.Problem]] = {}
    for problem in report.problems:
        if problem.row is None or problem.row == 1:
            result.append_base_error(Error(imports.ImportFileError(str(problem))))
        else:
            by_row.setdefault(problem.row, []).append(problem)
    for row in table.rows:
        values = {h: imports.shown(row.cells.get(h)) for h in headings}
        problems = by_row.pop(row.number, None)
        if problems:
            errors: dict[str, list[str]] = {}
            for problem in problems:
                column = problem.column or NON_FIELD_ERRORS
                found = f" (found ‘{problem.value}’)" if problem.column and problem.value else ""
                errors.setdefault(column, []).append(f"{problem.why}{found}")
            result.append_invalid_row(row.number, values, ValidationError(errors))
            continue
        row_result = RowResult()
        row_result.import_type = report.outcomes.get(row.number, RowResult.IMPORT_TYPE_SKIP)
        row_result.diff = [escape(values[h]) for h in headings]
        row_result.row_values = values
        result.append_row_result(row_result)
        result.increment_row_result_total(row_result)
    for number, problems in by_row.items():  # problems of rows left out as blank
        result.append_invalid_row(
            number, {}, ValidationError({p.column or NON_FIELD_ERRORS: [p.why] for p in problems})
        )
    return result


# --- the resources -------------------------------------------------------------------


class ContractResource(ImportResource):
    kind = "contracts"
    select = ("commissioner", "provider")

    slug = col("slug", lambda c: c.slug)
    name = col("name", lambda c: c.name)
    commissioner = col("commissioner", lambda c: c.commissioner.slug)
    provider = col("provider", lambda c: c.provider.slug)
    start = col("start", lambda c: c.start)
    end = col("end", lambda c: c.end)
    commissioner_name = col("commissioner_name", lambda c: c.commissioner.name)
    provider_name = col("provider_name", lambda c: c.provider.name)

    class Meta:
        model = Contract
        fields = imports.SPECS["contracts"].headings
        export_order = fields

    def contract_queryset(self, contract: Contract, *, include_drafts: bool = True) -> QuerySet:
        return Contract.objects.filter(pk=contract.pk)


class MeasureResource(ImportResource):
    kind = "measures"
    select = ("measure_set__contract",)

    contract = col("contract", _contract_slug)
    code = col("code", lambda m: m.code)
    title = col("title", lambda m: m.title)
    kind_ = col("kind", lambda m: m.kind)
    unit = col("unit", lambda m: m.unit)
    per = col("per", lambda m: m.per)
    polarity = col("polarity", lambda m: m.polarity)
    frequency = col("frequency", lambda m: m.frequency)
    year_type = col("year_type", lambda m: m.year_type)
    cumulative = col("cumulative", lambda m: yes_no(m.cumulative))
    decimals = col("decimals", lambda m: m.decimals)
    lag_months = col("lag_months", lambda m: m.lag_months)
    display_order = col("display_order", lambda m: m.display_order)
    definition = col("definition", lambda m: m.definition)
    data_source = col("data_source", lambda m: m.data_source)
    comparability_note = col("comparability_note", lambda m: m.comparability_note)

    class Meta:
        model = Measure
        # ``kind`` names the resource's import kind, so the column's attribute is ``kind_``.
        fields = tuple("kind_" if h == "kind" else h for h in imports.SPECS["measures"].headings)
        export_order = fields

    def contract_queryset(self, contract: Contract, *, include_drafts: bool = True) -> QuerySet:
        return Measure.objects.filter(measure_set=contract.measure_set).order_by(
            "display_order", "code"
        )


class TargetResource(ImportResource):
    kind = "targets"
    select = ("measure__measure_set__contract",)

    contract = col("contract", lambda t: _contract_slug(t.measure))
    code = col("code", lambda t: t.measure.code)
    valid_from = col("valid_from", lambda t: t.valid_from)
    valid_to = col("valid_to", lambda t: t.valid_to)
    target = col("target", lambda t: number(t.target))
    target_low = col("target_low", lambda t: number(t.target_low))
    target_high = col("target_high", lambda t: number(t.target_high))
    tolerance_low = col("tolerance_low", lambda t: number(t.tolerance_low))
    tolerance_high = col("tolerance_high", lambda t: number(t.tolerance_high))
    tolerance_relative = col("tolerance_relative", lambda t: number(t.tolerance_relative))
    tolerance_unit = col("tolerance_unit", lambda t: t.tolerance_unit)
    note = col("note", lambda t: t.note)

    class Meta:
        model = Target
        fields = imports.SPECS["targets"].headings
        export_order = fields

    def contract_queryset(self, contract: Contract, *, include_drafts: bool = True) -> QuerySet:
        return Target.objects.filter(measure__measure_set=contract.measure_set).order_by(
            "measure__display_order", "measure__code", "valid_from"
        )


class ObservationResource(ImportResource):
    kind = "observations"
    select = ("measure__measure_set__contract",)

    contract = col("contract", lambda o: _contract_slug(o.measure))
    code = col("code", lambda o: o.measure.code)
    period = col("period", lambda o: o.period)
    value = col("value", lambda o: number(o.value))
    numerator = col("numerator", lambda o: number(o.numerator))
    denominator = col("denominator", lambda o: number(o.denominator))
    as_at = col("as_at", lambda o: o.as_at)
    flags = col("flags", lambda o: " ".join(o.flags or []))
    second_value = col("second_value", lambda o: number(o.second_value))
    note = col("note", lambda o: o.note)
    source = col("source", lambda o: o.source)
    second_source = col("second_source", lambda o: o.second_source)

    class Meta:
        model = Observation
        fields = imports.SPECS["observations"].headings
        export_order = fields

    def contract_queryset(self, contract: Contract, *, include_drafts: bool = True) -> QuerySet:
        return (
            Observation.objects.visible(include_drafts)
            .filter(measure__measure_set=contract.measure_set)
            .order_by("measure__display_order", "measure__code", "period_end")
        )


class ComparatorResource(ImportResource):
    kind = "comparators"
    select = ("measure__measure_set__contract",)

    contract = col("contract", lambda c: _contract_slug(c.measure))
    code = col("code", lambda c: c.measure.code)
    group = col("group", lambda c: c.group)
    period = col("period", lambda c: c.period)
    value = col("value", lambda c: number(c.value))
    source = col("source", lambda c: c.source)
    comparable = col("comparable", lambda c: yes_no(c.comparable))
    note = col("note", lambda c: c.note)

    class Meta:
        model = Comparator
        fields = imports.SPECS["comparators"].headings
        export_order = fields

    def contract_queryset(self, contract: Contract, *, include_drafts: bool = True) -> QuerySet:
        return Comparator.objects.filter(measure__measure_set=contract.measure_set).order_by(
            "measure__display_order", "measure__code", "group", "period_end"
        )


class SeriesBreakResource(ImportResource):
    kind = "series_breaks"
    select = ("measure__measure_set__contract",)

    contract = col("contract", lambda b: _contract_slug(b.measure))
    code = col("code", lambda b: b.measure.code)
    from_period = col("from_period", lambda b: b.from_period)
    reason = col("reason", lambda b: b.reason)

    class Meta:
        model = SeriesBreak
        fields = imports.SPECS["series_breaks"].headings
        export_order = fields


class DataGapResource(ImportResource):
    kind = "data_gaps"
    select = ("measure__measure_set__contract",)

    contract = col("contract", lambda g: _contract_slug(g.measure))
    code = col("code", lambda g: g.measure.code)
    start = col("start", lambda g: g.start)
    end = col("end", lambda g: g.end)
    reason = col("reason", lambda g: g.reason)

    class Meta:
        model = DataGap
        fields = imports.SPECS["data_gaps"].headings
        export_order = fields


class AdmissionsResource(ImportResource):
    kind = "admissions"
    select = ("dataset__council",)

    council = col("council", lambda a: a.dataset.council.slug)
    year = col("year", lambda a: a.dataset.year)
    phase = col("phase", lambda a: a.phase)
    first_choice_number = col("first_choice_number", lambda a: a.first_choice_number)
    first_choice_percent = col("first_choice_percent", lambda a: number(a.first_choice_percent))
    any_of_three_percent = col("any_of_three_percent", lambda a: number(a.any_of_three_percent))
    target_percent = col("target_percent", lambda a: number(a.target_percent))
    region_percent = col("region_percent", lambda a: number(a.region_percent))
    england_percent = col("england_percent", lambda a: number(a.england_percent))

    class Meta:
        model = AdmissionsFigure
        fields = imports.SPECS["admissions"].headings
        export_order = fields

    def council_queryset(self, council: Organisation) -> QuerySet:
        return AdmissionsFigure.objects.filter(dataset__council=council).order_by(
            "dataset__year", "phase"
        )


class EHEResource(ImportResource):
    kind = "ehe"
    select = ("dataset__council",)

    council = col("council", lambda e: e.dataset.council.slug)
    year = col("year", lambda e: e.dataset.year)
    term = col("term", lambda e: e.term)
    new_ehe = col("new_ehe", lambda e: e.new_ehe)
    new_year11_ehe = col("new_year11_ehe", lambda e: e.new_year11_ehe)
    total_in_period = col("total_in_period", lambda e: e.total_in_period)
    note = col("note", lambda e: e.note)

    class Meta:
        model = EHEFigure
        fields = imports.SPECS["ehe"].headings
        export_order = fields

    def council_queryset(self, council: Organisation) -> QuerySet:
        return EHEFigure.objects.filter(dataset__council=council).order_by("dataset__year", "term")


RESOURCES: dict[str, type[ImportResource]] = {
    cls.kind: cls
    for cls in (
        ContractResource,
        MeasureResource,
        TargetResource,
        ObservationResource,
        ComparatorResource,
        SeriesBreakResource,
        DataGapResource,
        AdmissionsResource,
        EHEResource,
    )
}
