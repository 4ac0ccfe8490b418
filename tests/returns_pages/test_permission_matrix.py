"""Who may do what to a return through the pages: every role x every page action, on the
contract the role's organisation is party to and on another organisation's.

The expected answers are written out below as a table, one row per role; each cell is a
test of its own (``commissioner-own-sign_off``). A success is a redirect (302) to the
return after a change, or 200 for a page read; a refusal is 403 (your role may not) or
404 (not a return you may see), and after every refusal nothing may have changed: no
state, entry version, figure, action, query or event. Bulk sign-off answers 200 with a
result per return: ``SIGNED`` or ``REFUSED`` (another organisation's return reads "No
such return."), or 403 for a role that signs nothing off anywhere.
"""

from __future__ import annotations

import pytest

from contracts.models import MonthlyReturn, Query, ReturnEvent, ReturnState, Role
from tests.returns_pages.conftest import Cast, everything

pytestmark = pytest.mark.django_db

SIGNED, REFUSED = "signed", "refused"

ACTIONS = (
    "view",
    "save_entry",
    "submit",
    "query",
    "answer",
    "sign_off",
    "reopen",
    "bulk_sign_off",
    "open_return",
)
# The state the return is in when each action is tried: one the action is meant for, so
# that only the role decides the answer. Viewing is tried on a submitted return: readers
# and officers see signed-off returns only (R13).
STATE_FOR = {
    "view": ReturnState.SUBMITTED,
    "save_entry": ReturnState.DRAFT,
    "submit": ReturnState.DRAFT,
    "query": ReturnState.SUBMITTED,
    "answer": ReturnState.QUERIED,
    "sign_off": ReturnState.SUBMITTED,
    "reopen": ReturnState.SIGNED_OFF,
    "bulk_sign_off": ReturnState.SUBMITTED,
    "open_return": None,  # a month with no return yet
}

S, R = SIGNED, REFUSED
# fmt: off
OWN = {
    #                  view save  submit query answer sign  reopen bulk open
    "provider_editor": (200, 302, 403,   403,  302,   403,  403,   403, 403),
    "provider_lead":   (200, 302, 302,   403,  302,   403,  403,   403, 403),
    "commissioner":    (200, 403, 403,   302,  403,   302,  302,   S,   302),
    "admin":           (200, 403, 403,   403,  403,   403,  403,   403, 302),
    # Readers and officers see signed-off returns only: a return in any other state is
    # not found; on a signed-off one (reopen) they may only look.
    "reader":          (404, 404, 404,   404,  404,   404,  403,   403, 403),
    "officer":         (404, 404, 404,   404,  404,   404,  403,   403, 403),
    "anonymous":       (302, 302, 302,   302,  302,   302,  302,   302, 302),
}
# Another organisation's return or contract: never found, whatever the role.
ANOTHER = {
    "provider_editor": (404, 404, 404,   404,  404,   404,  404,   403, 404),
    "provider_lead":   (404, 404, 404,   404,  404,   404,  404,   403, 404),
    "commissioner":    (404, 404, 404,   404,  404,   404,  404,   R,   404),
    "admin":           (404, 404, 404,   404,  404,   404,  404,   403, 404),
    "reader":          (404, 404, 404,   404,  404,   404,  404,   403, 404),
    "officer":         (404, 404, 404,   404,  404,   404,  404,   403, 404),
    "anonymous":       (302, 302, 302,   302,  302,   302,  302,   302, 302),
}
# fmt: on

CELLS = [
    pytest.param(role, side, action, row[column], id=f"{role}-{side}-{action}")
    for side, table in (("own", OWN), ("another", ANOTHER))
    for role, row in table.items()
    for column, action in enumerate(ACTIONS)
]
SUCCESS = {200, 302, SIGNED}


def test_the_table_has_a_cell_for_every_role_and_action():
    roles = {role.value for role in Role} | {"anonymous"}
    assert set(OWN) == set(ANOTHER) == roles
    assert all(len(row) == len(ACTIONS) for row in [*OWN.values(), *ANOTHER.values()])
    assert set(STATE_FOR) == set(ACTIONS)


def act(client, action: str, contract, monthly_return: MonthlyReturn | None) -> int | str:
    """Try the action as the page's form would; the outcome in the table's terms."""
    if action == "open_return":
        return client.post(
            "/returns/open/", {"contract": contract.slug, "month": "2018-05"}
        ).status_code
    url = f"/returns/{monthly_return.pk}/"
    entry = monthly_return.entries.order_by("pk").first()
    if action == "view":
        return client.get(url).status_code
    if action == "bulk_sign_off":
        response = client.post("/returns/sign-off/", {"returns": [monthly_return.pk]})
        if response.status_code != 200:
            return response.status_code
        html = response.content.decode()
        row = html[html.find(f'data-return="{monthly_return.pk}"', html.find("Sign-off results")) :]
        row = row[: row.find("</tr>")]
        if "No such return." in row:
            assert contract.slug == "another"
        return SIGNED if ">Signed off</strong>" in row else REFUSED
    if action == "save_entry":
        response = client.post(
            f"{url}entries/{entry.pk}/",
            {"version": entry.version, "value": "97" if entry.measure.code != "KPI 2" else "7"},
        )
    elif action == "submit":
        response = client.post(f"{url}submit/")
    elif action == "query":
        response = client.post(
            f"{url}query/", {"entries": [entry.pk], f"comment-{entry.pk}": "Why?"}
        )
    elif action == "answer":
        query = Query.objects.get(entry__monthly_return=monthly_return)
        response = client.post(f"{url}answer/", {"query": query.pk, "answer": "Because."})
    elif action == "sign_off":
        response = client.post(f"{url}sign-off/")
    elif action == "reopen":
        response = client.post(f"{url}reopen/", {"reason": "Miscounted."})
    else:
        raise AssertionError(f"no such action: {action}")
    if response.status_code == 302 and response["Location"].startswith("/accounts/login/"):
        return 302
    if response.status_code == 302:
        assert response["Location"].startswith(url)
    return response.status_code


@pytest.mark.parametrize("role, side, action, expected", CELLS)
def test_permission(client, role, side, action, expected):
    cast = Cast()
    contract = cast.own if side == "own" else cast.another
    state = STATE_FOR[action]
    monthly_return = cast.return_in(contract, state) if state else None
    if role != "anonymous":
        client.force_login(cast[role])
    before = everything()

    outcome = act(client, action, contract, monthly_return)

    assert outcome == expected
    after = everything()
    if role == "anonymous" or action == "view" or outcome not in SUCCESS:
        assert after == before
    else:
        # The act went through the workflow: one more event, on this contract's return.
        (new,) = set(after["events"]) - set(before["events"])
        event = ReturnEvent.objects.select_related("monthly_return").get(pk=new[0])
        assert event.monthly_return.contract_id == contract.pk
        assert event.actor == cast[role]
