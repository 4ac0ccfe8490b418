"""Sign-in rules: what they accept, which one wins, and what a sign-in does with them.

The claims here are what the backend hands over once the provider's tokens have been
checked (the end-to-end test drives a real provider); this file covers the decisions.
"""

from __future__ import annotations

from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from contracts.models import Membership, Role
from identity.backends import OrganisationOIDCBackend
from identity.models import PersonEvent, SignInRule
from identity.sign_in import SignInRefused, groups_from, sign_in_from_claims

User = get_user_model()


def rule(organisation, role, value, match=SignInRule.Match.EMAIL_DOMAIN, **fields):
    made = SignInRule(organisation=organisation, role=role, match=match, value=value, **fields)
    made.full_clean()
    made.save()
    return made


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["alice@sunderland.gov.uk", "sunderland", "sunder land.gov.uk", "-x.gov.uk", ""])
def test_an_email_domain_rule_needs_a_domain(council, value):
    with pytest.raises(ValidationError) as exc:
        rule(council, Role.READER, value)
    assert "value" in exc.value.message_dict


def test_a_domain_is_kept_in_lower_case_without_the_at(council):
    made = rule(council, Role.READER, " @Sunderland.GOV.uk ")
    assert made.value == "sunderland.gov.uk"


def test_a_group_is_kept_exactly_as_typed(council):
    made = rule(council, Role.COMMISSIONER, " CM-Commissioners ", match=SignInRule.Match.GROUP)
    assert made.value == "CM-Commissioners"


def test_a_role_of_the_other_side_is_refused_with_the_roles_allowed(council, provider):
    with pytest.raises(ValidationError) as exc:
        rule(council, Role.PROVIDER_EDITOR, "sunderland.gov.uk")
    assert exc.value.message_dict["role"] == [
        "Sunderland City Council is a council: its people may be commissioner, admin, reader, "
        "council officer (retained services)."
    ]
    with pytest.raises(ValidationError):
        rule(provider, Role.COMMISSIONER, "tfc.org.uk")


def test_two_active_rules_for_one_value_are_refused(council, northfield):
    rule(council, Role.READER, "shared.gov.uk")
    with pytest.raises(ValidationError) as exc:
        rule(northfield, Role.READER, "SHARED.gov.uk")
    assert "An active rule already matches this value" in str(exc.value)
    rule(northfield, Role.READER, "shared.gov.uk", is_active=False)  # an inactive one may wait


def test_the_django_admin_explains_a_bad_rule_and_keeps_a_good_one_with_history(client, council):
    admin = User.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(admin)
    data = {"match": "email_domain", "value": "bob@sunderland.gov.uk", "organisation": council.pk,
            "role": "reader", "priority": "100", "is_active": "on", "note": ""}
    bad = client.post("/admin/identity/signinrule/add/", data)
    assert bad.status_code == 200
    assert "Enter an email domain such as sunderland.gov.uk" in bad.text
    assert not SignInRule.objects.exists()

    good = client.post("/admin/identity/signinrule/add/", {**data, "value": "sunderland.gov.uk"})
    assert good.status_code == 302
    made = SignInRule.objects.get()
    assert made.history.get().history_user == admin


# --- which rule wins ----------------------------------------------------------------------


def test_the_lowest_priority_number_wins_and_inactive_rules_are_ignored(council):
    domain = rule(council, Role.READER, "sunderland.gov.uk", priority=100)
    group = rule(council, Role.COMMISSIONER, "commissioners", match=SignInRule.Match.GROUP, priority=10)
    rule(council, Role.ADMIN, "admins", match=SignInRule.Match.GROUP, priority=1, is_active=False)

    assert SignInRule.objects.first_match("a@Sunderland.gov.uk", []) == domain
    assert SignInRule.objects.first_match("a@sunderland.gov.uk", ["commissioners"]) == group
    assert SignInRule.objects.first_match("a@sunderland.gov.uk", ["admins"]) == domain
    assert SignInRule.objects.first_match("a@elsewhere.example", ["commissioners"]) == group
    assert SignInRule.objects.first_match("a@elsewhere.example", []) is None


def test_a_subdomain_needs_its_own_rule(council):
    rule(council, Role.READER, "sunderland.gov.uk")
    assert SignInRule.objects.first_match("a@schools.sunderland.gov.uk", []) is None


def test_the_groups_claim_may_be_a_list_or_one_string():
    assert groups_from({"groups": ["a", "b", None]}, "groups") == ["a", "b"]
    assert groups_from({"roles": "a"}, "roles") == ["a"]
    assert groups_from({}, "groups") == []


# --- what a sign-in does ----------------------------------------------------------------------


def test_a_new_person_is_created_with_the_rules_organisation_and_role(council):
    rule(council, Role.OFFICER, "sunderland.gov.uk")
    user = sign_in_from_claims(
        {"sub": "42", "iss": "https://login.example", "email": "New.Person@sunderland.gov.uk",
         "given_name": "New", "family_name": "Person"}
    )
    assert user.username == "new.person@sunderland.gov.uk"
    assert (user.membership.organisation, user.membership.role) == (council, Role.OFFICER)
    assert not user.has_usable_password()
    assert user.external_account.subject == "42"
    assert user.membership.history.get().history_user == user


def test_a_person_no_rule_covers_is_refused_and_nothing_is_created(council):
    rule(council, Role.READER, "sunderland.gov.uk")
    with pytest.raises(SignInRefused, match="No organisation here accepts x@elsewhere.example"):
        sign_in_from_claims({"sub": "1", "email": "x@elsewhere.example", "groups": ["staff"]})
    assert not User.objects.exists()


def test_a_rule_moving_someone_to_another_organisation_is_recorded_on_both(council, northfield, dora):
    rule(council, Role.READER, "northfield.gov.uk")
    sign_in_from_claims({"sub": "d", "email": "DORA@northfield.gov.uk"})
    membership = Membership.objects.get(user=dora)
    assert membership.organisation == council
    assert PersonEvent.objects.filter(person=dora, organisation=council, action="changed_by_rule").exists()
    assert PersonEvent.objects.filter(person=dora, organisation=northfield, action="changed_by_rule").exists()


def test_an_unchanged_membership_is_left_alone(council, bob):
    rule(council, Role.READER, "sunderland.gov.uk")
    sign_in_from_claims({"sub": "b", "email": "bob@sunderland.gov.uk"})
    assert bob.membership.history.count() == 1
    assert not PersonEvent.objects.exists()


@pytest.mark.parametrize(
    ("claims", "words"),
    [
        ({"sub": "1"}, "did not tell us your email address"),
        ({"sub": "1", "email": "not-an-email"}, "which is not valid"),
        ({"sub": "1", "email": "bob@sunderland.gov.uk", "email_verified": False}, "is not verified"),
    ],
)
def test_unusable_email_claims_are_refused(council, claims, words):
    rule(council, Role.READER, "sunderland.gov.uk")
    with pytest.raises(SignInRefused, match=words):
        sign_in_from_claims(claims)


def test_deactivated_superuser_and_duplicate_accounts_are_refused(council, bob):
    rule(council, Role.READER, "sunderland.gov.uk")
    bob.is_active = False
    bob.save()
    with pytest.raises(SignInRefused, match="has been deactivated"):
        sign_in_from_claims({"sub": "b", "email": "bob@sunderland.gov.uk"})

    User.objects.create_superuser("boss", "boss@sunderland.gov.uk", "pw")
    with pytest.raises(SignInRefused, match="superuser account"):
        sign_in_from_claims({"sub": "s", "email": "boss@sunderland.gov.uk"})

    User.objects.create_user("twin1", email="twin@sunderland.gov.uk")
    User.objects.create_user("twin2", email="TWIN@sunderland.gov.uk")
    with pytest.raises(SignInRefused, match="More than one account"):
        sign_in_from_claims({"sub": "t", "email": "twin@sunderland.gov.uk"})


def test_a_deactivated_persons_single_sign_on_session_ends(settings, bob):
    settings.OIDC_RP_CLIENT_ID = "cm"
    settings.OIDC_OP_JWKS_ENDPOINT = "https://login.example/jwks"
    backend = OrganisationOIDCBackend()
    assert backend.get_user(bob.pk) == bob
    bob.is_active = False
    bob.save()
    assert backend.get_user(bob.pk) is None


# --- single sign-on off and on ---------------------------------------------------------------


def test_with_no_client_id_there_is_no_button_and_no_single_sign_on(client, settings, db):
    settings.OIDC_RP_CLIENT_ID = ""
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert "Sign in with your organisation's account" not in page.text
    assert client.get("/sso/start/").status_code == 404
    assert client.get("/sso/callback/", {"code": "x", "state": "y"}).status_code == 404
    assert OrganisationOIDCBackend().authenticate(page.wsgi_request) is None


def test_with_a_client_id_the_sign_in_page_offers_the_organisations_account(client, settings, db):
    settings.OIDC_RP_CLIENT_ID = "cm"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://login.example/authorize"
    settings.OIDC_OP_JWKS_ENDPOINT = "https://login.example/jwks"
    page = client.get("/accounts/login/?next=/returns/")
    assert 'href="/sso/start/?next=/returns/"' in page.text
    assert "Sign in with your organisation's account" in page.text
    start = client.get("/sso/start/", {"next": "/returns/"})
    assert start.status_code == 302 and start["Location"].startswith("https://login.example/authorize?")


def test_a_callback_without_a_started_sign_in_is_refused_on_a_page(client, settings, db):
    settings.OIDC_RP_CLIENT_ID = "cm"
    settings.OIDC_OP_JWKS_ENDPOINT = "https://login.example/jwks"
    page = client.get("/sso/callback/", {"error": "access_denied", "error_description": "The user cancelled"})
    assert page.status_code == 403
    assert "Your organisation's account did not let you sign in here (The user cancelled)." in unescape(page.text)
