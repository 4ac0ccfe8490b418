"""The Content Security Policy in headless Chromium: the demo's main pages, as the people
who use them, run under the policy without a single violation, and htmx still works.

A violation is caught twice over: the page's ``securitypolicyviolation`` events (reported
through a binding installed before any page script runs) and Chromium's console messages
("Refused to ..."). Every page must also have been served with the policy.
"""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import Page, expect

from contracts import revisions, workflow
from contracts.models import Contract, MonthlyReturn, Role
from identity import people
from retained_services.models import Dataset
from tests.browser.conftest import sign_in, sign_out

pytestmark = pytest.mark.browser

PASSWORD = "demo-pass-2018"
SLUG = "sunderland-tfc"

WATCH_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(JSON.stringify({
    page: document.location.pathname,
    directive: event.violatedDirective,
    blocked: event.blockedURI,
    source: `${event.sourceFile}:${event.lineNumber}`,
    sample: event.sample,
  }));
});
"""


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", stdout=StringIO())
    contract = Contract.objects.get(slug=SLUG)
    april = MonthlyReturn.objects.get(contract=contract, period="2018-04")
    # A draft return to type into, and a draft target revision to read.
    may = workflow.open_return(contract, "2018-05")
    admin = get_user_model().objects.get(username="admin")
    revision = revisions.draft_revision(
        contract, admin, title="Targets for 2019/20", effective_from="2019-04",
        rationale="The committee asked for stretch targets.",
    )
    invitation = people.invite(admin, "nia.okafor@sunderland.gov.uk", Role.READER)
    return {
        "contract": contract, "april": april, "may": may, "revision": revision,
        "join_token": people.token_for(invitation),
    }


@pytest.fixture
def watched(page: Page) -> Page:
    """The page, reporting every CSP violation and every response without the policy."""
    violations: list[dict] = []
    refused: list[str] = []
    unprotected: list[str] = []
    page.context.expose_function("reportCspViolation", lambda raw: violations.append(json.loads(raw)))
    page.context.add_init_script(WATCH_VIOLATIONS)
    page.on(
        "console",
        lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None,
    )

    def check_policy(response) -> None:
        if response.request.resource_type == "document" and response.status == 200:
            policy = response.headers.get("content-security-policy", "")
            # The app's own files, and inline only by nonce (a page using none has none).
            if not re.search(r"script-src 'self'( 'nonce-[A-Za-z0-9+/=]+')?(;|$)", policy):
                unprotected.append(f"{response.url}: {policy or 'no policy'}")

    page.on("response", check_policy)
    page.csp = {"violations": violations, "refused": refused, "unprotected": unprotected}  # type: ignore[attr-defined]
    return page


def visit(page: Page, path: str, heading: str | re.Pattern[str]) -> None:
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)


def assert_no_violation(page: Page) -> None:
    page.wait_for_timeout(300)  # violation events are dispatched asynchronously
    found = page.csp  # type: ignore[attr-defined]
    assert found["violations"] == [], json.dumps(found["violations"], indent=2)
    assert found["refused"] == [], "\n".join(found["refused"])
    assert found["unprotected"] == [], "\n".join(found["unprotected"])
    assert page.problems == []  # type: ignore[attr-defined]


def test_the_main_pages_run_under_the_policy_without_a_violation(watched: Page, demo):
    page = watched
    april, revision = demo["april"], demo["revision"]

    sign_in(page, "commissioner", PASSWORD, "/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    visit(page, f"/contracts/{SLUG}/scorecard/?period=2018-04", "April 2018")
    visit(page, f"/contracts/{SLUG}/dashboard/?period=2018-04", "April 2018")
    expect(page.get_by_role("img", name=re.compile("^Trend of KPI 1")).first).to_be_visible()
    visit(page, f"/contracts/{SLUG}/measures/sm-1-1/", "SM 1.1")
    # The server-drawn chart keeps its colours: its styles are attributes, not CSS.
    chart = page.locator("svg.app-chart__svg").first
    expect(chart).to_be_visible()
    assert chart.locator("[style]").count() == 0
    series_colour = "svg => [...svg.querySelectorAll('path')].some(p => getComputedStyle(p).stroke === 'rgb(28, 79, 94)')"
    assert chart.evaluate(series_colour)
    visit(page, "/returns/", "Monthly returns")
    visit(page, f"/returns/{april.pk}/", "April 2018 return")
    visit(page, f"/returns/{april.pk}/history/", "History")
    visit(page, f"/targets/{SLUG}/", "Targets")
    visit(page, f"/targets/revisions/{revision.pk}/", "Targets for 2019/20")
    visit(page, f"/reports/{SLUG}/2018-04/", "April 2018")
    expect(page.locator("figure.app-chart svg").first).to_be_visible()
    visit(page, "/notifications/", "Notifications")
    visit(page, "/accounts/", "Your account")
    # The API documentation: Redoc from the app's own files, its styles by nonce.
    page.goto("/api/docs/")
    expect(page.get_by_role("heading", name="Contract Monitor API", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("scorecard", re.I)).first).to_be_attached()
    # Its search runs in a worker (worker-src blob:, on this page only).
    page.get_by_placeholder("Search...").fill("scorecard")
    results = page.get_by_role("search").get_by_role("menuitem", name=re.compile("scorecard", re.I))
    expect(results.first).to_be_visible()
    page.goto("/")
    sign_out(page)

    sign_in(page, "officer", PASSWORD, "/retained/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Retained services")
    dataset = Dataset.objects.order_by("pk").first()
    page.goto(f"/retained/{dataset.pk}/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    sign_out(page)

    # The organisation's people, as its admin, then the Django admin.
    sign_in(page, "admin", PASSWORD, "/people/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("People")
    commissioner = get_user_model().objects.get(username="commissioner")
    visit(page, f"/people/{commissioner.pk}/", commissioner.get_full_name() or "commissioner")
    expect(page.get_by_role("group", name="New role")).to_be_visible()
    visit(page, "/accounts/", "Your account")
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto("/")
    sign_out(page)

    # Setting up an authenticator: the page with its key, then the code (entered by the
    # page fixture's handler, as the person would) and back to their account.
    sign_in(page, "provider_editor", PASSWORD, "/accounts/")
    set_up = page.goto("/accounts/two-factor/set-up/?next=/accounts/")
    assert set_up is not None and set_up.status == 200
    assert "Set up two-factor authentication" in set_up.text()
    expect(page.get_by_text("Two-factor authentication is set up")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your account")
    sign_out(page)

    # Accepting an invitation, signed out.
    visit(page, f"/people/join/{demo['join_token']}/", "Create your account")
    page.get_by_label("First name").fill("Nia")
    page.get_by_label("Last name").fill("Okafor")
    page.get_by_label("Username").fill("nia.okafor")
    page.get_by_label("Password", exact=True).fill("kestrel-harbour-lantern")
    page.get_by_label("Confirm password").fill("kestrel-harbour-lantern")
    page.get_by_role("button", name=re.compile("Create")).click()
    expect(page).to_have_url(re.compile(r"/people/join/done/$"))

    assert_no_violation(page)


def test_htmx_still_works_under_the_policy(watched: Page, demo):
    page = watched
    may = demo["may"]
    entry = may.entries.select_related("measure").get(measure__code="KPI 1")
    sign_in(page, "provider_editor", PASSWORD, f"/returns/{may.pk}/entries/{entry.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("KPI 1")
    result = page.locator("#verdict-result")
    expect(result).to_contain_text("No data")

    # The verdict follows the typing, fetched and swapped in by htmx.
    page.locator("#value").fill("97")
    expect(result.locator("[data-verdict]")).to_have_attribute("data-verdict", "on_target")
    page.locator("#value").fill("80")
    expect(result.locator("[data-verdict]")).to_have_attribute("data-verdict", "outside_tolerance")
    # htmx injected no indicator style sheet of its own.
    assert page.locator("head style").count() == 0

    assert_no_violation(page)


def test_the_admin_export_select_all_toggle_works_under_the_policy(page: Page, demo):
    """django-import-export's page names the toggle's handler in an onchange attribute,
    which the policy refuses (and reports); admin-export.js binds it instead."""
    sign_in(page, "admin", PASSWORD, "/admin/kpis/measure/export/")
    fields = page.locator('.selectable-field-export-row input[type="checkbox"]')
    expect(fields.first).to_be_checked()
    page.locator("input.select-toggle").uncheck()
    for i in range(fields.count()):
        expect(fields.nth(i)).not_to_be_checked()
    page.locator("input.select-toggle").check()
    expect(fields.last).to_be_checked()
