"""Import and export in the admin (django-import-export), for every import kind (issue 6).

Imported from ``contracts.admin`` once the apps' own admins are registered: it replaces
the admins of contracts, measures, targets, figures, comparators, series breaks, data
gaps and the retained-service figures with the same admins plus django-import-export's
import and export buttons, each with its resource from ``contracts.resources``.

The admin's import is django-import-export's (choose a file, see the preview, confirm),
but reading the file and checking the rows is ``contracts.imports``', the same as the
command's and the pages': every problem by row and column, nothing written unless the
whole file is right, figures forming an import batch for a commissioner to accept (R14).
Its exports are formula-safe (``contracts.exports``).
"""

from __future__ import annotations

from typing import Any

import tablib
from django import forms
from django.contrib import admin, messages
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.forms import ImportForm

import kpis.admin as kpis_admin
import retained_services.admin as retained_admin
from contracts import exports, imports, resources
from contracts.admin import ContractAdmin
from contracts.models import Contract
from kpis.models import Comparator, DataGap, Measure, Observation, SeriesBreak, Target
from retained_services.models import AdmissionsFigure, EHEFigure


class TableDataset(tablib.Dataset):
    """A tablib dataset that keeps the ``Table`` read by ``contracts.imports`` (with its
    row numbers and the cells refused as formulas) for the resource's ``import_data``."""

    def __init__(self, table: imports.Table) -> None:
        super().__init__(headers=list(table.headings))
        for row in table.rows:
            self.append([row.cells.get(h) for h in table.headings])
        self.table = table


class _Format:
    """Files read by ``contracts.imports`` (bytes, so the encoding check is ours) and
    written by ``contracts.exports`` (formula-safe)."""

    suffix = ""

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream: Any, **kwargs: Any) -> TableDataset:
        data = in_stream if isinstance(in_stream, bytes) else str(in_stream).encode("utf-8")
        return TableDataset(imports.read_file(data, f"the file{self.suffix}"))

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> bytes:
        sheet = exports.Sheet("export", list(dataset.headers or []), [list(r) for r in dataset])
        return exports.render(sheet, self.suffix.lstrip("."))


class CsvFormat(_Format, base_formats.CSV):
    suffix = ".csv"

    def get_title(self) -> str:
        return "csv (UTF-8)"


class XlsxFormat(_Format, base_formats.XLSX):
    suffix = ".xlsx"

    def get_title(self) -> str:
        return "xlsx"


class SizeLimitedImportForm(ImportForm):
    """Refuses a file larger than ``IMPORT_MAX_UPLOAD_BYTES`` before it is read."""

    def clean_import_file(self) -> Any:
        upload = self.cleaned_data["import_file"]
        if upload is not None and upload.size > imports.max_upload_bytes():
            raise forms.ValidationError(imports.too_large_message(upload.size))
        return upload


class ImportExportAdminMixin(ImportExportMixin):
    formats = [CsvFormat, XlsxFormat]
    import_form_class = SizeLimitedImportForm
    # Imports are audited by the records' own history (django-simple-history) and by the
    # import batch; one admin log entry per row of a 50,000-row file would say nothing more.
    skip_admin_log = True
    import_error_display = ("message",)

    def add_data_read_fail_error_to_form(self, form: forms.Form, e: Exception) -> None:
        if isinstance(e, imports.ImportFileError):
            form.add_error("import_file", e.message)
        else:
            super().add_data_read_fail_error_to_form(form, e)

    def add_success_message(self, result: Any, request: Any) -> None:
        report = getattr(result, "report", None)
        if report is None:
            super().add_success_message(result, request)
            return
        level = messages.SUCCESS if report.ok else messages.ERROR
        for line in report.lines():
            messages.add_message(request, level, line)


def _replace(model: type, base: type, resource: type[resources.ImportResource]) -> None:
    admin.site.unregister(model)
    admin_class = type(
        f"{base.__name__}WithImport",
        (ImportExportAdminMixin, base),
        {"resource_classes": [resource], "__module__": __name__},
    )
    admin.site.register(model, admin_class)


_replace(Contract, ContractAdmin, resources.ContractResource)
_replace(Measure, kpis_admin.MeasureAdmin, resources.MeasureResource)
_replace(Target, kpis_admin.TargetAdmin, resources.TargetResource)
_replace(Observation, kpis_admin.ObservationAdmin, resources.ObservationResource)
_replace(Comparator, kpis_admin.ComparatorAdmin, resources.ComparatorResource)
_replace(SeriesBreak, kpis_admin.SeriesBreakAdmin, resources.SeriesBreakResource)
_replace(DataGap, kpis_admin.DataGapAdmin, resources.DataGapResource)
_replace(AdmissionsFigure, retained_admin.AdmissionsFigureAdmin, resources.AdmissionsResource)
_replace(EHEFigure, retained_admin.EHEFigureAdmin, resources.EHEResource)
