"""The demo's dashboard, a measure's page and the committee report in headless Chromium:
each is photographed into ``test-artifacts/`` and checked with axe-core (no serious or
critical WCAG 2.2 AA violation)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", stdout=StringIO())


def sign_in(page: Page, username: str, next_url: str) -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo-pass-2018")
    page.get_by_role("button", name="Sign in").click()


def test_the_dashboard_measure_page_and_report(page: Page, demo):
    sign_in(page, "commissioner", "/contracts/sunderland-tfc/dashboard/%3Fperiod%3D2018-04")
    table = page.get_by_role("table", name=re.compile("^Dashboard for .*April 2018"))
    expect(table).to_be_visible()
    expect(table.get_by_role("row")).to_have_count(17)  # a header and 16 measures
    kpi1 = table.get_by_role("row", name=re.compile(r"KPI 1\b"))
    expect(kpi1).to_contain_text("Within tolerance")
    expect(kpi1).to_contain_text("95%, tolerance from 85%")
    expect(kpi1.get_by_role("img", name=re.compile("^Trend of KPI 1"))).to_be_visible()
    counts = page.get_by_role("list", name="Measures by verdict")
    expect(counts).to_contain_text("Outside tolerance")
    screenshot(page, "dashboard-demo-2018-04")
    assert_accessible(page, "dashboard")

    # Filter by verdict through the form.
    page.get_by_label("Verdict", exact=True).select_option("outside_tolerance")
    page.get_by_role("button", name="Show").click()
    expect(table.get_by_role("row")).to_have_count(7)  # a header and 6 measures
    expect(page.get_by_text("Showing 6 of 16 measures.")).to_be_visible()

    page.get_by_role("link", name="SM 1.1", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("SM 1.1: Rate of Children")
    chart = page.get_by_role("img", name=re.compile("^SM 1.1: Rate of Children"))
    expect(chart).to_be_visible()
    expect(page.get_by_role("table", name="Figures for SM 1.1, latest first")).to_contain_text("103.8 per 10,000")
    expect(page.locator("#commentary")).to_contain_text("Commentary for April 2018")
    screenshot(page, "measure-demo-sm-1-1")
    assert_accessible(page, "measure")

    page.get_by_role("button", name="Accept the draft as it is").click()
    expect(page.get_by_text("The commentary on SM 1.1 for April 2018 is accepted as drafted.")).to_be_visible()

    page.goto("/reports/sunderland-tfc/2018-04/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("performance update, April 2018")
    expect(page.get_by_role("heading", name=re.compile(r"^3\.4 Key performance indicator KPI 1"))).to_be_visible()
    expect(page.get_by_text(
        "At the end of April 2018 this measure is not meeting target but within tolerance (target 95%)."
    ).first).to_be_visible()
    expect(page.get_by_role("link", name="Download as PDF")).to_be_visible()
    screenshot(page, "report-demo-2018-04")
    assert_accessible(page, "report")

    page.get_by_role("link", name="Show the draft, with figures not yet signed off").click()
    expect(page.get_by_text("this report includes figures, narratives and commentary")).to_be_visible()
    assert page.problems == []  # type: ignore[attr-defined]


def test_a_reader_reads_the_report_without_drafts(page: Page, demo):
    sign_in(page, "reader", "/reports/sunderland-tfc/2018-04/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("April 2018")
    expect(page.get_by_role("link", name=re.compile("Show the draft"))).to_have_count(0)
    expect(page.get_by_role("button", name="Publish this report")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit the report's text")).to_have_count(0)
    page.goto("/contracts/sunderland-tfc/dashboard/?period=2018-04")
    page.set_viewport_size({"width": 375, "height": 800})
    # The wide table scrolls inside its own region, not the whole page (WCAG 1.4.10).
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "dashboard-phone")
    assert_accessible(page, "dashboard on a phone")
