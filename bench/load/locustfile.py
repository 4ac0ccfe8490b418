"""The load test's people (``make load``; ``bench/load/run.py`` sets them up).

Each simulated person is signed in already (a session made beforehand, alternately the
demo's commissioner and provider editor: what is measured is the pages, not 50 password
checks at once) and holds an API token of a demo user. Between requests a person waits
LOAD_WAIT_MIN to LOAD_WAIT_MAX seconds (0.5 to 1.5 by default) and then, with equal
chances, opens the contract's dashboard, opens an entry of the April 2018 return, reads
the scorecard through the API, or calls ``/healthz/live``, a bare Django view that
touches nothing: the floor the other three are compared with.
"""

from __future__ import annotations

import itertools
import os

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

CONTRACT = os.environ.get("LOAD_CONTRACT", "sunderland-tfc")
PERIOD = os.environ.get("LOAD_PERIOD", "2018-04")
RETURN_ID = os.environ.get("LOAD_RETURN_ID", "")
ENTRY_ID = os.environ.get("LOAD_ENTRY_ID", "")
SESSION_COOKIE = os.environ.get("LOAD_SESSION_COOKIE", "sessionid")
SESSIONS = itertools.cycle([s for s in os.environ.get("LOAD_SESSIONS", "").split(",") if s])
TOKENS = itertools.cycle([t for t in os.environ.get("LOAD_TOKENS", "").split(",") if t])


class Person(FastHttpUser):
    wait_time = between(
        float(os.environ.get("LOAD_WAIT_MIN", "0.5")), float(os.environ.get("LOAD_WAIT_MAX", "1.5"))
    )

    def on_start(self) -> None:
        self.cookie = {"Cookie": f"{SESSION_COOKIE}={next(SESSIONS)}"}
        self.token = {"Authorization": f"Token {next(TOKENS)}", "Accept": "application/json"}

    def _get(self, name: str, url: str, headers: dict[str, str], must_contain: str) -> None:
        with self.client.get(url, name=name, headers=headers, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code} from {url}")
            elif must_contain not in (answer.text or ""):
                answer.failure(f"{url} did not show {must_contain!r}")

    @task
    def dashboard(self) -> None:
        self._get(
            "dashboard page",
            f"/contracts/{CONTRACT}/dashboard/?period={PERIOD}",
            self.cookie,
            "KPI 1",
        )

    @task
    def entry(self) -> None:
        self._get(
            "entry page", f"/returns/{RETURN_ID}/entries/{ENTRY_ID}/", self.cookie, "KPI 1"
        )

    @task
    def scorecard_api(self) -> None:
        self._get(
            "scorecard API",
            f"/api/v1/contracts/{CONTRACT}/scorecard/?period={PERIOD}",
            self.token,
            '"code":"KPI 1"',
        )

    @task
    def bare_view(self) -> None:
        self._get("bare view /healthz/live", "/healthz/live", {}, "live")
