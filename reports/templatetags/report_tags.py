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


@register.filter
def paragraphs(text: str) -> list[str]:
    """Text split into paragraphs at blank lines."""
    return [" ".join(p.split()) for p in (text or "").replace("\r\n", "\n").split("\n\n") if p.strip()]
