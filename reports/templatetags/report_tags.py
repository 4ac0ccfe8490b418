"""Template filters for the dashboard, measure page and report: ``{% load report_tags %}``.

Charts come from the one renderer, ``reports.charts``; words from ``kpis.words``. The
icon beside a verdict only repeats its words (never colour or icon alone, WCAG 1.4.1).
"""

from __future__ import annotations

import base64
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from kpis.rating import Status
from kpis.words import VERDICT_COLOURS, VERDICT_WORDS
from reports import charts

register = template.Library()

# A shape per verdict, hidden from assistive technology: the words beside it say it all.
VERDICT_ICONS: dict[str, str] = {
    Status.ON_TARGET: "✓",
    Status.WITHIN_TOLERANCE: "!",
    Status.OUTSIDE_TOLERANCE: "✗",
    Status.ON_TRACK: "✓",
    Status.OFF_TRACK: "✗",
    Status.NOT_RATED: "–",
    Status.NO_DATA: "?",
    Status.CANNOT_RATE: "⚠",
}


@register.filter
def chart_svg(spec: dict[str, Any]) -> str:
    """The history chart of a measure as accessible inline SVG."""
    return mark_safe(charts.history_svg(spec))  # noqa: S308 - built from escaped parts


@register.filter
def chart_img(spec: dict[str, Any]) -> str:
    """The same chart as a PNG image, for the PDF: WeasyPrint draws SVG in Python, a
    second or more per chart, while a picture costs next to nothing."""
    data = base64.b64encode(charts.history_png(spec)).decode("ascii")
    return format_html(
        '<img class="app-chart__img" src="data:image/png;base64,{}" alt="{}">',
        data,
        f"{spec['title']}. {spec['desc']}",
    )


@register.filter
def verdict_badge(status: str) -> str:
    """The verdict as a tag: icon (decorative), words, and a colour that repeats them."""
    return format_html(
        '<strong class="govuk-tag govuk-tag--{} app-verdict">'
        '<span class="app-verdict__icon" aria-hidden="true">{}</span> {}</strong>',
        VERDICT_COLOURS.get(status, "grey"),
        VERDICT_ICONS.get(status, ""),
        VERDICT_WORDS.get(status, str(status)),
    )


# Statistical process control icons, after Making Data Count's: a circle whose colour,
# letter and shape repeat the words beside them (never alone, WCAG 1.4.1). Variation:
# H or L for a special cause on the high or low side (blue improving, orange concerning,
# purple neither), a level wavy line for common cause, three dots for too little data.
# Assurance: P (passing), F (failing), ? (hit and miss); against the tolerance W (within),
# O (outside). Hidden from assistive technology; the words are the text alternative.
SPC_COLOURS = {
    "special_cause_improving": "#1d70b8",
    "special_cause_concerning": "#b35900",
    "special_cause_neither": "#4c2c92",
    "consistently_passing": "#1d70b8",
    "consistently_within": "#1d70b8",
    "consistently_failing": "#b35900",
    "consistently_outside": "#b35900",
}
GREY = "#505a5f"
ASSURANCE_LETTERS = {
    "consistently_passing": "P",
    "consistently_failing": "F",
    "hit_and_miss": "?",
    "consistently_within": "W",
    "consistently_outside": "O",
}


def _svg(inner: str, name: str) -> str:
    return (
        f'<svg class="app-spc__icon app-spc__icon--{name}" xmlns="http://www.w3.org/2000/svg" '
        'viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">'
        f"{inner}</svg>"
    )


def _letter(letter: str, colour: str) -> str:
    return (
        f'<text x="12" y="16.5" text-anchor="middle" font-family="DejaVu Sans, Arial, sans-serif" '
        f'font-size="13" font-weight="bold" fill="{colour}">{letter}</text>'
    )


def variation_svg(variation: str | None, side: str | None) -> str:
    if variation in ("special_cause_improving", "special_cause_concerning", "special_cause_neither"):
        colour = SPC_COLOURS[variation]
        letter = "L" if side == "low" else "H"
        return _svg(f'<circle cx="12" cy="12" r="11" fill="{colour}"/>' + _letter(letter, "#ffffff"),
                    variation.replace("_", "-"))
    if variation == "common_cause":
        return _svg(
            f'<circle cx="12" cy="12" r="10.5" fill="#ffffff" stroke="{GREY}" stroke-width="2"/>'
            f'<polyline points="5,12 8,9 11,14 14,10 17,13 19,11" fill="none" stroke="{GREY}" '
            'stroke-width="1.8" stroke-linejoin="round"/>',
            "common-cause",
        )
    if variation == "insufficient_data":
        dots = "".join(f'<circle cx="{x}" cy="12" r="1.8" fill="{GREY}"/>' for x in (7, 12, 17))
        return _svg(
            f'<circle cx="12" cy="12" r="10.5" fill="#ffffff" stroke="{GREY}" stroke-width="2" '
            f'stroke-dasharray="3 2"/>{dots}',
            "insufficient-data",
        )
    return ""


def assurance_svg(value: str | None) -> str:
    letter = ASSURANCE_LETTERS.get(value or "")
    if letter is None:
        return ""
    colour = SPC_COLOURS.get(value or "", GREY)
    return _svg(
        f'<circle cx="12" cy="12" r="10.5" fill="#ffffff" stroke="{colour}" stroke-width="2.5"/>'
        + _letter(letter, colour),
        (value or "").replace("_", "-"),
    )


def _badge(svg: str, words: str, *, hidden_words: bool) -> str:
    words_class = "govuk-visually-hidden" if hidden_words else "app-spc__words"
    return format_html(
        '<span class="app-spc">{}<span class="{}">{}</span></span>',
        mark_safe(svg),  # noqa: S308 - built above from fixed parts
        words_class,
        words,
    )


@register.filter
def variation_badge(summary: dict[str, Any] | None, hide: str = "") -> str:
    """The variation icon with its words (``reports.spc_text.summary``); ``"hide"`` keeps
    the words for screen readers only."""
    if not summary:
        return ""
    return _badge(
        variation_svg(summary.get("variation"), summary.get("variation_side")),
        summary["variation_words"],
        hidden_words=hide == "hide",
    )


@register.filter
def assurance_badge(summary: dict[str, Any] | None, hide: str = "") -> str:
    """The assurance against the target: icon and words."""
    if not summary:
        return ""
    return _badge(
        assurance_svg(summary.get("assurance")),
        summary["assurance_words"],
        hidden_words=hide == "hide",
    )


@register.filter
def tolerance_badge(summary: dict[str, Any] | None, hide: str = "") -> str:
    """The assurance against the tolerance: icon and words."""
    if not summary:
        return ""
    return _badge(
        assurance_svg(summary.get("tolerance_assurance")),
        summary["tolerance_words"],
        hidden_words=hide == "hide",
    )


@register.filter
def paragraphs(text: str) -> list[str]:
    """Text split into paragraphs at blank lines."""
    return [" ".join(p.split()) for p in (text or "").replace("\r\n", "\n").split("\n\n") if p.strip()]
