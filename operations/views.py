"""``/healthz``: is this web process able to serve? ``/healthz/live``: is it running?

``/healthz`` answers 200 when the database, the cache and the broker are all healthy and
503 naming each part that is not, as JSON (``Accept: application/json`` or
``?format=json``), plain text (``text/plain`` or ``?format=text``) or an HTML page (the
default). It reads no session and no user, so it works with the database down.
``/healthz/live`` touches nothing at all: a liveness probe, and the load test's bare view.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from health_check.views import HealthCheckView

from operations.health import CHECKS

HEALTHY, UNHEALTHY = "healthy", "unhealthy"


class HealthView(HealthCheckView):
    template_name = "operations/healthz.html"
    checks = CHECKS

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = await super().get(request, *args, **kwargs)
        # django-health-check answers 500 when a check fails; a load balancer or
        # orchestrator reads 503 as "unavailable, try elsewhere", which is what this is.
        if response.status_code == 500:
            response.status_code = 503
        return response

    def parts(self) -> list[dict[str, Any]]:
        return [
            {
                "part": result.check.part,
                "healthy": result.error is None,
                "message": str(result.error) if result.error else result.check.detail,
                "seconds": round(result.time_taken, 3),
            }
            for result in self.results
        ]

    def summary(self) -> dict[str, Any]:
        parts = self.parts()
        failing = [p["part"] for p in parts if not p["healthy"]]
        return {
            "status": UNHEALTHY if failing else HEALTHY,
            "unhealthy": failing,
            "checks": {p["part"]: {k: v for k, v in p.items() if k != "part"} for p in parts},
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        summary = self.summary()
        return {
            **kwargs,
            "summary": summary,
            "parts": self.parts(),
            "site_name": settings.SITE_NAME,
        }

    def render_to_response_json(self, status: int) -> JsonResponse:
        return JsonResponse(self.summary(), status=status)

    def render_to_response_text(self, status: int) -> HttpResponse:
        summary = self.summary()
        lines = [summary["status"]] + [
            f"{p['part']}: {p['message']}" for p in self.parts()
        ]
        return HttpResponse(
            "\n".join(lines) + "\n", content_type="text/plain; charset=utf-8", status=status
        )


health = HealthView.as_view()


@never_cache
def live(request: HttpRequest) -> HttpResponse:
    return HttpResponse("live\n", content_type="text/plain; charset=utf-8")
