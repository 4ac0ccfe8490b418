"""Pages for the council's own datasets: officers enter them on forms shaped like the
reference's tables and mark them final; other council staff read them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from contracts import access
from retained_services import datasets
from retained_services.forms import ROW_FORMS, NewDatasetForm, ReopenForm
from retained_services.models import Dataset


def _require_council_staff(request: HttpRequest) -> None:
    if access.retained_council_for(request.user) is None:
        raise PermissionDenied("Retained services are for the council's own staff.")


@login_required
def dataset_list(request: HttpRequest) -> HttpResponse:
    _require_council_staff(request)
    form = NewDatasetForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                dataset = datasets.create_dataset(request.user, form.cleaned_data["kind"], form.cleaned_data["year"])
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                return redirect("retained:dataset", pk=dataset.pk)
    groups = []
    for kind, label in Dataset.Kind.choices:
        groups.append((label, [d for d in datasets.datasets_for(request.user) if d.kind == kind]))
    return render(
        request,
        "retained_services/list.html",
        {"groups": groups, "form": form, "may_edit": access.may_edit_retained(request.user)},
        status=400 if form.errors else 200,
    )


def _row_forms(dataset: Dataset, data: Any = None) -> list[tuple[str, str, Any]]:
    model, key, keys, fields = datasets.ROWS[Dataset.Kind(dataset.kind)]
    existing = {getattr(r, key): r for r in model.objects.filter(dataset=dataset)}
    labels = dict(model._meta.get_field(key).choices)
    rows = []
    for name in keys:
        row = existing.get(name)
        initial = {f: getattr(row, f) for f in fields} if row else {}
        form = ROW_FORMS[Dataset.Kind(dataset.kind)](data, prefix=name, initial=initial)
        rows.append((name, labels[name], form))
    return rows


@login_required
def dataset_detail(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = datasets.dataset_for(request.user, pk)
    may_edit = access.may_edit_retained(request.user) and not dataset.is_final
    rows = _row_forms(dataset, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("This dataset cannot be changed now.")
        if all(form.is_valid() for _, _, form in rows):
            try:
                datasets.save_rows(request.user, dataset.pk, {name: form.cleaned_data for name, _, form in rows})
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                status = 400
            else:
                messages.success(request, "Saved.")
                return redirect("retained:dataset", pk=dataset.pk)
        else:
            status = 400
    errors = [
        (f"{name}-{field}", f"{label}: {form.fields[field].label if field in form.fields else ''}: {error}")
        for name, label, form in rows
        for field, field_errors in form.errors.items()
        for error in field_errors
    ]
    history = dataset.history.select_related("history_user").order_by("-history_date")[:50]
    return render(
        request,
        f"retained_services/{dataset.kind}.html",
        {
            "dataset": dataset,
            "rows": rows,
            "may_edit": may_edit,
            "may_reopen": access.may_edit_retained(request.user) and dataset.is_final,
            "errors": errors,
            "history": history,
            "reopen_form": ReopenForm(),
        },
        status=status,
    )


@login_required
@require_POST
def dataset_final(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = datasets.dataset_for(request.user, pk)
    datasets.mark_final(request.user, dataset.pk)
    messages.success(request, f"{dataset} is marked final: its figures are official.")
    return redirect("retained:dataset", pk=dataset.pk)


@login_required
@require_POST
def dataset_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    dataset = datasets.dataset_for(request.user, pk)
    form = ReopenForm(request.POST)
    if form.is_valid():
        datasets.reopen(request.user, dataset.pk, form.cleaned_data["reason"])
        messages.success(request, f"{dataset} is reopened.")
    else:
        messages.error(request, "Give the reason for reopening the dataset.")
    return redirect("retained:dataset", pk=dataset.pk)
