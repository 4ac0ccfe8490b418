"""The pages of the monthly return: the list, a return, an entry, and the history.

Views stay thin. Who may see what comes from ``contracts.access`` (a return or contract
another organisation's is a 404; a role that may not act is a 403); every change goes
through ``contracts.workflow``, whose refusals the pages show in a GOV.UK error summary
naming exactly what, with the status the API gives (400 owed or malformed, 403 not your
role, 409 not in this state), keeping what was typed. Verdicts come from ``kpis``.

What lives here is how those answers are put on a page, and the entry page's preview of
the verdict while someone types (nothing is saved until they press Save).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from contracts import access, workflow
from contracts.access import Do
from contracts.models import Action, Entry, MonthlyReturn, Query, ReturnEvent, ReturnState
from contracts.returns_forms import (
    AnswerForm,
    EntryForm,
    OpenReturnForm,
    PlainNumberField,
    ReopenForm,
    ReturnFilterForm,
    action_rows_from_entry,
    action_rows_from_post,
    add_blank_row,
    parse_queries,
    plain_number,
    remove_new_row,
    selected_ids,
)
from kpis import rating
from kpis.models import Observation, Polarity
from kpis.scorecard import rate_observation

Errors = list[tuple[str, str]]  # (the id of the field at fault, or "", and the message)

# The states in which the provider still owes something before submitting.
OWING_STATES = (ReturnState.DRAFT, ReturnState.QUERIED)
PAGE_SIZE = 50


# --- refusals --------------------------------------------------------------------------


class Refused(Exception):
    """A refusal to show on the page: what went wrong, where, and the HTTP status."""

    def __init__(self, errors: Errors, status: int) -> None:
        super().__init__(errors)
        self.errors = errors
        self.status = status


def refusal(exc: Exception, field_ids: dict[str, str] | None = None) -> Refused:
    """The workflow's and access's refusals in the pages' terms (the API's statuses)."""
    field_ids = field_ids or {}
    if isinstance(exc, Refused):
        return exc
    if isinstance(exc, workflow.Owed):
        return Refused([(f"entry-{item.entry_id}", item.message) for item in exc.items], exc.status)
    if isinstance(exc, workflow.StateError):
        return Refused([("return-state", exc.message)], exc.status)
    if isinstance(exc, workflow.WorkflowError):
        return Refused([(field_ids.get(exc.detail.get("field", ""), ""), exc.message)], exc.status)
    if isinstance(exc, PermissionDenied):
        return Refused([("", str(exc) or "You may not do this.")], 403)
    if isinstance(exc, ValidationError):
        return Refused([("", message) for message in exc.messages], 400)
    raise exc


WORKFLOW_REFUSALS = (workflow.WorkflowError, PermissionDenied, ValidationError)


# --- the list of returns ---------------------------------------------------------------


@dataclass(frozen=True)
class BulkLine:
    monthly_return: MonthlyReturn | None
    return_id: int
    signed_off: bool
    message: str


def _list_page(
    request: HttpRequest,
    *,
    status: int = 200,
    errors: Errors | None = None,
    results: list[BulkLine] | None = None,
    open_form: OpenReturnForm | None = None,
) -> HttpResponse:
    contracts = list(access.contracts_for(request.user))
    filters = ReturnFilterForm(request.GET or None, contracts=contracts)
    errors = list(errors or [])
    returns = access.returns_for(request.user).order_by("-period_start", "contract__name")
    if filters.is_bound:
        if filters.is_valid():
            if filters.cleaned_data["contract"]:
                returns = returns.filter(contract__slug=filters.cleaned_data["contract"])
            if filters.cleaned_data["state"]:
                returns = returns.filter(state=filters.cleaned_data["state"])
        else:
            status = 400
            errors += [
                (name, f"{filters.fields[name].label}: {error}")
                for name, es in filters.errors.items()
                for error in es
            ]
            returns = returns.none()
    page = Paginator(returns, PAGE_SIZE).get_page(request.GET.get("page"))
    may_sign_off = {c.pk for c in contracts if access.may(request.user, Do.SIGN_OFF, c)}
    may_open = [c for c in contracts if access.may(request.user, Do.OPEN_RETURN, c)]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "contracts/returns/list.html",
        {
            "filters": filters,
            "page": page,
            "rows": [
                (r, r.state == ReturnState.SUBMITTED and r.contract_id in may_sign_off)
                for r in page.object_list
            ],
            "may_bulk_sign_off": bool(may_sign_off),
            "may_open": may_open,
            "open_form": open_form or OpenReturnForm(),
            "errors": errors,
            "results": results,
            "query": query.urlencode(),
        },
        status=status,
    )


@login_required
def return_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


@login_required
@require_POST
def bulk_sign_off(request: HttpRequest) -> HttpResponse:
    """Sign off the ticked returns, each on its own: one refusal stops no other."""
    contracts = access.contracts_for(request.user)
    if not any(access.may(request.user, Do.SIGN_OFF, c) for c in contracts):
        return _list_page(
            request, status=403, errors=[("", "Only a commissioner may sign off returns.")]
        )
    ids, bad = selected_ids(request.POST)
    if bad or not ids:
        return _list_page(
            request,
            status=400,
            errors=[("returns-table", "Select at least one return to sign off.")],
        )
    # Another organisation's return is not found, as everywhere (workflow's own refusal
    # would name its contract).
    visible = {r.pk: r for r in access.returns_for(request.user).filter(pk__in=ids)}
    done = {
        result.return_id: result
        for result in workflow.bulk_sign_off([pk for pk in ids if pk in visible], request.user)
    }
    results = [
        BulkLine(visible.get(pk), pk, done[pk].signed_off, done[pk].message)
        if pk in done
        else BulkLine(None, pk, False, "No such return.")
        for pk in ids
    ]
    return _list_page(request, results=results)


@login_required
@require_POST
def open_return(request: HttpRequest) -> HttpResponse:
    """Open a contract's return for a month by hand (the month-end run does it otherwise)."""
    form = OpenReturnForm(request.POST)
    slug = request.POST.get("contract", "")
    contract = access.contract_for(request.user, slug)  # 404: never a hint it exists
    try:
        access.require(request.user, Do.OPEN_RETURN, contract)
    except PermissionDenied as exc:
        return _list_page(request, status=403, errors=refusal(exc).errors, open_form=form)
    if not form.is_valid():
        errors = [
            (f"open-{name}", f"{form.fields[name].label}: {e}")
            for name, es in form.errors.items()
            for e in es
        ]
        return _list_page(request, status=400, errors=errors, open_form=form)
    month = form.cleaned_data["month"]
    try:
        monthly_return = workflow.open_return(contract, month.label, request.user)
    except WORKFLOW_REFUSALS as exc:
        refused = refusal(exc, {"period": "open-month"})
        return _list_page(request, status=refused.status, errors=refused.errors, open_form=form)
    messages.success(request, f"The {month.start:%B %Y} return for {contract.name} is open.")
    return redirect("returns:detail", pk=monthly_return.pk)


# --- one return ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnLine:
    """One entry as the return page shows it."""

    status: workflow.EntryStatus
    value: str
    editable: bool
    open_queries: list[Query]
    chosen: bool
    comment: str
    comment_error: str = ""

    @property
    def entry(self) -> Entry:
        return self.status.entry


@dataclass(frozen=True)
class OpenQuery:
    query: Query
    answer: str  # as typed, or as saved
    error: str = ""


def _return_page(
    request: HttpRequest,
    monthly_return: MonthlyReturn,
    *,
    status: int = 200,
    errors: Errors | None = None,
    typed: QueryDict | None = None,
) -> HttpResponse:
    """The return with its entries, what is owed, and the actions this person may take.

    A fixed number of queries whatever the number of entries: ``entry_statuses`` reads
    the entries with their measures, figures, targets, actions and queries in one go.
    """
    contract = monthly_return.contract
    rights = access.rights(request.user, contract)
    statuses = workflow.entry_statuses(monthly_return)
    prefetch_related_objects(
        [q for s in statuses for q in s.entry.queries.all()], "raised_by", "answered_by"
    )
    editable_ids = (
        workflow.editable_entry_ids(monthly_return) if Do.EDIT_ENTRIES in rights else set()
    )
    typed = typed if typed is not None else QueryDict()
    chosen = set(typed.getlist("entries"))
    errors = errors or []
    beside = dict(reversed(errors))  # the first message for each field, shown beside it
    lines = [
        ReturnLine(
            status=s,
            value=rating.display_value(s.entry.measure.as_definition(), s.verdict),
            editable=Do.EDIT_ENTRIES in rights
            and (editable_ids is None or s.entry.pk in editable_ids),
            open_queries=[q for q in s.entry.queries.all() if q.closed_at is None],
            chosen=str(s.entry.pk) in chosen,
            comment=typed.get(f"comment-{s.entry.pk}", ""),
            comment_error=beside.get(f"comment-{s.entry.pk}", ""),
        )
        for s in statuses
    ]
    state = monthly_return.state
    answering = typed.get("query", "")
    open_queries = [
        OpenQuery(
            q,
            typed.get("answer", "") if str(q.pk) == answering else q.answer,
            beside.get(f"answer-{q.pk}", ""),
        )
        for line in lines
        for q in line.open_queries
    ]
    may = {
        "submit": Do.SUBMIT in rights and state in OWING_STATES,
        "query": Do.QUERY in rights and state == ReturnState.SUBMITTED,
        "answer": Do.ANSWER in rights and state == ReturnState.QUERIED,
        "sign_off": Do.SIGN_OFF in rights and state == ReturnState.SUBMITTED,
        "reopen": Do.REOPEN in rights and state == ReturnState.SIGNED_OFF,
    }
    return render(
        request,
        "contracts/returns/detail.html",
        {
            "monthly_return": monthly_return,
            "contract": contract,
            "lines": lines,
            "owed": [item for s in statuses for item in s.owed] if state in OWING_STATES else [],
            "open_queries": open_queries,
            "editable_count": sum(line.editable for line in lines),
            "may": may,
            "errors": errors,
            "reopen_reason": typed.get("reason", ""),
            "reason_error": beside.get("reason", ""),
            "query_error": beside.get("query-measures", ""),
        },
        status=status,
    )


@login_required
def return_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _return_page(request, access.return_for(request.user, pk))


def _act(
    request: HttpRequest,
    pk: int,
    right: Do,
    act: Any,
    done: str,
    field_ids: dict[str, str] | None = None,
) -> HttpResponse:
    """Try one step of the workflow on a return; on refusal show the page with why."""
    monthly_return = access.return_for(request.user, pk)
    try:
        access.require(request.user, right, monthly_return.contract)
        act(monthly_return)
    except (Refused, *WORKFLOW_REFUSALS) as exc:
        refused = refusal(exc, field_ids)
        return _return_page(
            request,
            monthly_return,
            status=refused.status,
            errors=refused.errors,
            typed=request.POST,
        )
    messages.success(request, done)
    return redirect("returns:detail", pk=monthly_return.pk)


@login_required
@require_POST
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        Do.SUBMIT,
        lambda r: workflow.submit(r.pk, request.user),
        "The return is submitted.",
    )


@login_required
@require_POST
def raise_query(request: HttpRequest, pk: int) -> HttpResponse:
    def act(monthly_return: MonthlyReturn) -> None:
        entries = {e.pk: e for e in monthly_return.entries.select_related("measure")}
        chosen, errors = parse_queries(request.POST, entries)
        if errors:
            raise Refused(errors, 400)
        workflow.raise_query(monthly_return.pk, request.user, chosen)

    return _act(
        request,
        pk,
        Do.QUERY,
        act,
        "The query is sent to the provider.",
        {"queries": "query-measures"},
    )


@login_required
@require_POST
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    form = AnswerForm(request.POST)
    query_id = request.POST.get("query", "")

    def act(monthly_return: MonthlyReturn) -> None:
        if not form.is_valid():
            raise Refused([("", f"‘{query_id}’ is not a query on this return.")], 400)
        data = form.cleaned_data
        workflow.answer_queries(monthly_return.pk, request.user, [(data["query"], data["answer"])])

    return _act(
        request,
        pk,
        Do.ANSWER,
        act,
        "Your answer is saved. Resubmit the return when every query is answered.",
        {"answers": f"answer-{query_id}"},
    )


@login_required
@require_POST
def sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        Do.SIGN_OFF,
        lambda r: workflow.sign_off(r.pk, request.user),
        "The return is signed off: its figures are official.",
    )


@login_required
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReopenForm(request.POST)
    form.is_valid()
    return _act(
        request,
        pk,
        Do.REOPEN,
        lambda r: workflow.reopen(r.pk, request.user, form.cleaned_data.get("reason", "")),
        "The return is reopened: its figures are draft until it is signed off again.",
        {"reason": "reason"},
    )


# --- one entry -------------------------------------------------------------------------


@dataclass(frozen=True)
class Owes:
    what: str
    given: bool


@dataclass(frozen=True)
class Preview:
    """The verdict a figure would get, computed without saving it, and what it owes (R9)."""

    verdict: rating.Verdict
    value: str
    computed: bool  # the value rated comes from the numerator and denominator
    target_words: str
    owes: list[Owes]
    blocks: bool
    problems: list[str] = field(default_factory=list)


def preview(
    entry: Entry,
    value: Decimal | None,
    numerator: Decimal | None,
    denominator: Decimal | None,
    *,
    variance_reason: str,
    no_data_reason: str,
    has_action: bool,
    problems: list[str] | None = None,
) -> Preview:
    """Rate the figure as typed against the target in force for the period it covers (R12)."""
    measure = entry.measure
    defn = measure.as_definition()
    covered = measure.parse_period(entry.period)
    obs = None
    if any(v is not None for v in (value, numerator, denominator)):
        obs = Observation(
            measure=measure, value=value, numerator=numerator, denominator=denominator
        )
        obs.period, obs.period_start, obs.period_end = covered.label, covered.start, covered.end
    target, verdict = rate_observation(measure, obs, list(measure.targets.all()), covered.end)
    computed = rating.computed_value(defn, rating.Figure(value, numerator, denominator))
    given = {
        "no_data_reason": bool(no_data_reason.strip()),
        "narrative": bool(variance_reason.strip()),
        "actions": has_action,
    }
    owes = [
        Owes(workflow.REQUIREMENT_WORDS[kind], given[kind])
        for kind in workflow.requirements(verdict)
        if kind in given
    ]
    return Preview(
        verdict=verdict,
        value=rating.display_value(defn, verdict),
        computed=computed is not None,
        target_words=rating.target_words(defn, target.as_spec() if target else None),
        owes=owes,
        blocks=verdict.status == rating.Status.CANNOT_RATE,
        problems=problems or [],
    )


def _entry_of(monthly_return: MonthlyReturn, entry_id: int) -> Entry:
    try:
        return (
            monthly_return.entries.select_related("measure", "observation", "updated_by")
            .prefetch_related(
                "measure__targets",
                Prefetch("actions", queryset=Action.objects.order_by("pk")),
                Prefetch(
                    "queries", queryset=Query.objects.select_related("raised_by", "answered_by")
                ),
            )
            .get(pk=entry_id)
        )
    except Entry.DoesNotExist:
        raise Http404("No such entry.") from None


def _editable(request: HttpRequest, monthly_return: MonthlyReturn, entry: Entry) -> bool:
    if not access.may(request.user, Do.EDIT_ENTRIES, monthly_return.contract):
        return False
    editable_ids = workflow.editable_entry_ids(monthly_return)
    return editable_ids is None or entry.pk in editable_ids


def _last_figure(
    request: HttpRequest, monthly_return: MonthlyReturn, entry: Entry
) -> tuple[Observation | None, rating.Verdict | None, str]:
    """The measure's figure for the period before this one that this person may see."""
    measure = entry.measure
    covered = measure.parse_period(entry.period)
    last = (
        Observation.objects.visible(access.may_see_drafts(request.user, monthly_return.contract))
        .with_figure()
        .filter(measure=measure, period_end__lt=covered.start)
        .order_by("-period_end")
        .first()
    )
    if last is None:
        return None, None, ""
    _, verdict = rate_observation(measure, last, list(measure.targets.all()), last.period_end)
    return last, verdict, rating.display_value(measure.as_definition(), verdict)


FIELD_LABELS = {name: f.label for name, f in EntryForm.base_fields.items()}
FIELD_LABELS.update(actions="Actions", variance_reason="Reason for the variance")


def _form_errors(form: EntryForm, rows: list[Any]) -> Errors:
    errors: Errors = []
    for name, field_errors in form.errors.items():
        for error in field_errors:
            if name == NON_FIELD_ERRORS:
                errors.append(("value", error))
            else:
                errors.append((name, f"{FIELD_LABELS.get(name, name)}: {error}"))
    for number, row in enumerate(rows, start=1):
        for name, error in row.errors.items():
            errors.append((f"{row.prefix}-{name}", f"Action {number}: {error}"))
    return errors


ACTION_NUMBER = re.compile(r"^Action (\d+)\b")


def _apply_validation_error(exc: ValidationError, form: EntryForm, rows: list[Any]) -> None:
    """Put the workflow's field errors beside the fields (figures, flags, actions)."""
    if not hasattr(exc, "error_dict"):
        for error in exc.messages:
            form.add_error(None, error)
        return
    for name, field_errors in exc.message_dict.items():
        for error in field_errors:
            if name == "actions":
                match = ACTION_NUMBER.match(error)
                number = int(match.group(1)) if match else 1
                row = rows[min(number, len(rows)) - 1] if rows else None
                if row is not None:
                    row.errors[row.first_missing()] = error.replace(
                        f"Action {number} ", "This action ", 1
                    )
                    continue
            form.add_error(name if name in form.fields else None, error)


def _conflict_rows(
    exc: workflow.StaleEntry, form: EntryForm, rows: list[Any]
) -> list[tuple[str, str, str, bool]]:
    """The entry as saved beside what this person typed, field by field."""
    saved = exc.entry
    initial = EntryForm.initial_for(saved)
    lines = []
    for name in (*EntryForm.FIGURES, *EntryForm.NARRATIVE):
        theirs = initial.get(name, "")
        mine = form.typed(name)
        if name == "flags":
            theirs, mine = ", ".join(theirs or []), ", ".join(mine or [])
        theirs, mine = str(theirs or ""), str(mine or "")
        lines.append((FIELD_LABELS[name], theirs, mine, theirs.strip() != mine.strip()))
    saved_actions = "; ".join(
        f"{a.description} ({a.owner or 'no owner'}, {a.due_date or 'no due date'})"
        for a in saved.actions.all()
    )
    typed_actions = "; ".join(
        f"{r.description} ({r.owner or 'no owner'}, {r.due_date_text or 'no due date'})"
        for r in rows
        if not r.is_blank and not r.delete
    )
    lines.append(("Actions", saved_actions, typed_actions, saved_actions != typed_actions))
    return lines


def _entry_page(
    request: HttpRequest,
    monthly_return: MonthlyReturn,
    entry: Entry,
    *,
    form: EntryForm | None = None,
    rows: list[Any] | None = None,
    status: int = 200,
    errors: Errors | None = None,
    conflict: workflow.StaleEntry | None = None,
) -> HttpResponse:
    editable = _editable(request, monthly_return, entry)
    form = form or EntryForm(initial=EntryForm.initial_for(entry))
    rows = rows if rows is not None else action_rows_from_entry(entry)
    if form.is_bound:
        numbers = {
            name: form.cleaned_data.get(name) if hasattr(form, "cleaned_data") else None
            for name in ("value", "numerator", "denominator")
        }
        shown = preview(
            entry,
            numbers["value"],
            numbers["numerator"],
            numbers["denominator"],
            variance_reason=form.typed("variance_reason") or "",
            no_data_reason=form.typed("no_data_reason") or "",
            has_action=any(r.counts for r in rows),
        )
    else:
        obs = entry.observation
        shown = preview(
            entry,
            obs.value if obs else None,
            obs.numerator if obs else None,
            obs.denominator if obs else None,
            variance_reason=entry.variance_reason,
            no_data_reason=entry.no_data_reason,
            has_action=any(r.counts for r in rows),
        )
    last, last_verdict, last_value = _last_figure(request, monthly_return, entry)
    measure = entry.measure
    return render(
        request,
        "contracts/returns/entry.html",
        {
            "monthly_return": monthly_return,
            "contract": monthly_return.contract,
            "entry": entry,
            "measure": measure,
            "polarity": Polarity(measure.polarity).label
            if measure.polarity
            else "No polarity: not rated",
            "editable": editable,
            "form": form,
            "rows": rows,
            "preview": shown,
            "last": last,
            "last_verdict": last_verdict,
            "last_value": last_value,
            "errors": errors or [],
            "conflict": conflict,
            "conflict_rows": _conflict_rows(conflict, form, rows) if conflict else [],
            "suffix": _suffix(measure),
            "open_queries": [q for q in entry.queries.all() if q.closed_at is None],
            "queries": list(entry.queries.all()),
            "actions": list(entry.actions.all()),
            "flag_words": dict(EntryForm.base_fields["flags"].choices),
        },
        status=status,
    )


def _suffix(measure: Any) -> str:
    if measure.unit == "percent":
        return "%"
    if measure.unit == "rate" and measure.per:
        return f"per {measure.per:,}"
    return ""


@login_required
def entry_page(request: HttpRequest, pk: int, entry_id: int) -> HttpResponse:
    monthly_return = access.return_for(request.user, pk)
    entry = _entry_of(monthly_return, entry_id)
    if request.method != "POST":
        return _entry_page(request, monthly_return, entry)

    try:
        access.require(request.user, Do.EDIT_ENTRIES, monthly_return.contract)
    except PermissionDenied as exc:
        return _entry_page(request, monthly_return, entry, status=403, errors=refusal(exc).errors)
    form = EntryForm(request.POST)
    rows = action_rows_from_post(request.POST)
    if "add_action" in request.POST:  # "Add another action": nothing is saved yet
        form.is_valid()
        return _entry_page(request, monthly_return, entry, form=form, rows=add_blank_row(rows))
    if "remove_action" in request.POST:
        form.is_valid()
        return _entry_page(
            request,
            monthly_return,
            entry,
            form=form,
            rows=remove_new_row(rows, request.POST["remove_action"]),
        )

    valid = form.is_valid() and not any(row.errors for row in rows)
    try:
        if not valid:
            if _editable(request, monthly_return, entry):
                return _entry_page(
                    request,
                    monthly_return,
                    entry,
                    form=form,
                    rows=rows,
                    status=400,
                    errors=_form_errors(form, rows),
                )
            # Not changeable now: the workflow says why, whatever was typed.
            workflow.save_entry(entry.pk, request.user, version=entry.version, figures={})
        else:
            workflow.save_entry(
                entry.pk,
                request.user,
                version=form.cleaned_data["version"],
                figures=form.figures(),
                narrative=form.narrative(),
                actions=[row.as_change() for row in rows],
                reason=form.cleaned_data["reason"],
            )
    except workflow.StaleEntry as exc:
        # Keep everything typed, and start again from the version saved meanwhile.
        data = request.POST.copy()
        data["version"] = str(exc.entry.version)
        form = EntryForm(data)
        form.is_valid()
        fresh = _entry_of(monthly_return, entry.pk)
        return _entry_page(
            request,
            monthly_return,
            fresh,
            form=form,
            rows=rows,
            status=exc.status,
            errors=[("conflict", exc.message)],
            conflict=exc,
        )
    except ValidationError as exc:
        _apply_validation_error(exc, form, rows)
        return _entry_page(
            request,
            monthly_return,
            entry,
            form=form,
            rows=rows,
            status=400,
            errors=_form_errors(form, rows),
        )
    except (workflow.WorkflowError, PermissionDenied) as exc:
        refused = refusal(exc)
        editable = _editable(request, monthly_return, entry)
        return _entry_page(
            request,
            monthly_return,
            entry,
            form=form if editable else None,
            rows=rows if editable else None,
            status=refused.status,
            errors=refused.errors,
        )
    messages.success(request, f"{entry.measure.code} is saved.")
    return redirect(f"{reverse('returns:detail', args=[monthly_return.pk])}#entry-{entry.pk}")


@login_required
@require_POST
def entry_verdict(request: HttpRequest, pk: int, entry_id: int) -> HttpResponse:
    """The verdict for the figures as typed, computed without saving (htmx partial)."""
    monthly_return = access.return_for(request.user, pk)
    access.require(request.user, Do.EDIT_ENTRIES, monthly_return.contract)
    entry = _entry_of(monthly_return, entry_id)
    numbers: dict[str, Decimal | None] = {}
    problems = []
    for name in ("value", "numerator", "denominator"):
        try:
            numbers[name] = PlainNumberField().clean(request.POST.get(name, ""))
        except ValidationError as exc:
            numbers[name] = None
            problems.append(f"{FIELD_LABELS[name]}: {exc.messages[0]}")
    rows = action_rows_from_post(request.POST)
    shown = preview(
        entry,
        numbers["value"],
        numbers["numerator"],
        numbers["denominator"],
        variance_reason=request.POST.get("variance_reason", ""),
        no_data_reason=request.POST.get("no_data_reason", ""),
        has_action=any(r.counts for r in rows),
        problems=problems,
    )
    return render(
        request,
        "contracts/returns/partials/verdict.html",
        {"preview": shown, "measure": entry.measure},
    )


# --- history ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    what: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryLine:
    event: ReturnEvent
    code: str
    changes: list[Change]
    notes: list[str]


def _shown(value: Any) -> str:
    if value in (None, "", []):
        return "blank"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str):
        try:
            return plain_number(Decimal(value))
        except ArithmeticError:
            return value
    return str(value)


def history_line(event: ReturnEvent) -> HistoryLine:
    detail = event.detail or {}
    changes: list[Change] = []
    notes: list[str] = []
    for name, change in (detail.get("changes") or {}).items():
        label = FIELD_LABELS.get(name, name.replace("_", " ").capitalize())
        if name == "actions":
            notes += [f"Action {what}" for what in change]
        else:
            before, after = change
            changes.append(Change(label, _shown(before), _shown(after)))
    for query in detail.get("queries") or []:
        notes.append(f"Query on {query.get('code')}: {query.get('comment')}")
    for reply in detail.get("answers") or []:
        notes.append(f"Answer on {reply.get('code')}: {reply.get('answer')}")
    for key, value in detail.items():
        if key not in ("changes", "queries", "answers", "code"):
            notes.append(f"{key.replace('_', ' ').capitalize()}: {value}")
    return HistoryLine(event, detail.get("code", ""), changes, notes)


@login_required
def history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every step of the return, oldest first, as a commissioner shows an auditor."""
    monthly_return = access.return_for(request.user, pk)
    events = monthly_return.events.select_related("actor").order_by("at", "pk")
    queries = (
        Query.objects.filter(entry__monthly_return=monthly_return)
        .select_related("entry__measure", "raised_by", "answered_by")
        .order_by("raised_at", "pk")
    )
    return render(
        request,
        "contracts/returns/history.html",
        {
            "monthly_return": monthly_return,
            "contract": monthly_return.contract,
            "lines": [history_line(e) for e in events],
            "queries": list(queries),
        },
    )
