"""Helpers for posting the revision pages' forms as a browser would."""

from __future__ import annotations

from typing import Any


def page_data(response: Any) -> dict[str, str]:
    """Everything the revision page's form would send back untouched."""
    data: dict[str, str] = {}
    for row in response.context["rows"]:
        form = row.form
        for field in form:
            value = field.value()
            if field.name == "confirm":
                if value and row.warnings:
                    data[field.html_name] = "on"
                continue
            data[field.html_name] = "" if value is None else str(value)
    return data


def line_data(response: Any, code: str, **changes: str) -> dict[str, str]:
    """The page's form with one measure's line changed (field name -> what is typed)."""
    data = page_data(response)
    row = next(r for r in response.context["rows"] if r.line.measure.code == code)
    for name, value in changes.items():
        key = row.form[name].html_name
        if name == "confirm":
            if value:
                data[key] = "on"
            else:
                data.pop(key, None)
        else:
            data[key] = value
    return data
