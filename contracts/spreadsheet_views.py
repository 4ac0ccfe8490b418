"""Pages for spreadsheets in and out (issue 6), namespaced ``spreadsheets``, under /returns/.

* a return's spreadsheet: download it prefilled, upload it filled in, preview the
  verdicts and problems, confirm (``contracts.spreadsheets``);
* exports of a contract's lists, its scorecard and a return's history as .xlsx or .csv
  (``contracts.exports``);
* import batches awaiting a commissioner's acceptance (``contracts.imports``, R14).

Views stay thin: who may see or do what is ``contracts.access``'s answer, and what a
spreadsheet holds or does is the modules above.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from contracts import access, exports, imports, spreadsheets
from contracts.access import Do
from contracts.models import ImportBatch, MonthlyReturn, ReturnEvent
from contracts.returns_forms import plain_number
from kpis import periods
from kpis.scorecard import latest_month

EXPORT_KINDS = ("measures", "targets", "observations", "comparators", "series_breaks", "data_gaps")


def _session_key(pk: int) -> str:
    return f"return-upload-{pk}"


def _return_page(
    request: HttpRequest,
    monthly_return: MonthlyReturn,
    *,
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    may_edit = access.may(request.user, Do.EDIT_ENTRIES, monthly_return.contract)
    editable = spreadsheets.workflow.editable_entry_ids(monthly_return)
    uploads = (
        monthly_return.events.filter(action=ReturnEvent.Action.UPLOAD)
        .select_related("actor")
        .order_by("-at")[:10]
    )
    return render(
        request,
        "contracts/spreadsheets/return.html",
        {
            "monthly_return": monthly_return,
            "contract": monthly_return.contract,
            "may_upload": may_edit and editable != set(),
            "uploads": uploads,
            "errors": errors or [],
            "limit": imports.size_words(imports.max_upload_bytes()),
            "file_name": spreadsheets.file_name_for(monthly_return),
        },
        status=status,
    )


@login_required
def return_spreadsheet(request: HttpRequest, pk: int) -> HttpResponse:
    """Download the return's spreadsheet, or upload it filled in."""
    return _return_page(request, access.return_for(request.user, pk))


@login_required
def download(request: HttpRequest, pk: int) -> HttpResponse:
    monthly_return = access.return_for(request.user, pk)
    body = spreadsheets.build_workbook(monthly_return, request.user)
    answer = HttpResponse(body, content_type=exports.CONTENT_TYPES["xlsx"])
    answer["Content-Disposition"] = (
        f'attachment; filename="{spreadsheets.file_name_for(monthly_return)}"'
    )
    return answer


@csrf_exempt
@login_required
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Read an upload, refusing one that is too large before any of it is stored."""
    # The size check must be in place before anything reads the body, so this view is
    # exempt from the middleware's CSRF check (which reads it) and checks CSRF itself.
    request.upload_handlers.insert(0, imports.SizeLimitUploadHandler(request))
    return _upload(request, pk)


@csrf_protect
@require_POST
def _upload(request: HttpRequest, pk: int) -> HttpResponse:
    monthly_return = access.return_for(request.user, pk)
    if not access.may(request.user, Do.EDIT_ENTRIES, monthly_return.contract):
        raise PermissionDenied("Only the provider's staff upload a return's figures.")
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    upload_file = request.FILES.get("file")
    if getattr(request, "upload_too_large", False) or (
        upload_file and upload_file.size > imports.max_upload_bytes()
    ):
        return _return_page(
            request,
            monthly_return,
            errors=[
                ("file", imports.too_large_message(max(length, getattr(upload_file, "size", 0))))
            ],
            status=413,
        )
    if upload_file is None:
        return _return_page(
            request,
            monthly_return,
            errors=[("file", "Choose the filled-in spreadsheet to upload.")],
            status=400,
        )
    try:
        result = spreadsheets.preview(
            monthly_return, upload_file.read(), upload_file.name, request.user
        )
    except imports.ImportFileError as exc:
        return _return_page(request, monthly_return, errors=[("file", exc.message)], status=400)
    token = ""
    if result.ok and result.changes:
        token = secrets.token_urlsafe(16)
        request.session[_session_key(pk)] = {"token": token, **result.as_session()}
    monthly_return.refresh_from_db()
    return _preview_page(request, monthly_return, result, token, status=200 if result.ok else 400)


def _preview_page(
    request: HttpRequest,
    monthly_return: MonthlyReturn,
    result: spreadsheets.Preview,
    token: str,
    *,
    status: int,
) -> HttpResponse:
    return render(
        request,
        "contracts/spreadsheets/preview.html",
        {
            "monthly_return": monthly_return,
            "contract": monthly_return.contract,
            "result": result,
            "token": token,
            "errors": [("problems", str(p)) for p in result.problems[:50]],
        },
        status=status,
    )


@login_required
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the previewed upload, all of it or nothing."""
    monthly_return = access.return_for(request.user, pk)
    stored = request.session.get(_session_key(pk))
    if not stored or not secrets.compare_digest(
        stored.get("token", ""), request.POST.get("token", "")
    ):
        return _return_page(
            request,
            monthly_return,
            errors=[
                (
                    "file",
                    "This upload has expired or was already saved: upload the spreadsheet again.",
                )
            ],
            status=409,
        )
    pending = spreadsheets.Preview.from_session(stored)
    try:
        spreadsheets.apply(monthly_return, pending, request.user)
    except spreadsheets.UploadRefused as exc:
        del request.session[_session_key(pk)]
        pending.problems = exc.problems
        monthly_return.refresh_from_db()
        return _preview_page(request, monthly_return, pending, "", status=409)
    del request.session[_session_key(pk)]
    count = len(pending.changes)
    messages.success(
        request,
        f"{pending.file_name} is saved: {count} measure{'s' if count != 1 else ''} changed ({', '.join(c.code for c in pending.changes)}).",
    )
    return redirect("returns:detail", pk=monthly_return.pk)


# --- exports ---------------------------------------------------------------------------


def _format(fmt: str) -> str:
    if fmt not in exports.FORMATS:
        raise Http404("Lists are exported as .xlsx or .csv.")
    return fmt


@login_required
def export_list(request: HttpRequest, contract: str, kind: str, fmt: str) -> HttpResponse:
    """A contract's measures, targets, figures, comparators, series breaks or data gaps,
    in the import headings; figures are drafts included only for those who see drafts (R13)."""
    fmt = _format(fmt)
    if kind not in EXPORT_KINDS:
        raise Http404("No such list.")
    found = access.contract_for(request.user, contract)
    sheet = exports.contract_sheet(
        kind, found, include_drafts=access.may_see_drafts(request.user, found)
    )
    return exports.response(sheet, fmt, f"{found.slug}-{kind}")


@login_required
def export_scorecard(request: HttpRequest, contract: str, fmt: str) -> HttpResponse:
    """The scorecard of a month (``?period=YYYY-MM``, else the latest), every verdict with its reason."""
    fmt = _format(fmt)
    found = access.contract_for(request.user, contract)
    drafts = access.may_see_drafts(request.user, found)
    label = (request.GET.get("period") or "").strip()
    if label:
        try:
            month = periods.parse_period(label)
        except periods.PeriodError:
            month = None
        if month is None or month.kind != "month":
            return HttpResponse(
                f"‘{label}’ is not a month: give the period as YYYY-MM.",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
    else:
        month = latest_month(found.measure_set, include_drafts=drafts)
        if month is None:
            raise Http404("This contract has no figures yet.")
    sheet = exports.scorecard_sheet(found, month, include_drafts=drafts)
    return exports.response(sheet, fmt, f"{found.slug}-scorecard-{month.label}")


@login_required
def export_history(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    fmt = _format(fmt)
    monthly_return = access.return_for(request.user, pk)
    sheet = exports.history_sheet(monthly_return)
    return exports.response(
        sheet, fmt, f"{monthly_return.contract.slug}-return-{monthly_return.period}-history"
    )


# --- import batches (R14) ----------------------------------------------------------------

BATCH_FIGURES_SHOWN = 500


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    """The import batches of the contracts whose history this person may accept."""
    batches = list(imports.batches_for(request.user).order_by("state", "-uploaded_at")[:200])
    return render(
        request,
        "contracts/spreadsheets/batches.html",
        {
            "pending": [b for b in batches if b.state == ImportBatch.State.PENDING],
            "accepted": [b for b in batches if b.state == ImportBatch.State.ACCEPTED][:50],
        },
    )


def _batch_for(request: HttpRequest, pk: int) -> ImportBatch:
    batch = imports.batches_for(request.user).filter(pk=pk).first()
    if batch is None:
        raise Http404("No such import batch.")
    return batch


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_for(request, pk)
    figures = batch.observations.select_related("measure").order_by(
        "measure__display_order", "measure__code", "period_end"
    )
    return render(
        request,
        "contracts/spreadsheets/batch.html",
        {
            "batch": batch,
            "figures": [
                {
                    "code": obs.measure.code,
                    "period": obs.period,
                    "value": plain_number(obs.value),
                    "numerator": plain_number(obs.numerator),
                    "denominator": plain_number(obs.denominator),
                    "flags": " ".join(obs.flags or []),
                    "official": obs.is_official,
                }
                for obs in figures[:BATCH_FIGURES_SHOWN]
            ],
            "shown": BATCH_FIGURES_SHOWN,
            "errors": [],
        },
    )


@login_required
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    """The commissioner's one audited act: the batch's figures become official (R14)."""
    batch = _batch_for(request, pk)
    try:
        batch, count = imports.accept_batch(batch.pk, request.user)
    except imports.BatchError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Import batch {batch.pk} is accepted: {count} figure{'s' if count != 1 else ''} of "
            f"{batch.contract.name} now count as official.",
        )
    return redirect(reverse("spreadsheets:batch", args=[batch.pk]))
