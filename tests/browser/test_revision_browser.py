"""Revising targets in a real browser: the pages pass axe-core's WCAG 2.2 AA checks in
each state (drafting, a refused line, an out-of-scale warning, approval) and are
photographed into ``test-artifacts/`` for a human look."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from contracts.models import Role, TargetRevision
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
    kpi1 = MeasureFactory(measure_set=ms, code="KPI 1", title="Referrals decided within 24 hours")
    sm11 = MeasureFactory(
        measure_set=ms, code="SM 1.1", title="Child protection plans per 10,000", unit="rate",
        per=10000, polarity="band",
    )
    count = MeasureFactory(
        measure_set=ms, code="SM 3.2", title="Questionnaires completed", unit="count", decimals=0
    )
    TargetFactory(measure=kpi1, target=Decimal("95"), tolerance_low=Decimal("85"))
    TargetFactory(measure=sm11, target=Decimal("79"), tolerance_low=Decimal("69"), tolerance_high=Decimal("89"))
    TargetFactory(measure=count, target=Decimal("30"), tolerance_low=Decimal("20"), tolerance_high=None)
    ObservationFactory(measure=kpi1, period="2018-04", value=Decimal("92.1"))
    ObservationFactory(measure=count, period="2018-04", value=Decimal("40"))
    member(contract.commissioner, Role.ADMIN, "adam")
    member(contract.commissioner, Role.COMMISSIONER, "cora")
    return contract


def sign_in(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()


def test_drafting_editing_and_approving_a_revision(page: Page, contract):
    sign_in(page, "adam")
    page.goto("/targets/childrens-services/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Targets and tolerances")
    assert_accessible(page, "targets")

    page.get_by_role("button", name="Draft the revision").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the month")
    assert_accessible(page, "targets with errors")

    page.get_by_label("Title").fill("2018/19 targets")
    page.get_by_label("Month it takes effect from").fill("2018-10")
    page.get_by_label("Why are the targets being revised?").fill("Agreed with the provider.")
    page.get_by_role("button", name="Draft the revision").click()
    expect(page).to_have_url(re.compile(r"/targets/revisions/\d+/$"))
    assert_accessible(page, "draft revision")

    page.get_by_label("KPI 1: Target", exact=True).fill("70")
    page.get_by_label("KPI 1: Rationale for the change").fill("Lower it")
    page.get_by_role("button", name="Save changes").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("KPI 1")
    expect(page.get_by_label("KPI 1: Target", exact=True)).to_have_value("70")
    screenshot(page, "revision-refused-line")
    assert_accessible(page, "revision with a refused line")

    page.get_by_label("KPI 1: Target", exact=True).fill("93")
    page.get_by_label("SM 3.2: Target", exact=True).fill("500")
    page.get_by_label("SM 3.2: Rationale for the change").fill("Counted in a new way")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".govuk-warning-text").first).to_contain_text("more than 10 times")
    page.get_by_label("Confirm the out-of-scale target for SM 3.2").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Saved 1 line")
    screenshot(page, "revision-draft")
    assert_accessible(page, "revision with changes")

    sign_in(page, "cora")
    page.goto(f"/targets/revisions/{TargetRevision.objects.get().pk}/")
    assert_accessible(page, "revision to approve")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("in force from October 2018")
    expect(page.get_by_text("Official verdicts on earlier months did not change")).to_be_visible()
    screenshot(page, "revision-approved")
    assert_accessible(page, "approved revision")
    assert TargetRevision.objects.get().state == "approved"

    page.get_by_role("link", name="Targets").click()
    expect(page.get_by_role("table", name=re.compile("KPI 1"))).to_contain_text("Changed mid-year")
    screenshot(page, "targets")
    assert_accessible(page, "targets after approval")
    # The refused form and the refused line answer 400 on purpose; nothing else may fail.
    assert [p for p in page.problems if not p.startswith("400 ")] == []  # type: ignore[attr-defined]
