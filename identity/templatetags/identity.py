"""Template helpers: whether single sign-on is on, and whether to show the People link."""

from typing import Any

from django import template

from identity.backends import sso_enabled as _sso_enabled
from identity.people import may_manage_people as _may_manage_people

register = template.Library()


@register.simple_tag
def sso_enabled() -> bool:
    return _sso_enabled()


@register.simple_tag
def may_manage_people(user: Any) -> bool:
    return bool(user.is_authenticated) and _may_manage_people(user)


# What each role may do, in the README's words (contracts.access decides it).
ROLE_HINTS = {
    "provider_editor": "Sees draft figures, enters figures and narratives, answers queries.",
    "provider_lead": "As a provider editor, and submits the return.",
    "commissioner": "Sees drafts, queries, signs off and reopens returns, approves target revisions.",
    "admin": "Sees drafts, opens returns, drafts target revisions, and manages these people.",
    "reader": "Sees official (signed-off) figures and reports only.",
    "officer": "Keeps the retained-service datasets; otherwise reads like a reader.",
}


@register.filter
def role_hint(role: str) -> str:
    return ROLE_HINTS.get(str(role), "")
