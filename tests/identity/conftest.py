"""The cast of the sign-in and people tests.

Sunderland City Council (a council) has alice, its admin, and bob, a reader; Together
for Children is a provider; Northfield Council is another council, with charlie, its
admin, and dora, a reader. Everyone has an email address at their organisation.
"""

from __future__ import annotations

import pytest

from contracts.models import Organisation, Role
from tests.factories import OrganisationFactory, member


def person(organisation, role, username, email):
    user = member(organisation, role, username)
    user.email = email
    user.first_name = username.capitalize()
    user.save(update_fields=["email", "first_name"])
    return user


@pytest.fixture
def council(db):
    return OrganisationFactory(name="Sunderland City Council", slug="sunderland", kind=Organisation.Kind.COUNCIL)


@pytest.fixture
def provider(db):
    return OrganisationFactory(name="Together for Children", slug="tfc", kind=Organisation.Kind.PROVIDER)


@pytest.fixture
def northfield(db):
    return OrganisationFactory(name="Northfield Council", slug="northfield", kind=Organisation.Kind.COUNCIL)


@pytest.fixture
def alice(council):
    return person(council, Role.ADMIN, "alice", "alice@sunderland.gov.uk")


@pytest.fixture
def bob(council):
    return person(council, Role.READER, "bob", "bob@sunderland.gov.uk")


@pytest.fixture
def charlie(northfield):
    return person(northfield, Role.ADMIN, "charlie", "charlie@northfield.gov.uk")


@pytest.fixture
def dora(northfield):
    return person(northfield, Role.READER, "dora", "dora@northfield.gov.uk")
