"""Two admins adding the same measure at the same moment: one is saved, the other is
refused with a message (400), never a server error, whichever of the model's check and
the database's constraint catches the clash."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from contracts.models import Role
from kpis.models import Measure
from tests.api.helpers import token_client
from tests.api.test_concurrency import at_once, only_on_postgresql
from tests.factories import ContractFactory, member

# Real transactions: each thread's connection must see what the other committed.
pytestmark = [pytest.mark.django_db(transaction=True), only_on_postgresql]


def add_measure(user, contract_slug: str) -> Callable[[], tuple[int, dict]]:
    client = token_client(user)

    def call() -> tuple[int, dict]:
        response = client.post(
            f"/api/v1/contracts/{contract_slug}/measures/",
            {"code": "KPI 1", "title": "Visits on time", "kind": "kpi", "unit": "percent"},
            format="json",
        )
        return response.status_code, response.json()

    return call


@pytest.mark.parametrize("attempt", range(3))
def test_of_two_admins_adding_one_code_at_once_one_is_saved(attempt):
    contract = ContractFactory()
    admins = [member(contract.commissioner, Role.ADMIN) for _ in range(2)]

    results = at_once(*(add_measure(admin, contract.slug) for admin in admins))

    assert sorted(status for status, _ in results) == [201, 400], results
    (refusal,) = [body for status, body in results if status == 400]
    assert refusal in (
        {"code": [f"{contract.slug} already has the measure KPI 1."]},
        {
            "non_field_errors": [
                "Someone saved a record that clashes with this one meanwhile: read it "
                "again, then retry."
            ]
        },
    )
    assert Measure.objects.filter(measure_set=contract.measure_set).count() == 1
