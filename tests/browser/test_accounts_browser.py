"""Signing in through the pages: the second factor, the lockout page, your account."""

from __future__ import annotations

import re
import time

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect
from rest_framework.authtoken.models import Token

from contracts.models import Organisation, Role
from tests.browser.conftest import (
    assert_accessible,
    current_code,
    screenshot,
    second_step,
    sign_in,
    sign_out,
)
from tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.browser


@pytest.fixture
def council(transactional_db):
    return OrganisationFactory(name="Sunderland City Council", kind=Organisation.Kind.COUNCIL)


def password_step(page: Page, username: str, password: str = "pw") -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_commissioner_sets_up_an_authenticator_then_signs_in_with_it(page: Page, council):
    member(council, Role.COMMISSIONER, "cora")
    page.remove_locator_handler(second_step(page))  # this test enters the codes itself
    password_step(page, "cora")

    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor authentication")
    expect(page.get_by_role("link", name="Returns")).to_have_count(0)  # nowhere else to go yet
    secret = page.locator("#two-factor-secret").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", secret)
    screenshot(page, "two-factor-set-up")
    assert_accessible(page, "two-factor set-up")

    page.get_by_role("button", name="Confirm and continue").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the 6-digit code from your authenticator app")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile("^Error: Set up two-factor authentication"))
    assert_accessible(page, "two-factor set-up with an error")

    page.get_by_label("Code from your authenticator app").fill(current_code(page))
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your contracts")
    assert TOTPDevice.objects.get(user__username="cora").confirmed

    sign_out(page)
    password_step(page, "cora")
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter the code from your authenticator app")
    expect(page.get_by_text("Signing in as cora")).to_be_visible()
    assert_accessible(page, "two-factor code")
    page.get_by_label("Code").fill("000000" if current_code(page) != "000000" else "111111")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("That code is not right")
    time.sleep(1.1)  # after a wrong code, django-otp checks no other for a second
    page.get_by_label("Code").fill(current_code(page))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your contracts")


def test_the_shared_sign_in_passes_the_second_factor(page: Page, council):
    # An admin without an authenticator sets one up; a commissioner who has one enters
    # its code; twice in one 30-second step the second sign-in uses the next code.
    member(council, Role.ADMIN, "adam")
    sign_in(page, "adam", "pw", "/returns/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    sign_out(page)
    sign_in(page, "adam", "pw", "/returns/")
    sign_out(page)
    sign_in(page, "adam", "pw", "/accounts/")
    expect(page.get_by_text("You set up an authenticator app on")).to_be_visible()


def test_five_failed_sign_ins_show_the_lockout_page(page: Page, council):
    member(council, Role.READER, "rita")
    for _ in range(4):
        password_step(page, "rita", "not-the-password")
        expect(page.locator("#lockout-policy")).to_have_text(
            "After 5 unsuccessful attempts in a row, you will not be able to sign in for 30 minutes."
        )
    password_step(page, "rita", "not-the-password")
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot sign in for now")
    expect(page.locator("main")).to_contain_text("Wait 30 minutes")
    screenshot(page, "locked-out")
    assert_accessible(page, "locked out")
    password_step(page, "rita", "pw")
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot sign in for now")


def test_your_account_and_an_api_token(page: Page, council):
    member(council, Role.READER, "rita")
    sign_in(page, "rita", "pw")
    page.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.get_by_text("You are signed out after 30 minutes without using")).to_be_visible()
    assert_accessible(page, "your account")

    page.get_by_role("button", name="Create an API token").click()
    key = page.locator("#api-token-key").inner_text()
    assert key == Token.objects.get(user__username="rita").key
    screenshot(page, "api-token")
    assert_accessible(page, "new API token")
    response = page.request.get("/api/v1/contracts/", headers={"Authorization": f"Token {key}"})
    assert response.status == 200

    page.get_by_role("link", name="Back to your account").click()
    expect(page.locator("main")).not_to_contain_text(key)
    page.get_by_role("button", name="Revoke your API token").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your API token is revoked")
    expect(page.get_by_role("table")).to_contain_text("API token revoked")
    assert not Token.objects.filter(user__username="rita").exists()


def test_an_admins_pages_for_tokens_password_and_authenticator(page: Page, council):
    colleague = member(council, Role.READER, "rita")
    Token.objects.create(user=colleague)
    member(council, Role.ADMIN, "ada")
    sign_in(page, "ada", "pw", "/accounts/")  # sets up an authenticator on the way

    page.get_by_role("link", name="API tokens of your organisation's people").click()
    expect(page.get_by_role("table")).to_contain_text("rita")
    assert_accessible(page, "organisation's API tokens")
    page.get_by_role("button", name="Revoke rita's API token").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("rita's API token is revoked")

    page.goto("/accounts/password/")
    page.get_by_label("Your current password").fill("pw")
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password again").fill("short")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("at least 12 characters")
    expect(page.locator("#password-rules")).to_contain_text("Your password must contain at least 12 characters.")
    assert_accessible(page, "change password with an error")

    page.remove_locator_handler(second_step(page))  # to see the set-up page it leads to
    page.goto("/accounts/two-factor/remove/")
    assert_accessible(page, "remove authenticator")
    page.get_by_label("To confirm, enter the code from your authenticator app").fill(current_code(page))
    page.get_by_role("button", name="Remove authenticator app").click()
    # An admin needs one: straight back to setting up a new one.
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor authentication")
