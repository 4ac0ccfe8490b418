"""Template filters that put verdicts, directions and flags into words: ``{% load verdicts %}``."""

from django import template
from django.utils.html import format_html

from kpis.words import DIRECTION_WORDS, FLAG_WORDS, VERDICT_COLOURS, VERDICT_WORDS

register = template.Library()


@register.filter
def verdict_words(status: str) -> str:
    return VERDICT_WORDS.get(status, str(status))


@register.filter
def verdict_tag(status: str) -> str:
    """A GOV.UK tag with the verdict's words; its colour only repeats them."""
    return format_html(
        '<strong class="govuk-tag govuk-tag--{}">{}</strong>',
        VERDICT_COLOURS.get(status, "grey"),
        VERDICT_WORDS.get(status, str(status)),
    )


@register.filter
def direction_words(direction: str) -> str:
    return DIRECTION_WORDS.get(direction, str(direction))


@register.filter
def flag_words(flag: str) -> str:
    return FLAG_WORDS.get(flag, str(flag).replace("_", " ").capitalize())
