"""The contract most API tests read and write, and its commissioner."""

from __future__ import annotations

import pytest

from contracts.models import Role
from tests.factories import ContractFactory, member


@pytest.fixture
def contract():
    return ContractFactory(slug="fostering", name="Fostering")


@pytest.fixture
def commissioner(contract):
    return member(contract.commissioner, Role.COMMISSIONER)
