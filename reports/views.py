"""The pages people read: their contracts, a contract's scorecard (R13) and dashboard, a
measure's history, and the scorecard as Excel.

Views stay thin: who may see what is decided by ``contracts.access`` and nowhere else,
the scorecard and its verdicts come from ``kpis.scorecard`` and ``kpis.rating``, a
measure's history from ``reports.series`` and its drafted commentary from
``reports.commentary``. What lives here is only how those answers are put on a page.
Every page reads a fixed number of queries, however many measures and periods there are.
The committee report's pages are in ``reports.report_views``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from contracts import access
from contracts.models import Contract, Entry, ReturnState
from kpis import periods, rating
from kpis.models import Comparator, Flag, Kind, Measure, Observation, Rebase
from kpis.scorecard import (
    ScorecardRow,
    build_row,
    build_scorecard,
    latest_month,
    measures_with_history,
    with_history,
)
from kpis.words import DIRECTION_WORDS, FLAG_WORDS, VERDICT_COLOURS, VERDICT_WORDS
from reports import charts, commentary, exports, spc_text
from reports.models import MeasureCommentary
from reports.permissions import may_edit_report, may_record_rebase
from reports.series import (
    Series,
    chart_spec,
    day_words,
    period_words,
    plain_number,
    series_for,
    sparkline_values,
)

Status = rating.Status


@dataclass(frozen=True)
class ContractLine:
    contract: Contract
    latest: periods.Period | None


@dataclass(frozen=True)
class VerdictCount:
    status: str
    words: str
    colour: str
    count: int


@dataclass(frozen=True)
class Line:
    """One scorecard row as the page shows it."""

    row: ScorecardRow
    verdict_words: str
    verdict_colour: str
    target_words: str
    direction_previous: str
    direction_year: str
    flags: list[str]
    show_as_at: bool
    spc: dict = field(default_factory=dict)  # reports.spc_text.summary of the row's chart


def target_words(row: ScorecardRow) -> str:
    """The target and tolerance in force for the row, worded by the engine."""
    return rating.target_words(row.measure.as_definition(), row.target.as_spec() if row.target else None)


def line_for(row: ScorecardRow) -> Line:
    status = row.verdict.status
    return Line(
        row=row,
        verdict_words=VERDICT_WORDS[status],
        verdict_colour=VERDICT_COLOURS[status],
        target_words=target_words(row),
        direction_previous=DIRECTION_WORDS[row.direction_previous],
        direction_year=DIRECTION_WORDS[row.direction_year],
        flags=[FLAG_WORDS.get(f, str(f).replace("_", " ").capitalize()) for f in row.flags],
        show_as_at=row.observation is not None
        and (Flag.LAG in row.flags or row.observation.as_at is not None),
        spc=spc_text.summary(row.spc, row.measure.as_definition()),
    )


def verdict_counts(rows: list[ScorecardRow]) -> list[VerdictCount]:
    """How many measures got each verdict, in R1's order, leaving out zeros."""
    counts = Counter(str(row.verdict.status) for row in rows)
    return [
        VerdictCount(str(status), words, VERDICT_COLOURS[status], counts[status])
        for status, words in VERDICT_WORDS.items()
        if counts[status]
    ]


def latest_months(
    contracts: list[Contract], *, include_drafts: bool
) -> dict[int, periods.Period | None]:
    """``scorecard.latest_month`` for many contracts in one query (measure set id -> month)."""
    ids = [c.measure_set_id for c in contracts]
    found = (
        Observation.objects.visible(include_drafts)
        .filter(measure__measure_set__in=ids, period_end__lte=timezone.localdate())
        .values("measure__measure_set")
        .annotate(last=Max("period_end"))
    )
    months = {r["measure__measure_set"]: periods.month(r["last"].year, r["last"].month) for r in found}
    return {i: months.get(i) for i in ids}


class BadMonth(ValueError):
    pass


def parse_month(label: str) -> periods.Period:
    """A scorecard month from ``?period=``: only a month (YYYY-MM) will do (R13)."""
    try:
        period = periods.parse_period(label)
    except periods.PeriodError as exc:
        raise BadMonth(
            f"‘{label}’ is not a month. Enter the month as YYYY-MM, for example 2018-04."
        ) from exc
    if period.kind != "month":
        raise BadMonth(
            f"‘{label}’ is a {period.kind.replace('_', ' ')}, not a month. "
            "Enter the month as YYYY-MM, for example 2018-04."
        )
    return period


def month_or_404(label: str) -> periods.Period:
    """The month a URL or form names, or 404: a page for a month that is not one does not exist."""
    try:
        return parse_month(label.strip())
    except BadMonth as exc:
        raise Http404(str(exc)) from exc


def contract_for(request: HttpRequest, slug: str) -> Contract:
    """A contract the user may view, or 404 (never a hint that it exists)."""
    contract = access.contract_for(request.user, slug)
    if not access.may(request.user, access.Do.VIEW, contract):
        raise Http404("No such contract.")
    return contract


def month_or_latest(label: str, contract: Contract, *, include_drafts: bool) -> tuple[periods.Period, bool]:
    """The month asked for (``BadMonth`` if it is not one), else the month of the latest
    figure the viewer may see, else this month; and whether any figure exists."""
    if label:
        return parse_month(label), True
    latest = latest_month(contract.measure_set, include_drafts=include_drafts)
    today = timezone.localdate()
    return latest or periods.month(today.year, today.month), latest is not None


@login_required
def home(request: HttpRequest) -> HttpResponse:
    contracts = list(access.contracts_for(request.user))
    months = latest_months(contracts, include_drafts=access.may_see_drafts(request.user))
    lines = [ContractLine(c, months[c.measure_set_id]) for c in contracts]
    return render(request, "reports/home.html", {"lines": lines})


@login_required
def scorecard(request: HttpRequest, slug: str) -> HttpResponse:
    contract = contract_for(request, slug)
    include_drafts = access.may_see_drafts(request.user, contract)
    context: dict[str, object] = {"contract": contract}
    label = request.GET.get("period", "").strip()
    try:
        month, has_figures = month_or_latest(label, contract, include_drafts=include_drafts)
    except BadMonth as exc:
        context.update(error=str(exc), period_value=label)
        return render(request, "reports/scorecard.html", context, status=400)

    rows = build_scorecard(contract.measure_set, month, include_drafts=include_drafts)
    lines = [line_for(row) for row in rows]
    context.update(
        month=month,
        period_value=month.label,
        lines=lines,
        counts=verdict_counts(rows),
        has_figures=has_figures,
        shows_drafts=any(Flag.DRAFT in row.flags for row in rows),
    )
    return render(request, "reports/scorecard.html", context)


@login_required
def scorecard_xlsx(request: HttpRequest, slug: str) -> HttpResponse:
    contract = contract_for(request, slug)
    include_drafts = access.may_see_drafts(request.user, contract)
    try:
        month, _ = month_or_latest(
            request.GET.get("period", "").strip(), contract, include_drafts=include_drafts
        )
    except BadMonth as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    rows = build_scorecard(contract.measure_set, month, include_drafts=include_drafts)
    response = HttpResponse(
        exports.scorecard_workbook(contract, month, rows),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{contract.slug}-scorecard-{month.label}.xlsx"'
    return response


# --- the dashboard ------------------------------------------------------------------------


class DashboardForm(forms.Form):
    period = forms.CharField(required=False, label="Month")
    kind = forms.ChoiceField(
        required=False, label="Kind", choices=[("", "All kinds"), *Kind.choices]
    )
    verdict = forms.ChoiceField(
        required=False, label="Verdict", choices=[("", "All verdicts"), *VERDICT_WORDS.items()]
    )

    def clean_period(self) -> str:
        label = self.cleaned_data["period"].strip()
        if label:
            try:
                parse_month(label)
            except BadMonth as exc:
                raise forms.ValidationError(str(exc)) from exc
        return label


@dataclass(frozen=True)
class DashboardLine:
    line: Line
    sparkline: str
    status: str
    kind: str
    kind_words: str


def sparkline_for(series: Series) -> str:
    values = sparkline_values(series)
    if not values:
        return ""
    shown = series.points[-13:]
    # An annual target beside a figure to date would mislead: cumulative measures have none.
    target = None if series.definition.cumulative else next(
        (float(t.bounds.target) for t in reversed(series.targets) if t.bounds.target is not None),
        None,
    )
    title = (
        f"Trend of {series.code}: {len(shown)} figure{'s' if len(shown) != 1 else ''} from "
        f"{period_words(shown[0].period)} to {period_words(shown[-1].period)}, "
        f"latest {shown[-1].shown}"
    )
    return charts.sparkline_svg(f"spark-{series.slug}", values, title=title, target=target)


@login_required
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    contract = contract_for(request, slug)
    include_drafts = access.may_see_drafts(request.user, contract)
    form = DashboardForm(request.GET)
    context: dict[str, object] = {"contract": contract, "form": form}
    if not form.is_valid():
        return render(request, "reports/dashboard.html", context, status=400)
    month, has_figures = month_or_latest(
        form.cleaned_data["period"], contract, include_drafts=include_drafts
    )
    kind, verdict = form.cleaned_data["kind"], form.cleaned_data["verdict"]

    everything = []
    for measure in measures_with_history(contract.measure_set, month, include_drafts=include_drafts):
        row = build_row(measure, month, measure.visible_history)
        series = series_for(measure)
        everything.append(
            DashboardLine(
                line=line_for(row),
                sparkline=sparkline_for(series),
                status=str(row.verdict.status),
                kind=measure.kind,
                kind_words=Kind(measure.kind).label,
            )
        )
    shown = [
        d for d in everything if (not kind or d.kind == kind) and (not verdict or d.status == verdict)
    ]
    rows = [d.line.row for d in everything]
    context.update(
        month=month,
        lines=shown,
        total=len(everything),
        counts=verdict_counts(rows),
        has_figures=has_figures,
        filtered=bool(kind or verdict),
        shows_drafts=any(Flag.DRAFT in row.flags for row in rows),
        kind=kind,
        verdict=verdict,
    )
    return render(request, "reports/dashboard.html", context)


# --- a measure's page ---------------------------------------------------------------------


def measure_with_history(
    contract: Contract, slug: str, month: periods.Period, *, include_drafts: bool
) -> Measure:
    """One measure prefetched as ``measures_with_history`` prefetches a whole set, or 404."""
    measure = (
        with_history(
            Measure.objects.filter(measure_set=contract.measure_set_id, slug=slug),
            month,
            include_drafts=include_drafts,
        )
        .prefetch_related(Prefetch("comparators", queryset=Comparator.objects.order_by("period_end", "group")))
        .first()
    )
    if measure is None:
        raise Http404("No such measure.")
    return measure


def official_only(series: Series) -> Series:
    """The series as the committee report sees it: official figures only (R14, R18)."""
    return replace(series, points=tuple(p for p in series.points if p.official))


def _commentary_state(series: Series, month: periods.Period, stored: MeasureCommentary | None) -> dict:
    official = official_only(series)
    statements = commentary.draft(official, month)
    drafted = commentary.paragraph(statements)
    return {
        "statements": statements,
        "drafted": drafted,
        "stored": stored,
        "stale": stored is not None and stored.drafted_text != drafted,
        "text": stored.text if stored else drafted,
    }


class CommentaryForm(forms.Form):
    period = forms.CharField()
    text = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}), label="Commentary",
    )
    decision = forms.ChoiceField(choices=[("accept", "accept"), ("edit", "edit")])

    def clean_period(self) -> str:
        try:
            return parse_month(self.cleaned_data["period"].strip()).label
        except BadMonth as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self) -> dict:
        data = super().clean()
        if data.get("decision") == "edit" and not (data.get("text") or "").strip():
            self.add_error("text", "Enter the commentary, or accept the drafted one.")
        return data


@login_required
def measure_page(request: HttpRequest, slug: str, measure: str) -> HttpResponse:
    contract = contract_for(request, slug)
    include_drafts = access.may_see_drafts(request.user, contract)
    label = request.GET.get("period", "").strip()
    try:
        month, _ = month_or_latest(label, contract, include_drafts=include_drafts)
    except BadMonth as exc:
        raise Http404(str(exc)) from exc
    return _measure_response(request, contract, measure, month, include_drafts=include_drafts)


def _measure_response(
    request: HttpRequest,
    contract: Contract,
    slug: str,
    month: periods.Period,
    *,
    include_drafts: bool,
    form: CommentaryForm | None = None,
    rebase_form: RebaseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    m = measure_with_history(contract, slug, month, include_drafts=include_drafts)
    series = series_for(m, list(m.comparators.all()))
    row = build_row(m, month, m.visible_history)
    entries = (
        Entry.objects.filter(measure=m, monthly_return__contract=contract)
        .select_related("monthly_return")
        .prefetch_related("actions")
        .order_by("-monthly_return__period_start")
    )
    if not include_drafts:  # R14: a return's narratives are official once signed off
        entries = entries.filter(monthly_return__state=ReturnState.SIGNED_OFF)
    stored = (
        MeasureCommentary.objects.filter(measure=m, period=month.label)
        .select_related("reviewed_by")
        .first()
    )
    state = _commentary_state(series, month, stored)
    may_edit = may_edit_report(request.user, contract)
    if form is None and may_edit:
        form = CommentaryForm(initial={"period": month.label, "text": state["text"]})
    may_rebase = may_record_rebase(request.user, contract)
    if rebase_form is None and may_rebase:
        rebase_form = RebaseForm()
    line = line_for(row)
    points = [
        {
            "point": p,
            "period": period_words(p.period),
            "verdict_words": VERDICT_WORDS[p.status],
            "verdict_colour": VERDICT_COLOURS[p.status],
            "as_at": day_words(p.as_at) if p.as_at else "",
            "numerator": plain_number(p.numerator),
            "denominator": plain_number(p.denominator),
            "second": (
                f"{p.second_source or 'A second source'}: "
                f"{rating.format_value(m.as_definition(), p.second_value)}"
                if p.second_value is not None
                else ""
            ),
            "flags": [FLAG_WORDS.get(f, f) for f in p.flags] + ([] if p.official else ["Draft"]),
        }
        for p in reversed(series.points)
    ]
    context = {
        "contract": contract,
        "measure": m,
        "month": month,
        "line": line,
        "latest_period": period_words(m.parse_period(row.period)) if row.period else "",
        "kind_words": Kind(m.kind).label,
        "chart": chart_spec(series, month, chart_id=f"chart-{m.slug}", spc_chart=row.spc),
        "spc": line.spc,
        "rebases": rebases_recorded(m),
        "may_rebase": may_rebase,
        "rebase_form": rebase_form,
        "points": points,
        "series": series,
        "targets": [
            {"span": t, "from": day_words(t.valid_from), "to": day_words(t.valid_to) if t.valid_to else ""}
            for t in series.targets
        ],
        "comparators": [
            {"c": c, "value": rating.format_value(m.as_definition(), c.value)}
            for c in sorted(series.comparators, key=lambda c: (c.period_end, c.group), reverse=True)
        ],
        "breaks": series.breaks,
        "gaps": [{"from": day_words(g.start), "to": day_words(g.end), "reason": g.reason} for g in series.gaps],
        "entries": entries,
        "commentary": state,
        "may_edit": may_edit,
        "form": form,
        "shows_drafts": include_drafts and any(not p.official for p in series.points),
    }
    return render(request, "reports/measure.html", context, status=status)


@login_required
@require_POST
def commentary_review(request: HttpRequest, slug: str, measure: str) -> HttpResponse:
    """Accept the drafted commentary as it stands, or save an edited version (who, when)."""
    contract = contract_for(request, slug)
    if not may_edit_report(request.user, contract):
        raise PermissionDenied("Only the council's commissioners and admins review the commentary.")
    include_drafts = access.may_see_drafts(request.user, contract)
    form = CommentaryForm(request.POST)
    if not form.is_valid():
        return _measure_response(
            request, contract, measure, month_or_404(request.POST.get("period", "")),
            include_drafts=include_drafts,
            form=form, status=400,
        )
    month = parse_month(form.cleaned_data["period"])
    m = measure_with_history(contract, measure, month, include_drafts=False)
    state = _commentary_state(series_for(m, list(m.comparators.all())), month, None)
    accept = form.cleaned_data["decision"] == "accept"
    text = state["drafted"] if accept else form.cleaned_data["text"].strip()
    MeasureCommentary.objects.update_or_create(
        measure=m,
        period=month.label,
        defaults={
            "text": text,
            "drafted_text": state["drafted"],
            "state": (
                MeasureCommentary.State.ACCEPTED
                if accept or text == state["drafted"]
                else MeasureCommentary.State.EDITED
            ),
            "reviewed_by": request.user,
            "reviewed_at": timezone.now(),
        },
    )
    messages.success(
        request,
        f"The commentary on {m.code} for {period_words(month)} is "
        f"{'accepted as drafted' if accept else 'saved'}.",
    )
    url = reverse("measure", args=[contract.slug, m.slug])
    return redirect(f"{url}?period={month.label}#commentary")


# --- rebasing a measure's process limits ---------------------------------------------------


class RebaseForm(forms.Form):
    """A rebase as a person records it: the period the changed process starts, and why."""

    from_period = forms.CharField(
        label="From period",
        error_messages={"required": "Enter the period the changed process starts, for example 2018-04."},
    )
    reason = forms.CharField(
        label="Why the process changed",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Say why the process limits are recalculated."},
    )


@dataclass(frozen=True)
class RecordedRebase:
    rebase: Rebase
    by: str
    at: str


def rebases_recorded(measure: Measure) -> list[RecordedRebase]:
    """The measure's rebases (prefetched) with who recorded each and when, from their
    history: one query."""
    rebases = list(measure.rebases.all())
    if not rebases:
        return []
    made = {
        h.id: h
        for h in Rebase.history.filter(id__in=[r.pk for r in rebases], history_type="+")
        .select_related("history_user")
    }
    out = []
    for r in rebases:
        h = made.get(r.pk)
        who = h.history_user.get_username() if h and h.history_user else "someone no longer here"
        when = day_words(timezone.localtime(h.history_date).date()) if h else ""
        out.append(RecordedRebase(r, who, when))
    return out


@login_required
@require_POST
def record_rebase(request: HttpRequest, slug: str, measure: str) -> HttpResponse:
    """Record that a measure's process changed from a period on, with the reason: its
    process limits are recalculated from there (kpis.spc), the earlier ones stay on the
    chart, and the history keeps who and when."""
    contract = contract_for(request, slug)
    if not may_record_rebase(request.user, contract):
        raise PermissionDenied("Only the council's commissioners and admins record a rebase.")
    include_drafts = access.may_see_drafts(request.user, contract)
    month = month_or_404(request.POST.get("period", ""))
    form = RebaseForm(request.POST)
    m = measure_with_history(contract, measure, month, include_drafts=include_drafts)
    if form.is_valid():
        written = form.cleaned_data["from_period"].strip()
        try:
            written = m.parse_period(written).label  # "2018-4" is 2018-04 (R11)
        except periods.PeriodError:
            pass  # full_clean says what is wrong with it
        rebase = Rebase(measure=m, from_period=written, reason=form.cleaned_data["reason"].strip())
        try:
            rebase.full_clean(validate_constraints=False)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                for error in errors:
                    form.add_error(name if name in form.fields else None, error)
        else:
            already = f"{m.code} is already rebased from {rebase.from_period}."
            if m.rebases.filter(from_period=rebase.from_period).exists():
                form.add_error("from_period", already)
            else:
                try:
                    with transaction.atomic():
                        rebase.save()
                except IntegrityError:  # recorded by someone else meanwhile
                    form.add_error("from_period", already)
                    return _measure_response(
                        request, contract, measure, month, include_drafts=include_drafts,
                        rebase_form=form, status=400,
                    )
                messages.success(
                    request,
                    f"{m.code} is rebased from {rebase.from_period}: its process limits are "
                    "recalculated from there, and the earlier limits stay on the chart.",
                )
                url = reverse("measure", args=[contract.slug, m.slug])
                return redirect(f"{url}?period={month.label}#spc")
    return _measure_response(
        request, contract, measure, month, include_drafts=include_drafts,
        rebase_form=form, status=400,
    )
