"""The scrutiny-committee report for a contract and month, as plain data.

``build_report`` reads everything in a fixed number of queries (whatever the number of
measures and periods) and returns a JSON-able dict: the same dict is rendered as the HTML
page, the PDF and the Word document (``reports.render``), and stored as a published
report's snapshot, so a published report can be drawn again exactly as it was.

The structure follows the reference report: purpose, background, current position (one
block per measure: heading with code, title, target and tolerance; chart; figures; its
statistical process control, variation and assurance, in icons and words; the signed-off
narrative; a closing verdict sentence in R10's words), the retained services'
tables, assurance and improvement activity, future developments, recommendations and
background papers.

Only official figures appear (R14, R18) unless the report is a draft: then draft figures,
unsigned narratives and drafted commentary appear too, and every page says DRAFT.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from contracts.models import Contract, Entry, ReturnState, TargetRevision
from kpis import periods, rating
from kpis.models import Comparator, Flag, Kind
from kpis.scorecard import ScorecardRow, build_row, measures_with_history
from kpis.words import DIRECTION_WORDS, FLAG_WORDS, VERDICT_COLOURS, VERDICT_WORDS
from reports import commentary, spc_text
from reports.models import MeasureCommentary, ReportText, Section
from reports.series import Series, chart_spec, day_words, period_words, plain_number, series_for
from retained_services.models import AdmissionsFigure, Dataset, EHEFigure

Status = rating.Status
DATA_VERSION = 1

# Generic defaults for the editable sections, from the reference's wording with every
# council-specific name taken out: {provider} and {commissioner} come from the contract.
DEFAULT_TEXTS: dict[str, str] = {
    Section.COMMITTEE: "Scrutiny Committee",
    Section.REPORT_OF: "Report of the Director of Children's Services",
    Section.PURPOSE: (
        "To provide performance information in relation to {provider} and the commissioning "
        "arrangements in the Council, offer assurance over progress and any issues that "
        "arise, in the context of the scope of service and performance indicators set out in "
        "the service contract.\n\n"
        "To provide performance information in relation to the retained services within the "
        "Council relating to children and education."
    ),
    Section.BACKGROUND: (
        "The contractual performance of {provider} is monitored monthly by {commissioner} "
        "through its commissioning and performance governance.\n\n"
        "The performance information relating to retained functions is also monitored "
        "monthly, subject to the information being available given the termly and annual "
        "nature of some of it."
    ),
    Section.CURRENT_POSITION: (
        "The commissioning and performance groups meet monthly to consider information and "
        "progress made.\n\n"
        "This report includes the key performance indicators for {provider}, the supporting "
        "measures and management information. The target and tolerance in force for each "
        "measure are given with it.\n\n"
        "Information on retained services includes key areas of performance for "
        "consideration."
    ),
    Section.FUTURE: (
        "The key performance indicators, supporting measures and their targets are reviewed "
        "with {provider} each year, and revised targets are agreed for the new financial "
        "year.\n\n"
        "The dataset will be reviewed further throughout the year to consider how it can be "
        "enhanced, including qualitative measures that add value to the current dataset."
    ),
    Section.RECOMMENDATIONS: (
        "The Committee is asked to consider and comment on the performance to date."
    ),
    Section.BACKGROUND_PAPERS: "Guide to governance and contractual arrangements.",
}
SECTION_ORDER = [s.value for s in Section]


def default_text(section: str, contract: Contract) -> str:
    return DEFAULT_TEXTS[section].format(
        provider=contract.provider.name, commissioner=contract.commissioner.name
    )


@dataclass(frozen=True)
class TextInForce:
    section: str
    label: str
    text: str
    source: str  # "saved" (this month), "carried" (an earlier month's), "default"
    saved_period: str | None
    updated_by: str | None
    updated_at: str | None


def texts_in_force(contract: Contract, month: periods.Period) -> dict[str, TextInForce]:
    """Each editable section's text for the month: this month's, else the latest earlier
    month's, else the generic default. One query."""
    saved = (
        ReportText.objects.filter(contract=contract, period__lte=month.label)
        .select_related("updated_by")
        .order_by("section", "period")
    )
    latest: dict[str, ReportText] = {}
    for text in saved:
        latest[text.section] = text
    out = {}
    for section in Section:
        text = latest.get(section.value)
        if text is None:
            out[section.value] = TextInForce(
                section.value, section.label, default_text(section.value, contract), "default",
                None, None, None,
            )
        else:
            out[section.value] = TextInForce(
                section.value,
                section.label,
                text.text,
                "saved" if text.period == month.label else "carried",
                text.period,
                text.updated_by.get_username() if text.updated_by else None,
                _when(text.updated_at),
            )
    return out


# --- wording ---------------------------------------------------------------------------


def _when(moment) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%B %Y, %H:%M}"


def target_parts(defn: rating.Definition, spec: rating.TargetSpec | None) -> tuple[str, str]:
    """The engine's target words split for a heading: ("95%", "tolerance from 85%")."""
    words = rating.target_words(defn, spec)
    if words == "No target":
        return words, ""
    target, _, tolerance = words.partition(", ")
    return target, tolerance


def heading_lines(defn: rating.Definition, spec: rating.TargetSpec | None) -> list[str]:
    target, tolerance = target_parts(defn, spec)
    if target == "No target":
        return ["No target or tolerance set"]
    lines = [target if target.startswith("No target") else f"Target {target}"]
    if tolerance:
        lines.append(tolerance[0].upper() + tolerance[1:])
    return lines


def closing_sentence(month: periods.Period, row: ScorecardRow) -> str:
    """The verdict in R10's polarity-neutral words, with the target in force:
    "At the end of April 2018 this measure is not meeting target but within tolerance
    (target 95%)."."""
    status = row.verdict.status
    when = f"At the end of {period_words(month)}"
    if status == Status.NO_DATA:
        return f"{when} there is {rating.sentence(status)}."
    if status in (Status.NOT_RATED, Status.CANNOT_RATE):
        verb = "is " if status == Status.NOT_RATED else ""
        return f"{when} this measure {verb}{rating.sentence(status)}."
    defn = row.measure.as_definition()
    target, tolerance = target_parts(defn, row.target.as_spec() if row.target else None)
    bracket = (
        f"({target[0].lower()}{target[1:]}, {tolerance})"
        if target.startswith("No target")
        else f"(target {target})"
    )
    lag = ""
    if row.observation is not None and Flag.LAG in row.flags:
        period = period_words(measure_period(row))
        as_at = f", as at {day_words(row.observation.as_at)}" if row.observation.as_at else ""
        lag = f", on its latest figure ({period}{as_at})"
    return f"{when} this measure is {rating.sentence(status)} {bracket}{lag}."


def measure_period(row: ScorecardRow) -> periods.Period:
    assert row.observation is not None
    return row.measure.parse_period(row.observation.period)


def _percent(value: Decimal | None) -> str:
    if value is None:
        return "n/a"
    return f"{value.quantize(Decimal('0.1'))}%"


def _int(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


# --- the measures -----------------------------------------------------------------------


def _target_change(series: Series, month: periods.Period, revisions: list[TargetRevision]) -> str:
    """R16: say where a target changed during the report's financial year."""
    year = periods.year_of(month, "financial")
    spans = list(series.targets)
    notes = []
    for before, after in zip(spans, spans[1:], strict=False):
        if year.start < after.valid_from <= month.end:
            revision = next(
                (r for r in revisions if r.effective_date == after.valid_from), None
            )
            named = f" ({revision.title})" if revision else ""
            notes.append(
                f"The target changed during {year.label}: from {after.valid_from:%B %Y} it is "
                f"{after.words}{named}; before then it was {before.words}."
            )
    return " ".join(notes)


def _history(series: Series, last: int = 6) -> list[dict[str, Any]]:
    return [
        {
            "period": period_words(p.period),
            "value": p.shown,
            "verdict": VERDICT_WORDS[p.status],
            "status": p.status,
            "as_at": day_words(p.as_at) if p.as_at else "",
            "draft": not p.official,
        }
        for p in series.points[-last:]
    ]


def _figures(row: ScorecardRow, defn: rating.Definition) -> list[dict[str, str]]:
    obs = row.observation
    if obs is None:
        return []
    rows = [{"label": "Figure", "value": row.display_value}]
    rows.append({"label": "Period covered", "value": period_words(measure_period(row))})
    if obs.as_at:
        rows.append({"label": "As at", "value": day_words(obs.as_at)})
    if obs.numerator is not None:
        rows.append({"label": "Numerator", "value": plain_number(obs.numerator)})
    if obs.denominator is not None:
        rows.append({"label": "Denominator", "value": plain_number(obs.denominator)})
    if obs.second_value is not None:
        source = obs.second_source or "Second source"
        rows.append({"label": source, "value": rating.format_value(defn, obs.second_value)})
    rows.append({"label": "Since the previous figure", "value": DIRECTION_WORDS[row.direction_previous]})
    rows.append({"label": "Since a year earlier", "value": DIRECTION_WORDS[row.direction_year]})
    if row.flags:
        rows.append({"label": "Flags", "value": ", ".join(FLAG_WORDS.get(f, f) for f in row.flags)})
    return rows


def _commentary(
    series: Series, month: periods.Period, stored: MeasureCommentary | None
) -> dict[str, Any]:
    drafted = commentary.paragraph(commentary.draft(series, month))
    if stored is None:
        return {"text": drafted, "drafted_text": drafted, "state": "drafted", "stale": False,
                "by": None, "at": None}
    return {
        "text": stored.text,
        "drafted_text": drafted,
        "state": stored.state,
        "stale": stored.drafted_text != drafted,
        "by": stored.reviewed_by.get_username() if stored.reviewed_by else None,
        "at": _when(stored.reviewed_at),
    }


def measure_block(
    row: ScorecardRow,
    series: Series,
    month: periods.Period,
    *,
    number: str,
    entry: Entry | None,
    stored: MeasureCommentary | None,
    revisions: list[TargetRevision],
) -> dict[str, Any]:
    measure = row.measure
    defn = measure.as_definition()
    spec = row.target.as_spec() if row.target else None
    status = str(row.verdict.status)
    return {
        "number": number,
        "code": measure.code,
        "slug": measure.slug,
        "title": measure.title,
        "kind": measure.kind,
        "kind_words": Kind(measure.kind).label,
        "heading_lines": heading_lines(defn, spec),
        "target_words": rating.target_words(defn, spec),
        "period": row.period,
        "value": row.display_value if row.observation else "",
        "status": status,
        "verdict_words": VERDICT_WORDS[status],
        "verdict_colour": VERDICT_COLOURS[status],
        "reason": row.verdict.reason,
        "flags": list(row.flags),
        "flag_words": [FLAG_WORDS.get(f, f) for f in row.flags],
        "figures": _figures(row, defn),
        "note": row.observation.note if row.observation else "",
        "history": _history(series),
        "narrative": entry.variance_reason if entry else "",
        "no_data_reason": entry.no_data_reason if entry else "",
        "actions": [
            {
                "description": a.description,
                "owner": a.owner,
                "due": day_words(a.due_date) if a.due_date else "",
            }
            for a in (entry.actions.all() if entry else [])
        ],
        "commentary": _commentary(series, month, stored),
        "closing": closing_sentence(month, row),
        "target_change": _target_change(series, month, revisions),
        "comparability_note": measure.comparability_note,
        "chart": chart_spec(series, month, chart_id=f"chart-{measure.slug}", spc_chart=row.spc),
        # Statistical process control: variation and assurance, in words (kpis.spc).
        "spc": spc_text.summary(row.spc, defn),
    }


# --- retained services -----------------------------------------------------------------


def _admissions(datasets: list[Dataset], month: periods.Period) -> dict[str, Any] | None:
    years = sorted(
        (d for d in datasets if d.kind == Dataset.Kind.ADMISSIONS and int(d.year) <= month.start.year),
        key=lambda d: d.year,
    )[-3:]
    if not years:
        return None
    latest = years[-1]
    by_year = {d.year: {f.phase: f for f in d.admissions.all()} for d in years}
    rows = []
    sentences = []
    for phase, phase_words in AdmissionsFigure.Phase.choices:
        if not any(phase in by_year[d.year] for d in years):
            continue
        current = by_year[latest.year].get(phase)
        rows.append(
            {
                "label": f"{phase_words} 1st choice preference (number)",
                "values": [_int(getattr(by_year[d.year].get(phase), "first_choice_number", None)) for d in years],
                "target": "n/a",
                "region": "n/a",
                "england": "n/a",
            }
        )
        rows.append(
            {
                "label": f"{phase_words} 1st choice preference (%)",
                "values": [
                    _percent(getattr(by_year[d.year].get(phase), "first_choice_percent", None))
                    for d in years
                ],
                "target": _percent(current.target_percent if current else None),
                "region": _percent(current.region_percent if current else None),
                "england": _percent(current.england_percent if current else None),
            }
        )
        if current is not None and current.first_choice_percent is not None:
            sentences.append(_admissions_sentence(phase_words.lower(), latest.year, current, by_year, years))
    notes = _unique(d.note for d in years if d.note)
    return {
        "years": [d.year for d in years],
        "rows": rows,
        "sentences": sentences,
        "notes": notes,
        "draft": any(not d.is_final for d in years),
    }


def _admissions_sentence(phase: str, year: str, current: AdmissionsFigure, by_year, years) -> str:
    text = f"In {year}, {_percent(current.first_choice_percent)} of children achieved their first choice of {phase} school"
    if current.any_of_three_percent is not None:
        text += f", and {_percent(current.any_of_three_percent)} one of their first three choices"
    text += "."
    if len(years) > 1:
        before_year = years[-2].year
        before = by_year[before_year].get(current.phase)
        if before is not None and before.first_choice_percent is not None:
            a = current.first_choice_percent.quantize(Decimal("0.1"))
            b = before.first_choice_percent.quantize(Decimal("0.1"))
            if a == b:
                text += f" This is the same as in {before_year}."
            else:
                diff = abs(a - b)
                text += (
                    f" This is {'up' if a > b else 'down'} {diff} percentage point"
                    f"{'' if diff == 1 else 's'} on {before_year}."
                )
    comparisons = []
    for name, value in (("the regional figure", current.region_percent), ("England", current.england_percent)):
        if value is not None:
            a, b = current.first_choice_percent.quantize(Decimal("0.1")), value.quantize(Decimal("0.1"))
            relation = "above" if a > b else "below" if a < b else "the same as"
            comparisons.append(f"{relation} {name} ({_percent(value)})")
    if comparisons:
        text += f" It is {' and '.join(comparisons)}."
    return text


EHE_ROWS = (
    ("new_ehe", "Number of new EHE", "Termly"),
    ("new_year11_ehe", "Number of new Year 11 EHE", "Termly"),
    ("total_in_period", "Total number of EHE in period", "Yearly"),
)


def _ehe(datasets: list[Dataset], month: periods.Period) -> dict[str, Any] | None:
    def start(d: Dataset) -> int:
        return int(d.year[:4])

    academic = periods.year_of(month, "academic")
    years = sorted(
        (d for d in datasets if d.kind == Dataset.Kind.EHE and start(d) <= academic.start.year),
        key=start,
    )[-4:]
    if not years:
        return None
    groups = []
    for d in years:
        figures = {f.term: f for f in d.ehe.all()}
        columns = [
            (term, words)
            for term, words in EHEFigure.Term.choices
            if term in figures and term != EHEFigure.Term.YEAR
        ] + [(EHEFigure.Term.YEAR.value, "Year total")]
        groups.append({"year": d.year, "columns": columns, "figures": figures})
    header = [{"year": g["year"], "span": len(g["columns"]), "terms": [w for _, w in g["columns"]]} for g in groups]
    rows = []
    for field, label, frequency in EHE_ROWS:
        cells = []
        for g in groups:
            for term, _ in g["columns"]:
                figure = g["figures"].get(term)
                value = getattr(figure, field, None) if figure else None
                cells.append("" if value is None else f"{value:,}")
        rows.append({"label": label, "frequency": frequency, "cells": cells})
    notes = [f"{d.year}: {f.note}" for d in years for f in d.ehe.all() if f.note]
    notes += _unique(d.note for d in years if d.note)
    return {
        "header": header,
        "rows": rows,
        "notes": notes,
        "draft": any(not d.is_final for d in years),
    }


# --- the report --------------------------------------------------------------------------


def _entries(contract: Contract, month: periods.Period, *, draft: bool) -> dict[int, Entry]:
    entries = Entry.objects.filter(
        monthly_return__contract=contract, monthly_return__period=month.label
    ).prefetch_related("actions")
    if not draft:  # R14: only a signed-off return's narratives are official
        entries = entries.filter(monthly_return__state=ReturnState.SIGNED_OFF)
    return {e.measure_id: e for e in entries}


def build_report(
    contract: Contract, month: periods.Period, *, draft: bool, include_retained: bool = True
) -> dict[str, Any]:
    """The report's data (JSON-able), read in a fixed number of queries."""
    measures = measures_with_history(contract.measure_set, month, include_drafts=draft)
    comparators: dict[int, list[Comparator]] = defaultdict(list)
    for comp in Comparator.objects.filter(measure__measure_set=contract.measure_set_id):
        comparators[comp.measure_id].append(comp)
    entries = _entries(contract, month, draft=draft)
    stored = {
        c.measure_id: c
        for c in MeasureCommentary.objects.filter(
            measure__measure_set=contract.measure_set_id, period=month.label
        ).select_related("reviewed_by")
    }
    year = periods.year_of(month, "financial")
    revisions = list(
        TargetRevision.objects.filter(
            contract=contract,
            state=TargetRevision.State.APPROVED,
            effective_date__gte=year.start,
            effective_date__lte=month.end,
        ).order_by("effective_date")
    )
    texts = texts_in_force(contract, month)

    intro = [p for p in _paragraphs(texts[Section.CURRENT_POSITION].text)]
    for revision in revisions:
        intro.append(
            f"Targets and tolerances were revised from {revision.effective_date:%B %Y} "
            f"({revision.title}); each measure whose target changed says so."
        )
    numbered_intro = [{"number": f"3.{i}", "text": t} for i, t in enumerate(intro, start=1)]
    n = len(intro)

    blocks = []
    rows = []
    figures: dict[str, dict[str, str]] = {}
    for measure in measures:
        row = build_row(measure, month, measure.visible_history)
        series = series_for(measure, comparators.get(measure.pk, []))
        rows.append(row)
        n += 1
        blocks.append(
            measure_block(
                row, series, month, number=f"3.{n}", entry=entries.get(measure.pk),
                stored=stored.get(measure.pk), revisions=revisions,
            )
        )
        figures[measure.code] = _shown_figures(series)

    retained: dict[str, Any] = {"visible": include_retained, "admissions": None, "ehe": None}
    if include_retained:
        datasets = Dataset.objects.filter(council_id=contract.commissioner_id).prefetch_related(
            Prefetch("admissions", queryset=AdmissionsFigure.objects.order_by("phase")),
            Prefetch("ehe", queryset=EHEFigure.objects.order_by("term")),
        )
        if not draft:  # R14: retained figures are official once the dataset is final
            datasets = datasets.filter(is_final=True)
        datasets = list(datasets)
        retained["admissions"] = _admissions(datasets, month)
        if retained["admissions"]:
            n += 1
            retained["admissions"]["number"] = f"3.{n}"
        retained["ehe"] = _ehe(datasets, month)
        if retained["ehe"]:
            n += 1
            retained["ehe"]["number"] = f"3.{n}"

    assurance = []
    for block in blocks:
        if block["actions"]:
            assurance.append(
                {
                    "number": f"4.{len(assurance) + 1}",
                    "code": block["code"],
                    "title": block["title"],
                    "actions": block["actions"],
                }
            )

    counts = defaultdict(int)
    for row in rows:
        counts[str(row.verdict.status)] += 1
    return {
        "version": DATA_VERSION,
        "contract": {
            "slug": contract.slug,
            "name": contract.name,
            "commissioner": contract.commissioner.name,
            "provider": contract.provider.name,
        },
        "month": month.label,
        "month_words": period_words(month),
        "draft": draft,
        "built_at": _when(timezone.now()),
        "texts": {
            key: {"label": t.label, "text": t.text, "paragraphs": _paragraphs(t.text)}
            for key, t in texts.items()
        },
        "intro": numbered_intro,
        "counts": [
            {"status": str(s), "words": w, "colour": VERDICT_COLOURS[s], "count": counts[str(s)]}
            for s, w in VERDICT_WORDS.items()
            if counts[str(s)]
        ],
        "measures": blocks,
        "retained": retained,
        "assurance": assurance,
        "figures": figures,
    }


def _unique(texts) -> list[str]:
    """Notes said once, in order (every year's dataset often carries the same note)."""
    return list(dict.fromkeys(texts))


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


# --- what changed since publication ---------------------------------------------------


def _shown_figures(series: Series) -> dict[str, str]:
    return {p.period.label: p.shown for p in series.points}


def official_figures(contract: Contract, month: periods.Period) -> dict[str, dict[str, str]]:
    """Every official figure up to the month as the report shows it (``build_report``'s
    ``figures``), without drawing or drafting the rest of the report."""
    return {
        measure.code: _shown_figures(series_for(measure))
        for measure in measures_with_history(contract.measure_set, month, include_drafts=False)
    }


@dataclass(frozen=True)
class Change:
    code: str
    period: str
    published: str
    now: str

    @property
    def words(self) -> str:
        if not self.published:
            return f"{self.code} {self.period}: no figure when published, now {self.now}"
        if not self.now:
            return f"{self.code} {self.period}: published as {self.published}, no official figure now"
        return f"{self.code} {self.period}: published as {self.published}, now {self.now}"


def changes_since(
    old: dict[str, dict[str, str]], new: dict[str, dict[str, str]]
) -> list[Change]:
    """Figures that differ between a published snapshot's ``figures`` and the current
    official figures (``official_figures``) for the same periods, up to the report's month."""
    changes = []
    for code in sorted(set(old) | set(new)):
        before, after = old.get(code, {}), new.get(code, {})
        for period in sorted(set(before) | set(after)):
            if before.get(period) != after.get(period):
                changes.append(Change(code, period, before.get(period, ""), after.get(period, "")))
    return changes

