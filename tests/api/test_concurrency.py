"""Two people acting on the same thing at the same moment.

Saving an entry names the version it started from (optimistic locking) and the
workflow locks the row it changes (``select_for_update``), so of two saves from the same
version exactly one wins and the other is told what was saved; of two sign-offs exactly
one is recorded. The threaded tests run each request on its own connection, as two
servers would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from contracts import workflow
from contracts.models import Entry, ReturnEvent, ReturnState, Role
from kpis.models import Observation
from tests.api.helpers import token_client
from tests.factories import ContractFactory, MeasureFactory, TargetFactory, member

# Real transactions: each thread's connection must see what the test committed.
pytestmark = pytest.mark.django_db(transaction=True)

only_on_postgresql = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite has no row locks (select_for_update does nothing) and refuses a second "
    "concurrent writer ('database is locked', or 'database table is locked' for the "
    "in-memory test database) rather than waiting for the first; "
    "the sequential tests below cover the same rules here. Run with DATABASE_URL set to "
    "PostgreSQL for the threaded ones.",
)


@pytest.fixture
def cast():
    contract = ContractFactory()
    measure = MeasureFactory(measure_set=contract.measure_set, code="KPI 1")
    TargetFactory(measure=measure, target=Decimal("95"), tolerance_low=Decimal("85"))
    people = {
        "editor": member(contract.provider, Role.PROVIDER_EDITOR, "editor"),
        "lead": member(contract.provider, Role.PROVIDER_LEAD, "lead"),
        "commissioner": member(contract.commissioner, Role.COMMISSIONER, "commissioner"),
        "deputy": member(contract.commissioner, Role.COMMISSIONER, "deputy"),
    }
    monthly_return = workflow.open_return(contract, "2018-04")
    return monthly_return, monthly_return.entries.get(), people


@pytest.fixture
def submitted(cast):
    monthly_return, entry, people = cast
    workflow.save_entry(entry.pk, people["editor"], version=1, figures={"value": Decimal("96")})
    workflow.submit(monthly_return.pk, people["lead"])
    return cast


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; each closes its own connection."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(number: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[number] = call()
        except Exception as exc:  # reported by the test, not lost in the thread
            results[number] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    return results


def patch(client: APIClient, entry: Entry, value: str) -> Callable[[], tuple[int, dict]]:
    def call() -> tuple[int, dict]:
        response = client.patch(
            f"/api/v1/entries/{entry.pk}/", {"version": 1, "value": value}, format="json"
        )
        return response.status_code, response.json()

    return call


def sign_off(client: APIClient, monthly_return) -> Callable[[], tuple[int, dict]]:
    def call() -> tuple[int, dict]:
        response = client.post(f"/api/v1/returns/{monthly_return.pk}/sign-off/")
        return response.status_code, response.json()

    return call


def assert_one_save_won(entry: Entry, outcomes: dict[str, tuple[int, dict]], sent: dict) -> str:
    """Exactly one save went through; the other was refused showing it. The winner's name."""
    assert sorted(status for status, _ in outcomes.values()) == [200, 409], outcomes
    (winner,) = [who for who, (status, _) in outcomes.items() if status == 200]
    (loser,) = [who for who, (status, _) in outcomes.items() if status == 409]
    refusal = outcomes[loser][1]
    assert "while you were editing it" in refusal["detail"]
    # The refusal shows the figure as saved, and the loser's own change to resend.
    assert (refusal["current"]["value"], refusal["current"]["version"]) == (sent[winner], 2)
    assert refusal["current"]["updated_by"] == winner
    assert refusal["submitted"] == {"version": 1, "value": sent[loser]}
    entry.refresh_from_db()
    assert (entry.version, entry.updated_by.username) == (2, winner)
    assert Observation.objects.get().value == Decimal(sent[winner])
    saves = ReturnEvent.objects.filter(action=ReturnEvent.Action.SAVE)
    assert [event.actor.username for event in saves] == [winner]
    return loser


def resend_loses_nothing(entry: Entry, loser_client: APIClient, sent: dict, loser: str) -> None:
    """The loser resends from the version now saved; both figures stay in the history."""
    response = loser_client.patch(
        f"/api/v1/entries/{entry.pk}/", {"version": 2, "value": sent[loser]}, format="json"
    )
    assert response.status_code == 200, response.json()
    history = set(Observation.objects.get().history.values_list("value", flat=True))
    assert {Decimal(v) for v in sent.values()} <= history


# --- at the same moment (PostgreSQL) ---------------------------------------------------


@only_on_postgresql
def test_two_saves_from_the_same_version_at_once_one_wins(cast):
    _, entry, people = cast
    clients = {who: token_client(people[who]) for who in ("editor", "lead")}
    sent = {"editor": "92.1", "lead": "93"}

    results = at_once(*(patch(clients[who], entry, sent[who]) for who in ("editor", "lead")))

    outcomes = dict(zip(("editor", "lead"), results, strict=True))
    loser = assert_one_save_won(entry, outcomes, sent)
    resend_loses_nothing(entry, clients[loser], sent, loser)


@only_on_postgresql
def test_two_sign_offs_at_once_record_one(submitted):
    monthly_return, _, people = submitted
    clients = [token_client(people[who]) for who in ("commissioner", "deputy")]

    results = at_once(*(sign_off(client, monthly_return) for client in clients))

    assert sorted(status for status, _ in results) == [200, 409], results
    (refusal,) = [body for status, body in results if status == 409]
    assert "signed off" in refusal["detail"]
    monthly_return.refresh_from_db()
    assert monthly_return.state == ReturnState.SIGNED_OFF
    assert monthly_return.events.filter(action=ReturnEvent.Action.SIGN_OFF).count() == 1


@only_on_postgresql
def test_two_saves_at_once_through_the_workflow_one_wins(cast):
    """The same race one level down, for callers other than the API (pages, commands)."""
    _, entry, people = cast

    def save(who: str, value: str) -> Callable[[], Any]:
        def call() -> Any:
            try:
                return workflow.save_entry(
                    entry.pk, people[who], version=1, figures={"value": Decimal(value)}
                )
            except workflow.StaleEntry as stale:
                return stale

        return call

    results = at_once(save("editor", "92.1"), save("lead", "93"))

    (stale,) = [r for r in results if isinstance(r, workflow.StaleEntry)]
    (saved,) = [r for r in results if isinstance(r, Entry)]
    assert stale.entry.observation.value == saved.observation.value
    assert Observation.objects.get().value == saved.observation.value
    assert ReturnEvent.objects.filter(action=ReturnEvent.Action.SAVE).count() == 1


# --- one after the other (every database) ----------------------------------------------


def test_a_save_from_a_stale_version_is_refused_showing_the_saved_figure(cast):
    _, entry, people = cast
    clients = {who: token_client(people[who]) for who in ("editor", "lead")}
    sent = {"editor": "92.1", "lead": "93"}

    outcomes = {who: patch(clients[who], entry, sent[who])() for who in ("editor", "lead")}

    loser = assert_one_save_won(entry, outcomes, sent)
    assert loser == "lead"
    resend_loses_nothing(entry, clients[loser], sent, loser)


def test_a_second_sign_off_is_refused_and_records_nothing(submitted):
    monthly_return, _, people = submitted
    clients = [token_client(people[who]) for who in ("commissioner", "deputy")]

    results = [sign_off(client, monthly_return)() for client in clients]

    assert [status for status, _ in results] == [200, 409]
    assert monthly_return.events.filter(action=ReturnEvent.Action.SIGN_OFF).count() == 1
