"""The people pages in a real browser: an admin invites someone, who joins through the
emailed link; each page, with and without errors, passes axe-core's WCAG 2.2 AA checks
under the Content Security Policy, and is photographed into ``test-artifacts/``."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from contracts.models import Membership, Organisation, Role
from tests.browser.conftest import assert_accessible, screenshot
from tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.browser


@pytest.fixture
def council(transactional_db, settings):
    # The second factor has browser tests of its own; these pages are about people.
    settings.TWO_FACTOR_REQUIRED = False
    council = OrganisationFactory(name="Sunderland City Council", slug="sunderland", kind=Organisation.Kind.COUNCIL)
    member(council, Role.ADMIN, "adam")
    member(council, Role.READER, "rita")
    return council


def sign_in(page: Page, username: str, password: str = "pw") -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/")


def test_inviting_joining_and_changing_a_role(page: Page, council):
    sign_in(page, "adam")
    page.get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("People")
    assert_accessible(page, "people")

    page.get_by_role("button", name="Invite someone").click()
    page.get_by_label("Email address").fill("not an email")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose a role.")
    expect(page.get_by_label("Email address")).to_have_value("not an email")
    assert_accessible(page, "invite, with errors")
    screenshot(page, "people-invite-errors")

    page.get_by_label("Email address").fill("new.person@sunderland.gov.uk")
    page.get_by_label("Commissioner").check()
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Invitation sent to new.person@sunderland.gov.uk")
    expect(page.get_by_role("row", name=re.compile("new.person@sunderland.gov.uk"))).to_be_visible()
    assert_accessible(page, "people, with an invitation")

    link = re.search(r"http://\S+/people/join/\S+/", mail.outbox[-1].body).group(0)
    page.context.clear_cookies()
    page.goto(urlsplit(link).path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Create your account")
    page.get_by_label("First name").fill("Nia")
    page.get_by_label("Last name").fill("Person")
    page.get_by_label("Password", exact=True).fill("password")
    page.get_by_label("Confirm password").fill("password")
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("This password is too common.")
    expect(page.get_by_label("First name")).to_have_value("Nia")
    assert_accessible(page, "join, with errors")
    screenshot(page, "people-join-errors")
    page.get_by_label("Password", exact=True).fill("kestrel-harbour-lantern")
    page.get_by_label("Confirm password").fill("kestrel-harbour-lantern")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account is ready")
    assert Membership.objects.get(user__username="new.person").role == Role.COMMISSIONER

    sign_in(page, "adam")
    page.goto("/people/")
    page.get_by_role("link", name="rita").click()
    page.get_by_label("Officer").check()
    page.get_by_label("Reason for the new role").fill("Keeps the admissions data now")
    page.get_by_role("button", name="Change role").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is now council officer")
    expect(page.get_by_role("row", name=re.compile("Keeps the admissions data now"))).to_be_visible()
    page.get_by_role("button", name="Deactivate").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Give the reason")
    assert_accessible(page, "person, with an error")
    screenshot(page, "people-person")
    # Refused forms answer 400 by design; nothing else may fail, and no script may break.
    problems = [p for p in page.problems if not p.startswith("400 for ")]  # type: ignore[attr-defined]
    assert not problems, problems
