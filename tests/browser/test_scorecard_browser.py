"""A person signs in, finds their contract and reads its scorecard, in a real browser.

Every page visited is checked with axe-core against WCAG 2.2 AA, and the scorecard is
photographed into ``test-artifacts/`` for a human look.
"""

from __future__ import annotations

import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from contracts.models import Role
from tests.browser.conftest import assert_accessible, screenshot
from tests.factories import (
    ContractFactory,
    MeasureFactory,
    ObservationFactory,
    TargetFactory,
    member,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def contract(transactional_db):
    contract = ContractFactory(name="Children's services", slug="childrens-services")
    ms = contract.measure_set
    rows = [
        ("KPI 1", "Assessments completed within 45 days", Decimal("96.4"), True),
        ("KPI 2", "Children seen within timescale", Decimal("90"), True),
        ("KPI 3", "Child protection plans reviewed on time", Decimal("78.5"), True),
        ("KPI 4", "Care leavers in touch", Decimal("88"), False),
    ]
    for code, title, value, official in rows:
        measure = MeasureFactory(measure_set=ms, code=code, title=title)
        TargetFactory(measure=measure, target=Decimal("95"), tolerance_low=Decimal("85"))
        ObservationFactory(measure=measure, period="2018-03", value=Decimal("91"))
        ObservationFactory(measure=measure, period="2018-04", value=value, is_official=official)
    member(contract.commissioner, Role.COMMISSIONER, "alice")
    return contract


def sign_in(page: Page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_signing_in_and_reading_the_scorecard(page: Page, contract):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page).to_have_title(re.compile(r"^Sign in – "))
    screenshot(page, "sign-in")
    assert_accessible(page, "sign-in")

    sign_in(page, "alice", "pw")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your contracts")
    screenshot(page, "home")
    assert_accessible(page, "home")

    page.get_by_role("link", name="Children's services scorecard").click()
    expect(page).to_have_url(re.compile(r"/contracts/childrens-services/scorecard/$"))
    table = page.get_by_role("table", name="Scorecard for Children's services, April 2018")
    expect(table).to_be_visible()
    for words, count in (("On target", 1), ("Within tolerance", 2), ("Outside tolerance", 1)):
        expect(table.locator(".govuk-tag", has_text=words)).to_have_count(count)
    row = table.get_by_role("row", name=re.compile("KPI 2"))
    expect(row).to_contain_text("not meeting target but within tolerance")
    expect(row).to_contain_text("95%, tolerance from 85%")
    expect(page.get_by_text("Figures marked draft are not yet signed off.")).to_be_visible()
    # Colour repeats the words, never replaces them.
    tag = table.locator(".govuk-tag", has_text="Outside tolerance")
    assert tag.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    screenshot(page, "scorecard-factory")
    assert_accessible(page, "scorecard")

    page.get_by_label("Month").fill("2018-03")
    page.get_by_role("button", name="Show month").click()
    expect(page.get_by_role("table", name=re.compile("March 2018"))).to_be_visible()
    assert page.problems == []  # type: ignore[attr-defined]


def test_a_failed_sign_in_focuses_the_error_summary(page: Page, contract):
    page.goto("/accounts/login/")
    sign_in(page, "alice", "not-the-password")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    # GOV.UK Frontend's JavaScript moved focus to the summary: the module loaded.
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: Sign in – "))
    assert_accessible(page, "failed sign-in")


def test_a_bad_month_is_reported_on_the_page(page: Page, contract):
    page.goto("/accounts/login/?next=/contracts/childrens-services/scorecard/%3Fperiod%3D2018-13")
    sign_in(page, "alice", "pw")
    expect(page.locator(".govuk-error-summary")).to_contain_text("‘2018-13’ is not a month")
    assert_accessible(page, "bad month")


def test_signing_out(page: Page, contract):
    page.goto("/accounts/login/")
    sign_in(page, "alice", "pw")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", stdout=StringIO())


def test_the_demo_april_2018_scorecard(page: Page, demo):
    page.goto("/accounts/login/")
    sign_in(page, "commissioner", "demo-pass-2018")
    assert_accessible(page, "demo home")
    page.locator("a[href='/contracts/sunderland-tfc/scorecard/']").click()
    page.get_by_label("Month").fill("2018-04")
    page.get_by_role("button", name="Show month").click()
    table = page.get_by_role("table", name=re.compile("April 2018"))
    expect(table).to_be_visible()
    expect(table.locator(".govuk-tag").first).to_be_visible()
    verdicts = set(table.locator(".govuk-tag").all_inner_texts())
    assert verdicts <= {
        "On target", "Within tolerance", "Outside tolerance", "On track", "Off track",
        "Not rated", "No data", "Cannot rate",
    }
    assert verdicts & {"On target", "Within tolerance", "Outside tolerance"}
    screenshot(page, "scorecard-demo-2018-04")
    assert_accessible(page, "demo scorecard")


def test_the_scorecard_on_a_phone(page: Page, contract):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/accounts/login/?next=/contracts/childrens-services/scorecard/")
    sign_in(page, "alice", "pw")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()  # GOV.UK Frontend's service navigation took over
    expect(page.get_by_role("link", name="API docs")).to_be_hidden()
    menu.click()
    expect(page.get_by_role("link", name="API docs")).to_be_visible()
    # The wide table scrolls inside its own region, not the whole page (WCAG 1.4.10).
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    region = page.get_by_role("region", name=re.compile("^Scorecard for"))
    region.focus()
    expect(region).to_be_focused()
    screenshot(page, "scorecard-phone")
    assert_accessible(page, "scorecard on a phone")
