"""Changes to the council's retained-service datasets, each atomic and kept in history.

A dataset is official once its officer marks it final (R14); after that it changes
only if the officer reopens it with a reason, which the history keeps.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from contracts import access
from retained_services.models import AdmissionsFigure, Dataset, EHEFigure

ADMISSIONS_FIELDS = (
    "first_choice_number",
    "first_choice_percent",
    "any_of_three_percent",
    "target_percent",
    "region_percent",
    "england_percent",
)
EHE_FIELDS = ("new_ehe", "new_year11_ehe", "total_in_period", "note")
ROWS = {
    Dataset.Kind.ADMISSIONS: (AdmissionsFigure, "phase", [p for p, _ in AdmissionsFigure.Phase.choices], ADMISSIONS_FIELDS),
    Dataset.Kind.EHE: (EHEFigure, "term", [t for t, _ in EHEFigure.Term.choices], EHE_FIELDS),
}


def datasets_for(user: Any) -> QuerySet[Dataset]:
    """The datasets a user may see: their own council's; final ones only for readers (R14)."""
    council = access.retained_council_for(user)
    if council is None:
        return Dataset.objects.none()
    datasets = Dataset.objects.filter(council_id=council).select_related("council", "finalised_by")
    membership = access.membership_of(user)
    if membership is not None and membership.role == "reader":
        datasets = datasets.filter(is_final=True)
    return datasets


def dataset_for(user: Any, pk: int) -> Dataset:
    try:
        return datasets_for(user).get(pk=pk)
    except Dataset.DoesNotExist:
        raise Http404("No such dataset.") from None


def _editable(user: Any, dataset_id: int) -> Dataset:
    if not access.may_edit_retained(user):
        raise PermissionDenied("Only the council's officers change retained-service datasets.")
    dataset = datasets_for(user).select_for_update(of=("self",)).filter(pk=dataset_id).first()
    if dataset is None:
        raise Http404("No such dataset.")
    return dataset


def create_dataset(user: Any, kind: str, year: str) -> Dataset:
    if not access.may_edit_retained(user):
        raise PermissionDenied("Only the council's officers change retained-service datasets.")
    council = access.retained_council_for(user)
    dataset = Dataset(council_id=council, kind=kind, year=year.strip())
    dataset.full_clean()
    dataset.save()
    return dataset


def save_rows(user: Any, dataset_id: int, rows: dict[str, dict[str, Any]]) -> Dataset:
    """Save the table's rows (keyed by phase or term); refused once the dataset is final."""
    with transaction.atomic():
        dataset = _editable(user, dataset_id)
        if dataset.is_final:
            raise ValidationError("This dataset is final: reopen it, with a reason, to change it.")
        model, key, keys, fields = ROWS[Dataset.Kind(dataset.kind)]
        existing = {getattr(r, key): r for r in model.objects.filter(dataset=dataset)}
        for name in keys:
            values = rows.get(name, {})
            row = existing.get(name)
            empty = all(values.get(f) in (None, "") for f in fields)
            if row is None and empty:
                continue
            if row is None:
                row = model(dataset=dataset, **{key: name})
            changed = [f for f in fields if getattr(row, f) != (values.get(f) if f != "note" else values.get(f) or "")]
            if not changed and row.pk:
                continue
            for f in fields:
                setattr(row, f, values.get(f) if f != "note" else values.get(f) or "")
            row.full_clean()
            row.save()
    return dataset


def mark_final(user: Any, dataset_id: int) -> Dataset:
    """The officer's word that the dataset is complete: its figures are official (R14)."""
    with transaction.atomic():
        dataset = _editable(user, dataset_id)
        if dataset.is_final:
            return dataset
        dataset.is_final, dataset.finalised_by, dataset.finalised_at = True, user, timezone.now()
        dataset._change_reason = "Marked final"
        dataset.save(update_fields=["is_final", "finalised_by", "finalised_at"])
    return dataset


def reopen(user: Any, dataset_id: int, reason: str) -> Dataset:
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for reopening the dataset."})
    with transaction.atomic():
        dataset = _editable(user, dataset_id)
        dataset.is_final, dataset.finalised_by, dataset.finalised_at = False, None, None
        dataset._change_reason = f"Reopened: {reason.strip()}"
        dataset.save(update_fields=["is_final", "finalised_by", "finalised_at"])
    return dataset
