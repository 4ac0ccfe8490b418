"""Pages for revising a contract's targets (R16; the reference's section 5).

An admin drafts a revision and edits its lines; a commissioner approves it. Views stay
thin: who may see and do what is ``contracts.access``'s to decide, every change goes
through ``contracts.revisions`` (which refuses a self-contradicting line in the
engine's words, R6), and targets are put into words by ``kpis.rating.target_words``.
Each page costs a fixed number of queries, however many measures the contract has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.forms import BoundField, Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from contracts import access, revisions
from contracts.access import Do
from contracts.models import Contract, TargetRevision, TargetRevisionLine
from contracts.revision_forms import NUMBER_FIELDS, DraftRevisionForm, RevisionLineForm
from kpis import periods, rating
from kpis.models import Measure, Target, TargetValues

# --- who may see what ---------------------------------------------------------------------


def _contract_for(request: HttpRequest, slug: str) -> Contract:
    contract = access.contract_for(request.user, slug)
    if not access.may(request.user, Do.VIEW, contract):
        raise Http404("No such contract.")
    return contract


def _revision_for(request: HttpRequest, pk: int) -> TargetRevision:
    return access.revision_for(request.user, pk)


def _words(measure: Measure, values: TargetValues | None) -> str:
    return rating.target_words(measure.as_definition(), values.as_spec() if values else None)


def _errors_of(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


# --- a contract's targets -------------------------------------------------------------------


@dataclass(frozen=True)
class TargetLine:
    target: Target
    words: str
    mid_year: bool


@dataclass(frozen=True)
class MeasureTargets:
    measure: Measure
    targets: list[TargetLine]


def _measure_targets(contract: Contract) -> list[MeasureTargets]:
    measures = contract.measure_set.measures.prefetch_related(
        Prefetch("targets", queryset=Target.objects.order_by("valid_from"))
    )
    result = []
    for measure in measures:
        lines = []
        for target in measure.targets.all():
            start = target.valid_from
            year = periods.year_of(periods.month(start.year, start.month), measure.year_type)
            lines.append(TargetLine(target, _words(measure, target), start != year.start))
        result.append(MeasureTargets(measure, lines))
    return result


@login_required
@require_http_methods(["GET", "POST"])
def contract_targets(request: HttpRequest, slug: str) -> HttpResponse:
    """The contract's targets over the years and its revisions; admins draft one here."""
    contract = _contract_for(request, slug)
    may_draft = access.may(request.user, Do.DRAFT_TARGETS, contract)
    form = DraftRevisionForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        access.require(request.user, Do.DRAFT_TARGETS, contract)
        if form.is_valid():
            try:
                revision = revisions.draft_revision(contract, request.user, **form.cleaned_data)
            except ValidationError as exc:
                for name, errors in _errors_of(exc).items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                messages.success(
                    request,
                    f"Revision drafted from the targets in force in {revision.effective_date:%B %Y}: "
                    "change the lines that need it, each with its rationale.",
                )
                return redirect("targets:revision", pk=revision.pk)
        status = 400
    revision_list = contract.target_revisions.select_related("drafted_by", "approved_by")
    return render(
        request,
        "contracts/targets/contract.html",
        {
            "contract": contract,
            "measures": _measure_targets(contract),
            "revisions": revision_list,
            "may_draft": may_draft,
            "form": form,
            "errors": _summary(form) if form.is_bound else [],
        },
        status=status,
    )


def _summary(form: Form) -> list[tuple[str, str]]:
    """(anchor, text) for an error summary: one link per error, to its field."""
    first = next(iter(form.fields))
    return [
        (form[name if name in form.fields else first].id_for_label, error)
        for name, errors in form.errors.items()
        for error in errors
    ]


# --- a revision ---------------------------------------------------------------------------


@dataclass
class Row:
    """One measure of a revision as the page shows it."""

    line: TargetRevisionLine
    before_words: str
    drafted_words: str
    changed: bool
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    form: RevisionLineForm | None = None

    @property
    def number_fields(self) -> list[BoundField]:
        assert self.form is not None
        return [self.form[name] for name in NUMBER_FIELDS]

    @property
    def field_errors(self) -> list[tuple[str, str, str]]:
        """(input id, label, error) for what could not be read as typed."""
        if self.form is None or not self.form.is_bound:
            return []
        return [
            (self.form[name].id_for_label, self.form.fields[name].label or name, error)
            for name, errors in self.form.errors.items()
            if name in self.form.fields
            for error in errors
        ]

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or (self.form is not None and self.form.is_bound and self.form.errors))

    @property
    def anchor(self) -> str:
        return self.form["target"].id_for_label if self.form is not None else f"line-{self.line.pk}"


def _same(a: TargetValues | None, b: TargetValues) -> bool:
    if a is None:
        return all(getattr(b, f) in (None, "") for f in TargetValues.VALUE_FIELDS)
    return all(getattr(a, f) == getattr(b, f) for f in TargetValues.VALUE_FIELDS)


def _before(revision: TargetRevision, lines: list[TargetRevisionLine]) -> dict[int, TargetValues | None]:
    """Per line, what it changes: the target in force when it takes effect (a draft),
    or the one it replaced (approved: in force the day before)."""
    if revision.state == TargetRevision.State.DRAFT:
        changed = {line.pk: current for line, current in revisions.changed_lines(revision)}
        return {line.pk: changed[line.pk] if line.pk in changed else line for line in lines}
    replaced = {
        t.measure_id: t
        for t in Target.objects.in_force_on(revision.effective_date - timedelta(days=1)).filter(
            measure__measure_set=revision.contract.measure_set_id
        )
    }
    return {line.pk: replaced.get(line.measure_id) for line in lines}


def _rows(
    revision: TargetRevision,
    *,
    editable: bool,
    data: Any = None,
) -> list[Row]:
    lines = list(revision.lines.select_related("measure"))
    before = _before(revision, lines)
    warnings = revisions.revision_warnings(lines) if revision.state == TargetRevision.State.DRAFT else {}
    rows = []
    for line in lines:
        previous = before[line.pk]
        rows.append(
            Row(
                line=line,
                before_words=_words(line.measure, previous),
                drafted_words=_words(line.measure, line),
                changed=not _same(previous, line),
                warnings=warnings.get(line.pk, []),
                form=RevisionLineForm.for_line(line, data) if editable else None,
            )
        )
    return rows


def _render_revision(
    request: HttpRequest,
    revision: TargetRevision,
    *,
    rows: list[Row] | None = None,
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    contract = revision.contract
    is_draft = revision.state == TargetRevision.State.DRAFT
    may_edit = is_draft and access.may(request.user, Do.DRAFT_TARGETS, contract)
    if rows is None:
        rows = _rows(revision, editable=may_edit)
    return render(
        request,
        "contracts/targets/revision.html",
        {
            "revision": revision,
            "contract": contract,
            "rows": rows,
            "changed_count": sum(row.changed for row in rows),
            "to_confirm": [w for row in rows for w in row.warnings if not row.line.confirmed_out_of_scale],
            "is_draft": is_draft,
            "may_edit": may_edit,
            "may_approve": is_draft and access.may(request.user, Do.APPROVE_TARGETS, contract),
            "errors": errors or [],
        },
        status=status,
    )


def _untouched(line: TargetRevisionLine, form: RevisionLineForm, confirmed: bool) -> bool:
    values = form.values()
    return (
        all(getattr(line, f) == (values[f] if values[f] is not None else _blank(f)) for f in values)
        and line.rationale == form.cleaned_data["rationale"].strip()
        and line.confirmed_out_of_scale == confirmed
    )


def _blank(name: str) -> Any:
    return "" if name == "tolerance_unit" else None


@login_required
@require_http_methods(["GET", "POST"])
def revision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A revision line by line; admins edit a draft's lines here."""
    revision = _revision_for(request, pk)
    if request.method != "POST":
        return _render_revision(request, revision)
    access.require(request.user, Do.DRAFT_TARGETS, revision.contract)
    if revision.state != TargetRevision.State.DRAFT:
        return _render_revision(
            request,
            revision,
            errors=[("revision-lines", "This revision is approved and cannot change; draft a new one.")],
            status=409,
        )
    rows = _rows(revision, editable=True, data=request.POST)
    if all(row.form.is_valid() for row in rows if row.form is not None):
        line_errors = _save(request, rows)
        if not line_errors:
            return redirect("targets:revision", pk=revision.pk)
        for row in rows:
            row.errors = line_errors.get(row.line.pk, [])
    errors = []
    for row in rows:
        code = row.line.measure.code
        errors.extend((anchor, f"{code} {label.lower()}: {error}") for anchor, label, error in row.field_errors)
        errors.extend((row.anchor, error) for error in row.errors)
    return _render_revision(request, revision, rows=rows, errors=errors, status=400)


def _save(request: HttpRequest, rows: list[Row]) -> dict[int, list[str]]:
    """Save every line the admin changed, all or none; the engine's refusals per line."""
    line_errors: dict[int, list[str]] = {}
    saved = 0
    with transaction.atomic():
        for row in rows:
            line, form = row.line, row.form
            assert form is not None
            # Confirmation is asked where the stored line is out of scale; new values
            # need confirming afresh once the page shows what they are.
            if row.warnings:
                confirmed = form.cleaned_data["confirm"]
            else:
                confirmed = line.confirmed_out_of_scale and all(
                    getattr(line, f) == form.values()[f] for f in NUMBER_FIELDS
                )
            if _untouched(line, form, confirmed):
                continue
            try:
                revisions.save_line(
                    line.pk,
                    request.user,
                    values=form.values(),
                    rationale=form.cleaned_data["rationale"],
                    confirmed=confirmed,
                )
            except ValidationError as exc:
                line_errors[line.pk] = exc.messages
            else:
                saved += 1
        if line_errors:
            transaction.set_rollback(True)
    if not line_errors:
        if saved:
            messages.success(request, f"Saved {saved} line{'s' if saved != 1 else ''}.")
        else:
            messages.info(request, "Nothing was changed.")
    return line_errors


@login_required
@require_POST
def revision_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """A commissioner puts the revision into force from its month (R16)."""
    revision = _revision_for(request, pk)
    access.require(request.user, Do.APPROVE_TARGETS, revision.contract)
    was_draft = revision.state == TargetRevision.State.DRAFT
    try:
        revisions.approve_revision(revision.pk, request.user)
    except ValidationError as exc:
        rows = _rows(revision, editable=False)
        anchors = {f"{row.line.measure.code}:": f"line-{row.line.pk}" for row in rows}
        errors = [
            (next((a for code, a in anchors.items() if m.startswith(code)), "approve"), m)
            for m in exc.messages
        ]
        return _render_revision(request, revision, rows=rows, errors=errors, status=400 if was_draft else 409)
    messages.success(
        request,
        f"Approved: these targets are in force from {revision.effective_date:%B %Y}. "
        "Official verdicts on earlier months are unchanged.",
    )
    return redirect("targets:revision", pk=revision.pk)
