"""The committee report's pages: the report for a contract and month (HTML, PDF, Word),
its editable text, publishing it, and the published snapshot with what changed since.

Only official figures appear unless a draft is asked for (``?draft=1``) by someone who
may see drafts (R13, R14, R18); a draft says so on every page. Who may write and publish
is ``reports.permissions``'s to decide, on top of ``contracts.access``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from contracts import access
from contracts.models import Contract
from kpis import periods
from reports import document
from reports import render as formats
from reports.models import PublishedReport, ReportText, Section
from reports.permissions import may_edit_report, may_publish_report, may_see_retained
from reports.views import contract_for, month_or_404, month_or_latest

FORMATS = {"html", "pdf", "docx"}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _download(report: dict[str, Any], fmt: str, contract: Contract, month: periods.Period) -> HttpResponse:
    try:
        content = formats.pdf(report) if fmt == "pdf" else formats.docx(report)
    except formats.PdfUnavailable as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    draft = "-draft" if report["draft"] else ""
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = (
        f'attachment; filename="{contract.slug}-report-{month.label}{draft}.{fmt}"'
    )
    return response


@login_required
def report_latest(request: HttpRequest, slug: str) -> HttpResponse:
    """The report for the month of the latest figure the viewer may see."""
    contract = contract_for(request, slug)
    month, _ = month_or_latest("", contract, include_drafts=False)
    return redirect("report", slug=contract.slug, period=month.label)


@login_required
def report(request: HttpRequest, slug: str, period: str) -> HttpResponse:
    contract = contract_for(request, slug)
    month = month_or_404(period)
    fmt = request.GET.get("format", "html")
    if fmt not in FORMATS:
        return HttpResponse(
            f"Unknown format ‘{fmt}’: choose html, pdf or docx.", status=400,
            content_type="text/plain; charset=utf-8",
        )
    draft = request.GET.get("draft") == "1"
    if draft and not access.may_see_drafts(request.user, contract):
        raise PermissionDenied("You may see official figures only (R13).")
    data = document.build_report(
        contract, month, draft=draft, include_retained=may_see_retained(request.user, contract)
    )
    if fmt != "html":
        return _download(data, fmt, contract, month)
    published = PublishedReport.objects.filter(contract=contract, period=month.label).select_related(
        "published_by"
    ).first()
    return render(
        request,
        "reports/report.html",
        {
            "contract": contract,
            "month": month,
            "report": data,
            "body": formats.body_html(data),
            "published": published,
            "may_see_drafts": access.may_see_drafts(request.user, contract),
            "may_edit": may_edit_report(request.user, contract),
            "may_publish": may_publish_report(request.user, contract) and published is None,
        },
    )


# --- the report's editable text -----------------------------------------------------------


class ReportTextForm(forms.Form):
    def __init__(self, *args: Any, texts: dict[str, document.TextInForce], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for section in Section:
            single = section in (Section.COMMITTEE, Section.REPORT_OF)
            self.fields[section.value] = forms.CharField(
                label=section.label,
                required=False,
                initial=texts[section.value].text,
                widget=forms.TextInput(attrs={"class": "govuk-input"})
                if single
                else forms.Textarea(attrs={"class": "govuk-textarea", "rows": 6}),
                help_text="" if single else "Separate paragraphs with a blank line. Leave empty for the standard wording.",
                max_length=20000,
            )
            if not single:
                self.fields[section.value].widget.attrs["aria-describedby"] = f"{section.value}-hint"


@login_required
def report_text(request: HttpRequest, slug: str, period: str) -> HttpResponse:
    contract = contract_for(request, slug)
    month = month_or_404(period)
    if not may_edit_report(request.user, contract):
        raise PermissionDenied("Only the council's commissioners and admins write the report.")
    texts = document.texts_in_force(contract, month)
    form = ReportTextForm(request.POST or None, texts=texts)
    if request.method == "POST" and form.is_valid():
        saved = _save_texts(contract, month, texts, form.cleaned_data, request.user)
        messages.success(
            request,
            f"The report's text for {month.start:%B %Y} is saved"
            + (f" ({saved} section{'s' if saved != 1 else ''} changed)." if saved else ": nothing changed."),
        )
        return redirect("report", slug=contract.slug, period=month.label)
    return render(
        request,
        "reports/report_text.html",
        {"contract": contract, "month": month, "form": form, "texts": texts},
        status=400 if form.errors else 200,
    )


def _save_texts(contract, month, texts, cleaned: dict[str, str], user) -> int:
    """Save the sections whose text differs from the text in force; an empty section goes
    back to the standard wording. Returns how many sections changed."""
    changed = 0
    with transaction.atomic():
        for section in Section:
            new = cleaned.get(section.value, "").replace("\r\n", "\n").strip()
            current = texts[section.value]
            if not new:
                new = document.default_text(section.value, contract)
            if new == current.text.strip():
                continue
            ReportText.objects.update_or_create(
                contract=contract,
                period=month.label,
                section=section.value,
                defaults={"text": new, "updated_by": user},
            )
            changed += 1
    return changed


# --- publishing ---------------------------------------------------------------------------


@login_required
@require_POST
def report_publish(request: HttpRequest, slug: str, period: str) -> HttpResponse:
    """Freeze the official report as published (R17): its data and its document."""
    contract = contract_for(request, slug)
    month = month_or_404(period)
    if not may_publish_report(request.user, contract):
        raise PermissionDenied("Only the council's commissioners publish the report.")
    data = document.build_report(contract, month, draft=False, include_retained=True)
    try:
        with transaction.atomic():
            PublishedReport.objects.create(
                contract=contract,
                period=month.label,
                published_by=request.user,
                published_at=timezone.now(),
                data=data,
                html=formats.body_html(data),
            )
    except IntegrityError:
        messages.error(request, f"The report for {month.start:%B %Y} is already published.")
    else:
        messages.success(request, f"The report for {month.start:%B %Y} is published.")
    return redirect("report-published", slug=contract.slug, period=month.label)


@login_required
def report_published(request: HttpRequest, slug: str, period: str) -> HttpResponse:
    contract = contract_for(request, slug)
    month = month_or_404(period)
    published = (
        PublishedReport.objects.filter(contract=contract, period=month.label)
        .select_related("published_by")
        .first()
    )
    if published is None:
        raise Http404("This report has not been published.")
    data = published.data
    retained = may_see_retained(request.user, contract)
    if not retained:  # the provider never sees the council's retained services
        data = {**data, "retained": {**data["retained"], "visible": False}}
    fmt = request.GET.get("format", "html")
    if fmt in ("pdf", "docx"):
        return _download(data, fmt, contract, month)
    return render(
        request,
        "reports/report_published.html",
        {
            "contract": contract,
            "month": month,
            "published": published,
            "report": data,
            "body": published.html if retained else formats.body_html(data),
            "changes": document.changes_since(
                published.data.get("figures", {}), document.official_figures(contract, month)
            ),
        },
    )

