"""The API's lists are paginated one way (REST_FRAMEWORK's DEFAULT_PAGINATION_CLASS).

In its own module: DRF reads the setting when its views module is first imported, so the
class cannot live in a module that imports those views (contracts.api).
"""

from rest_framework.pagination import PageNumberPagination


class Pages(PageNumberPagination):
    """`{"count", "next", "previous", "results"}`: `?page=` from 1, and `?page_size=` up
    to 200 (50 when not given)."""

    page_size_query_param = "page_size"
    page_size_query_description = "How many results a page holds: 1 to 200 (default 50)."
    max_page_size = 200
