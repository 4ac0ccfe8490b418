"""Who may do what to a return through the API: every role x every action, on the
contract the role's organisation is party to and on another organisation's.

The expected answers are written out below as a table, one row per role; each cell is a
test of its own (``commissioner-own-sign_off``). After every refusal nothing may have
changed: no state, entry version, figure, query or event.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contracts import workflow
from contracts.models import Entry, MonthlyReturn, Query, ReturnEvent, ReturnState, Role
from kpis.models import Observation
from tests.factories import ContractFactory, MeasureFactory, TargetFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_clients(settings):
    # WhiteNoise scans every static file for each new test client (over a second) unless
    # it looks files up per request; that is not what these tests are about.
    settings.WHITENOISE_AUTOREFRESH = True


# Outcomes other than an HTTP status: whether the list shows the return, and whether a
# bulk sign-off (always 200, with a result per return) signed it off.
LISTED, NOT_LISTED = "listed", "not listed"
SIGNED, REFUSED = "signed", "refused"

ACTIONS = (
    "list_draft",
    "list_signed_off",
    "detail_draft",
    "detail_signed_off",
    "patch",
    "submit",
    "query",
    "answer",
    "sign_off",
    "bulk_sign_off",
    "reopen",
)
# The state the return is in when each action is tried: one the action is meant for, so
# that only the role decides the answer.
STATE_FOR = {
    "list_draft": ReturnState.DRAFT,
    "list_signed_off": ReturnState.SIGNED_OFF,
    "detail_draft": ReturnState.DRAFT,
    "detail_signed_off": ReturnState.SIGNED_OFF,
    "patch": ReturnState.DRAFT,
    "submit": ReturnState.DRAFT,
    "query": ReturnState.SUBMITTED,
    "answer": ReturnState.QUERIED,
    "sign_off": ReturnState.SUBMITTED,
    "bulk_sign_off": ReturnState.SUBMITTED,
    "reopen": ReturnState.SIGNED_OFF,
}

L, N, S, R = LISTED, NOT_LISTED, SIGNED, REFUSED
# fmt: off
OWN = {
    #                 list   list    detail detail
    #                 draft  signed  draft  signed patch submit query answer sign  bulk reopen
    "provider_editor": (L,   L,      200,   200,   200,  403,   403,  200,   403,  R,   403),
    "provider_lead":   (L,   L,      200,   200,   200,  200,   403,  200,   403,  R,   403),
    "commissioner":    (L,   L,      200,   200,   403,  403,   200,  403,   200,  S,   200),
    "admin":           (L,   L,      200,   200,   403,  403,   403,  403,   403,  R,   403),
    # Readers and officers see official figures only (R13): a return not yet signed off
    # is not found, and on a signed-off one they may only look.
    "reader":          (N,   L,      404,   200,   404,  404,   404,  404,   404,  R,   403),
    "officer":         (N,   L,      404,   200,   404,  404,   404,  404,   404,  R,   403),
    "anonymous":       (401, 401,    401,   401,   401,  401,   401,  401,   401,  401, 401),
}
# Another organisation's return: never found, whatever the role.
ANOTHER = {
    "provider_editor": (N,   N,      404,   404,   404,  404,   404,  404,   404,  R,   404),
    "provider_lead":   (N,   N,      404,   404,   404,  404,   404,  404,   404,  R,   404),
    "commissioner":    (N,   N,      404,   404,   404,  404,   404,  404,   404,  R,   404),
    "admin":           (N,   N,      404,   404,   404,  404,   404,  404,   404,  R,   404),
    "reader":          (N,   N,      404,   404,   404,  404,   404,  404,   404,  R,   404),
    "officer":         (N,   N,      404,   404,   404,  404,   404,  404,   404,  R,   404),
    "anonymous":       (401, 401,    401,   401,   401,  401,   401,  401,   401,  401, 401),
}
# fmt: on

CELLS = [
    pytest.param(role, side, action, row[column], id=f"{role}-{side}-{action}")
    for side, table in (("own", OWN), ("another", ANOTHER))
    for role, row in table.items()
    for column, action in enumerate(ACTIONS)
]
SUCCESS = {200, LISTED, SIGNED}
READS = {"list_draft", "list_signed_off", "detail_draft", "detail_signed_off"}


def test_the_table_has_a_cell_for_every_role_and_action():
    roles = {role.value for role in Role} | {"anonymous"}
    assert set(OWN) == set(ANOTHER) == roles
    assert all(len(row) == len(ACTIONS) for row in [*OWN.values(), *ANOTHER.values()])
    assert set(STATE_FOR) == set(ACTIONS)


class World:
    """Two contracts with their own organisations. The people tried work for the first
    contract's commissioner or provider, one per role; the second has its own staff."""

    def __init__(self) -> None:
        self.own = ContractFactory(slug="own")
        self.another = ContractFactory(slug="another")
        for contract in (self.own, self.another):
            measure = MeasureFactory(measure_set=contract.measure_set, code="KPI 1")
            TargetFactory(measure=measure, target=Decimal("95"), tolerance_low=Decimal("85"))
        self.people = {
            role.value: member(
                self.own.provider
                if role in (Role.PROVIDER_EDITOR, Role.PROVIDER_LEAD)
                else self.own.commissioner,
                role,
                role.value,
            )
            for role in Role
        }
        self.staff = {
            self.own: self.people,
            self.another: {
                Role.PROVIDER_EDITOR: member(self.another.provider, Role.PROVIDER_EDITOR),
                Role.PROVIDER_LEAD: member(self.another.provider, Role.PROVIDER_LEAD),
                Role.COMMISSIONER: member(self.another.commissioner, Role.COMMISSIONER),
            },
        }

    def client(self, role: str) -> APIClient:
        client = APIClient()
        if role != "anonymous":
            token = Token.objects.create(user=self.people[role])
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    def return_in(self, contract, state: str) -> MonthlyReturn:
        """April's return of the contract, driven through the workflow to ``state``."""
        staff = self.staff[contract]
        monthly_return = workflow.open_return(contract, "2018-04")
        entry = monthly_return.entries.get()
        # On target: nothing owed, so a submission is refused only for the role.
        workflow.save_entry(
            entry.pk, staff[Role.PROVIDER_EDITOR], version=1, figures={"value": Decimal("96")}
        )
        if state == ReturnState.DRAFT:
            return monthly_return
        workflow.submit(monthly_return.pk, staff[Role.PROVIDER_LEAD])
        if state == ReturnState.QUERIED:
            workflow.raise_query(
                monthly_return.pk, staff[Role.COMMISSIONER], [(entry.pk, "Source?")]
            )
        elif state == ReturnState.SIGNED_OFF:
            workflow.sign_off(monthly_return.pk, staff[Role.COMMISSIONER])
        monthly_return.refresh_from_db()
        assert monthly_return.state == state
        return monthly_return


def act(client: APIClient, action: str, monthly_return: MonthlyReturn) -> int | str:
    """Try the action; the outcome in the table's terms."""
    url = f"/api/v1/returns/{monthly_return.pk}/"
    entry = monthly_return.entries.get()
    if action in ("list_draft", "list_signed_off"):
        response = client.get("/api/v1/returns/")
        if response.status_code != 200:
            return response.status_code
        ids = [row["id"] for row in response.json()["results"]]
        return LISTED if monthly_return.pk in ids else NOT_LISTED
    if action == "bulk_sign_off":
        response = client.post(
            "/api/v1/returns/sign-off/", {"returns": [monthly_return.pk]}, format="json"
        )
        if response.status_code != 200:
            return response.status_code
        (result,) = response.json()["results"]
        return SIGNED if result["signed_off"] else REFUSED
    if action in ("detail_draft", "detail_signed_off"):
        response = client.get(url)
    elif action == "patch":
        response = client.patch(
            f"/api/v1/entries/{entry.pk}/",
            {"version": entry.version, "value": "97"},
            format="json",
        )
    elif action == "submit":
        response = client.post(f"{url}submit/")
    elif action == "query":
        response = client.post(
            f"{url}query/", {"queries": [{"entry": entry.pk, "comment": "Why?"}]}, format="json"
        )
    elif action == "answer":
        query = Query.objects.get(entry=entry)
        response = client.post(
            f"{url}answer/", {"answers": [{"query": query.pk, "answer": "Because."}]}, format="json"
        )
    elif action == "sign_off":
        response = client.post(f"{url}sign-off/")
    elif action == "reopen":
        response = client.post(f"{url}reopen/", {"reason": "Miscounted."}, format="json")
    else:
        raise AssertionError(f"no such action: {action}")
    if response.status_code == 404:
        # The same words whether the return is another organisation's or does not exist.
        assert response.json()["detail"] in ("No such return.", "No such entry.")
    return response.status_code


def everything() -> dict[str, list]:
    """All that a request could change, across both contracts."""
    return {
        "returns": sorted(MonthlyReturn.objects.values_list("pk", "state")),
        "entries": sorted(Entry.objects.values_list("pk", "version", "variance_reason")),
        "figures": sorted(Observation.objects.values_list("pk", "value", "is_official")),
        "queries": sorted(Query.objects.values_list("pk", "answer", "closed_at")),
        "events": sorted(ReturnEvent.objects.values_list("pk", "action")),
    }


@pytest.mark.parametrize("role, side, action, expected", CELLS)
def test_permission(role, side, action, expected):
    world = World()
    monthly_return = world.return_in(
        world.own if side == "own" else world.another, STATE_FOR[action]
    )
    client = world.client(role)
    before = everything()

    outcome = act(client, action, monthly_return)

    assert outcome == expected
    after = everything()
    if action in READS or outcome not in SUCCESS:
        assert after == before
    else:
        # The act went through the workflow: one more event, on this return.
        (new,) = set(after["events"]) - set(before["events"])
        assert ReturnEvent.objects.get(pk=new[0]).monthly_return_id == monthly_return.pk
