"""The API's lists are paginated one way (REST_FRAMEWORK's DEFAULT_PAGINATION_CLASS).

In its own module: DRF reads the setting when its views module is first imported, so the
class cannot live in a module that imports those views (contracts.api).
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

WHOLE_NUMBER = re.compile(r"[0-9]+")


class Pages(PageNumberPagination):
    """`{"count", "next", "previous", "results"}`: `?page=` from 1, and `?page_size=` up
    to 200 (50 when not given; a larger one is read as 200).

    A malformed `page` or `page_size` (not a whole number from 1) is refused with a 400
    naming the parameter and what was written, as a bad filter value is; a page past the
    last is a 404. Left blank, either is as if not given, as a blank filter is.
    """

    page_size_query_param = "page_size"
    max_page_size = 200
    # Only numbered pages: one way to ask for a page, as the schema documents it.
    last_page_strings = ()

    def query_parameters(self) -> dict[str, tuple[dict[str, Any], str]]:
        """Each query parameter's schema and description (for lists and the scorecard)."""
        return {
            self.page_query_param: (
                {"type": "integer", "minimum": 1},
                "The page: a whole number from 1 (default 1). A page past the last is a 404.",
            ),
            self.page_size_query_param: (
                {"type": "integer", "minimum": 1},
                f"How many results a page holds: a whole number from 1 (default "
                f"{self.page_size}); above {self.max_page_size}, {self.max_page_size}.",
            ),
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "required": False,
                "in": "query",
                "description": description,
                "schema": schema,
            }
            for name, (schema, description) in self.query_parameters().items()
        ]

    def asked(self, request: Request) -> dict[str, int | None]:
        """`page` and `page_size` as whole numbers from 1 (None when not given or blank),
        or a 400 naming each one malformed and what was written."""
        rules = {
            self.page_query_param: ("a page number", "a whole number from 1"),
            self.page_size_query_param: (
                "a page size",
                f"a whole number from 1 ({self.max_page_size} at most are shown a page)",
            ),
        }
        asked: dict[str, int | None] = {}
        errors: dict[str, list[str]] = {}
        for name, (what, allowed) in rules.items():
            written = request.query_params.get(name, "")
            if written == "":
                asked[name] = None
            elif WHOLE_NUMBER.fullmatch(written) and int(written) >= 1:
                asked[name] = int(written)
            else:
                errors[name] = [f"'{written}' is not {what}: write {allowed}."]
        if errors:
            raise ValidationError(errors)
        return asked

    def get_page_size(self, request: Request) -> int:
        asked = self.asked(request)[self.page_size_query_param]
        return self.page_size if asked is None else min(asked, self.max_page_size)

    def get_page_number(self, request: Request, paginator: Any) -> int:
        return self.asked(request)[self.page_query_param] or 1
