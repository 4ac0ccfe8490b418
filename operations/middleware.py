"""A request id for every request, and one access-log line for it.

The id comes from the ``X-Request-ID`` header when a proxy in front set a well-formed
one (8 to 128 letters, digits and ``-_.:+/=``), so the proxy's logs and ours agree;
otherwise a new one is made. It is on the response's ``X-Request-ID`` header, on
``request.request_id`` and on every line logged while the request is served
(``operations.logs``). First in ``MIDDLEWARE``, so the time measured is the whole
request's and every response, a redirect or an error included, carries the id.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import empty

from operations import logs

HEADER = "X-Request-ID"
WELL_FORMED = re.compile(r"[A-Za-z0-9._:+/=-]{8,128}")

access_log = logging.getLogger("operations.access")


def request_id_for(request: HttpRequest) -> str:
    offered = request.headers.get(HEADER, "")
    if WELL_FORMED.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def user_id(request: HttpRequest) -> int | None:
    """The signed-in person's id, if something already looked them up: the access log
    never loads a session (or touches the database) just to say who it was."""
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request.request_id = request_id_for(request)
        # Cleared when the response is finished (operations.apps), not on the way out of
        # here: Django logs a failed response's status after the middleware has returned.
        logs.request_id.set(request.request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response[HEADER] = request.request_id
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        path = request.get_full_path()
        who = user_id(request)
        access_log.info(
            "%s %s %s %.1f ms user=%s",
            request.method,
            path,
            response.status_code,
            duration_ms,
            who if who is not None else "-",
            extra={
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": who,
            },
        )
        return response
