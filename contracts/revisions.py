"""Revising a contract's targets and tolerances (R16; the reference's section 5).

An admin drafts a revision, starting from the targets in force on the month it
takes effect, and changes lines, each with its rationale; a commissioner
approves the set. Approval ends the targets in force the day before the revision
takes effect and starts the new ones, through ``Target.full_clean`` so that the
same rule holds whichever way a target changes: official verdicts given before
the revision's month never change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from contracts import access
from contracts.access import Do
from contracts.models import Contract, TargetRevision, TargetRevisionLine
from kpis import periods
from kpis.models import Observation, Target, TargetValues

# A drafted target this many times the measure's largest figure (or smaller than its
# smallest by the same factor) is probably a typing slip: the admin must confirm it.
OUT_OF_SCALE_FACTOR = Decimal(10)


def draft_revision(
    contract: Contract, actor: Any, *, title: str, effective_from: str, rationale: str
) -> TargetRevision:
    """A new draft revision with a line per measure, copied from the targets in force."""
    access.require(actor, Do.DRAFT_TARGETS, contract)
    month = _month(effective_from)
    if not rationale.strip():
        raise ValidationError({"rationale": "Say why the targets are being revised."})
    with transaction.atomic():
        revision = TargetRevision.objects.create(
            contract=contract,
            title=title.strip() or f"Targets from {month.label}",
            effective_from=month.label,
            effective_date=month.start,
            rationale=rationale.strip(),
            drafted_by=actor,
        )
        in_force = {
            t.measure_id: t
            for t in Target.objects.in_force_on(month.start).filter(
                measure__measure_set=contract.measure_set_id
            )
        }
        for measure in contract.measure_set.measures.all():
            current = in_force.get(measure.pk)
            TargetRevisionLine.objects.create(
                revision=revision,
                measure=measure,
                rationale="",
                **{
                    f: getattr(current, f) if current else _blank(f)
                    for f in TargetValues.VALUE_FIELDS
                },
            )
    return revision


def _blank(field: str) -> Any:
    return "" if field == "tolerance_unit" else None


def _month(label: str) -> periods.Period:
    try:
        month = periods.parse_period(label)
    except periods.PeriodError as exc:
        raise ValidationError({"effective_from": str(exc)}) from exc
    if month.kind != "month":
        raise ValidationError(
            {"effective_from": f"A revision takes effect from a month (YYYY-MM), not '{label}'."}
        )
    return month


def revision_warnings(lines: Sequence[TargetRevisionLine]) -> dict[int, list[str]]:
    """Targets wildly out of scale with their measure's history, for the admin to confirm,
    by line id; one query whatever the number of lines."""
    highs = dict(
        Observation.objects.filter(measure_id__in=[line.measure_id for line in lines], value__isnull=False)
        .order_by()
        .values("measure_id")
        .annotate(high=Max("value"))
        .values_list("measure_id", "high")
    )
    found: dict[int, list[str]] = {}
    for line in lines:
        high = highs.get(line.measure_id)
        if high is None or high <= 0:
            continue
        for name in ("target", "target_low", "target_high"):
            value = getattr(line, name)
            if value is not None and value > high * OUT_OF_SCALE_FACTOR:
                found.setdefault(line.pk, []).append(
                    f"{line.measure.code}: the {name.replace('_', ' ')} {value.normalize():f} is more "
                    f"than {OUT_OF_SCALE_FACTOR} times the largest figure so far ({high.normalize():f}). "
                    "Confirm it if it is meant."
                )
    return found


def save_line(
    line_id: int, actor: Any, *, values: dict[str, Any], rationale: str, confirmed: bool = False
) -> TargetRevisionLine:
    """Change one drafted line; refused with the engine's words if it contradicts itself (R6)."""
    with transaction.atomic():
        line = (
            TargetRevisionLine.objects.select_for_update()
            .select_related("revision__contract", "measure")
            .get(pk=line_id)
        )
        access.require(actor, Do.DRAFT_TARGETS, line.revision.contract)
        if line.revision.state != TargetRevision.State.DRAFT:
            raise ValidationError("An approved revision cannot change; draft a new one.")
        for name in TargetValues.VALUE_FIELDS:
            if name in values:
                setattr(
                    line,
                    name,
                    values[name] if values[name] is not None or name != "tolerance_unit" else "",
                )
        line.rationale = rationale.strip()
        line.confirmed_out_of_scale = confirmed
        if not line.rationale:
            raise ValidationError({"rationale": f"{line.measure.code}: give the rationale for the change."})
        problems = line.value_problems(line.measure)
        if problems:
            raise ValidationError(problems)
        line.save()
    return line


def changed_lines(revision: TargetRevision) -> list[tuple[TargetRevisionLine, Target | None]]:
    """Lines whose values differ from the target in force when the revision takes effect."""
    in_force = {
        t.measure_id: t
        for t in Target.objects.in_force_on(revision.effective_date).filter(
            measure__measure_set=revision.contract.measure_set_id
        )
    }
    changed = []
    for line in revision.lines.select_related("measure"):
        current = in_force.get(line.measure_id)
        same = current is not None and all(
            getattr(current, f) == getattr(line, f) for f in TargetValues.VALUE_FIELDS
        )
        empty = current is None and all(
            getattr(line, f) in (None, "") for f in TargetValues.VALUE_FIELDS
        )
        if not (same or empty):
            changed.append((line, current))
    return changed


def approve_revision(revision_id: int, actor: Any) -> TargetRevision:
    """Put a drafted revision into force from its month (R16), all lines or none."""
    with transaction.atomic():
        revision = (
            TargetRevision.objects.select_for_update()
            .select_related("contract")
            .get(pk=revision_id)
        )
        access.require(actor, Do.APPROVE_TARGETS, revision.contract)
        if revision.state != TargetRevision.State.DRAFT:
            raise ValidationError("This revision is already approved.")
        changes = changed_lines(revision)
        warnings = revision_warnings([line for line, _ in changes])
        errors: list[str] = []
        for line, _ in changes:
            if not line.rationale.strip():
                errors.append(f"{line.measure.code}: give the rationale for the change.")
            if not line.confirmed_out_of_scale:
                errors.extend(warnings.get(line.pk, []))
            errors.extend(line.value_problems(line.measure))
        if errors:
            raise ValidationError(errors)
        start = revision.effective_date
        for line, current in changes:
            values = {f: getattr(line, f) for f in TargetValues.VALUE_FIELDS}
            note = f"{revision.title}: {line.rationale}"
            try:
                if current is not None and current.valid_from == start:
                    for name, value in values.items():
                        setattr(current, name, value)
                    current.note = note
                    current.full_clean()
                    current.save()
                    continue
                valid_to = current.valid_to if current is not None else None
                if current is not None:
                    current.valid_to = start - timedelta(days=1)
                    current.full_clean()
                    current.save(update_fields=["valid_to"])
                new = Target(
                    measure=line.measure, valid_from=start, valid_to=valid_to, note=note, **values
                )
                new.full_clean()
                new.save()
            except ValidationError as exc:
                raise ValidationError([f"{line.measure.code}: {m}" for m in exc.messages]) from exc
        revision.state = TargetRevision.State.APPROVED
        revision.approved_by = actor
        revision.approved_at = timezone.now()
        revision.save(update_fields=["state", "approved_by", "approved_at"])
    return revision
