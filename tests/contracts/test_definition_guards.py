"""A contract's dates cannot move past the returns and figures it holds: a start after
the period of its first, or an end before that of its last, is refused the same way by
the model's full_clean, the import and the Django admin (R15, R16)."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from contracts import imports, workflow
from contracts.models import Contract
from kpis.models import Frequency
from tests.factories import ContractFactory, MeasureFactory, ObservationFactory, UserFactory
from tests.imports.conftest import csv_bytes, row_counts, xlsx_bytes

pytestmark = pytest.mark.django_db

APRIL_RETURN_START = (
    "The contract cannot start on 2018-05-01: its first monthly return, for 2018-04, ends on "
    "2018-04-30, before it. Its dates cannot move past its data."
)
APRIL_RETURN_END = (
    "The contract cannot end on 2018-03-31: its last monthly return, for 2018-04, starts on "
    "2018-04-01, after it. Its dates cannot move past its data."
)


@pytest.fixture
def contract():
    """From April 2017, with KPI 1 (monthly) and its April 2018 return opened."""
    contract = ContractFactory(slug="fostering", name="Fostering", start=dt.date(2017, 4, 1))
    MeasureFactory(measure_set=contract.measure_set, code="KPI 1")
    workflow.open_return(contract, "2018-04")
    return contract


def refusal(contract: Contract, field: str) -> str:
    with pytest.raises(ValidationError) as error:
        contract.full_clean()
    return " ".join(error.value.message_dict[field])


def test_a_start_after_the_first_returns_period_is_refused_naming_the_dates(contract):
    contract.start = dt.date(2018, 5, 1)
    assert refusal(contract, "start") == APRIL_RETURN_START
    contract.start = dt.date(2018, 4, 30)  # the contract still runs in April
    contract.full_clean()


def test_an_end_before_the_last_returns_period_is_refused_naming_the_dates(contract):
    contract.end = dt.date(2018, 3, 31)
    assert refusal(contract, "end") == APRIL_RETURN_END
    contract.end = dt.date(2018, 4, 1)
    contract.full_clean()


def test_the_figures_of_its_measure_set_hold_its_dates_too(contract):
    kpi4 = MeasureFactory(
        measure_set=contract.measure_set, code="KPI 4", frequency=Frequency.QUARTERLY
    )
    ObservationFactory(measure=kpi4, period="2017/18 Q1")
    ObservationFactory(measure=kpi4, period="2018/19 Q2", is_official=False)
    contract.start, contract.end = dt.date(2017, 7, 1), dt.date(2018, 6, 30)
    with pytest.raises(ValidationError) as error:
        contract.full_clean()
    assert error.value.message_dict == {
        "start": [
            "The contract cannot start on 2017-07-01: its first figure, KPI 4 for 2017/18 Q1, ends "
            "on 2017-06-30, before it. Its dates cannot move past its data."
        ],
        "end": [
            "The contract cannot end on 2018-06-30: its last figure, KPI 4 for 2018/19 Q2, starts "
            "on 2018-07-01, after it. Its dates cannot move past its data."
        ],
    }
    contract.start, contract.end = dt.date(2017, 6, 30), dt.date(2018, 7, 1)
    contract.full_clean()


def test_a_contract_without_data_may_move_its_dates():
    contract = ContractFactory(slug="new", start=dt.date(2017, 4, 1))
    contract.start, contract.end = dt.date(2019, 4, 1), dt.date(2020, 3, 31)
    contract.full_clean()


# --- the import ---------------------------------------------------------------------------


def contract_row(contract: Contract, **changes) -> tuple[list, list]:
    row = {
        "slug": contract.slug,
        "name": contract.name,
        "commissioner": contract.commissioner.slug,
        "provider": contract.provider.slug,
        "start": "2017-04-01",
        "end": "",
    }
    row.update(changes)
    return list(row.values()), list(row)


@pytest.mark.parametrize(
    ("changes", "column", "message", "file"),
    [
        ({"start": "2018-05-01"}, "start", APRIL_RETURN_START, "xlsx"),
        ({"end": "2018-03-31"}, "end", APRIL_RETURN_END, "csv"),
    ],
)
def test_the_import_refuses_dates_past_the_data_in_their_row_and_column(contract, changes, column, message, file):
    values, headings = contract_row(contract, **changes)
    data = (xlsx_bytes if file == "xlsx" else csv_bytes)(headings, [values])
    before = row_counts()
    report = imports.import_file("contracts", data, f"contracts.{file}")
    assert not report.written
    assert [(p.row, p.column, p.why) for p in report.problems] == [(2, column, message)]
    assert row_counts() == before


def test_the_import_moves_dates_that_keep_the_data_inside(contract):
    values, headings = contract_row(contract, start="2018-04-15", end="2019-03-31")
    report = imports.import_file("contracts", csv_bytes(headings, [values]), "contracts.csv")
    assert report.written, [str(p) for p in report.problems]
    contract.refresh_from_db()
    assert (contract.start, contract.end) == (dt.date(2018, 4, 15), dt.date(2019, 3, 31))


# --- the Django admin -----------------------------------------------------------------------


def test_the_admin_refuses_a_start_past_the_data_with_the_models_message(client, contract):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    root.save()
    client.force_login(root)
    form = {
        "slug": contract.slug,
        "name": contract.name,
        "commissioner": contract.commissioner_id,
        "provider": contract.provider_id,
        "start": "2018-05-01",
        "end": "",
        "measure_set": contract.measure_set_id,
    }
    url = reverse("admin:contracts_contract_change", args=[contract.pk])
    response = client.post(url, form)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["start"] == [APRIL_RETURN_START]
    assert APRIL_RETURN_START in html.unescape(response.content.decode())
    contract.refresh_from_db()
    assert contract.start == dt.date(2017, 4, 1) and contract.history.count() == 1

    response = client.post(url, {**form, "start": "2018-04-01"})
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.start == dt.date(2018, 4, 1)


def test_a_new_contracts_measure_set_takes_the_first_free_slug():
    # One rule for the API and the import (contracts.models.measure_set_for): an unclaimed
    # set of the contract's slug is taken; otherwise <slug>, <slug>-measures, -measures-2...
    from contracts.models import measure_set_for
    from kpis.models import MeasureSet

    assert measure_set_for("fresh", "Fresh").slug == "fresh"
    loaded = MeasureSet.objects.create(slug="loaded", name="Loaded first")
    assert measure_set_for("loaded", "Loaded") == loaded
    taken = ContractFactory(slug="taken")
    MeasureSet.objects.filter(pk=taken.measure_set.pk).update(slug="taken")  # claimed
    MeasureSet.objects.create(slug="taken-measures", name="Another's")
    made = measure_set_for("taken", "Taken")
    assert made._state.adding and made.slug == "taken-measures-2"
    assert made.name == "Taken: contract measures"
