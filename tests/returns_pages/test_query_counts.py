"""Every page of the return costs a fixed number of queries, however many entries,
events or returns it shows (3 against 30)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts import workflow
from contracts.models import ReturnState
from tests.returns_pages.conftest import DUE, Cast

pytestmark = pytest.mark.django_db


def busy_return(size: int):
    """A queried return of ``size`` measures, each with a figure that owes a narrative,
    the narrative, an action, and an answered query: everything the pages show."""
    cast = Cast(measures=size, suffix=f"-{size}")
    editor, lead = cast["provider_editor"], cast["provider_lead"]
    monthly_return = workflow.open_return(cast.own, "2018-04")
    entries = list(monthly_return.entries.select_related("measure").order_by("pk"))
    for entry in entries:
        workflow.save_entry(
            entry.pk,
            editor,
            version=1,
            figures={"value": Decimal("12") if entry.measure.code == "KPI 2" else Decimal("90")},
            narrative={"variance_reason": "Late referrals."},
            actions=[{"description": "Triage", "owner": "Head of MASH", "due_date": DUE}],
        )
    workflow.submit(monthly_return.pk, lead)
    workflow.raise_query(monthly_return.pk, cast["commissioner"], [(e.pk, "Why?") for e in entries])
    answers = [(q.pk, "Because.") for e in entries for q in e.queries.all()]
    workflow.answer_queries(monthly_return.pk, editor, answers)
    monthly_return.refresh_from_db()
    assert monthly_return.state == ReturnState.QUERIED
    return cast, monthly_return, entries


def queries_for(client, user, path: str, method: str = "get", data=None) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(path, data or {})
    assert response.status_code == 200, response.content.decode()[:500]
    client.logout()
    return len(queries)


PAGES = {
    "return": ("get", "/returns/{r}/"),
    "entry": ("get", "/returns/{r}/entries/{e}/"),
    "history": ("get", "/returns/{r}/history/"),
    "verdict": ("post", "/returns/{r}/entries/{e}/verdict/"),
}


@pytest.mark.parametrize(
    "who, page",
    [
        ("provider_editor", "return"),
        ("commissioner", "return"),
        ("provider_editor", "entry"),
        ("commissioner", "entry"),
        ("commissioner", "history"),
        ("provider_editor", "verdict"),
    ],
)
def test_a_return_page_costs_the_same_for_3_and_30_entries(client, who, page):
    method, path = PAGES[page]
    counts = []
    for size in (3, 30):
        cast, monthly_return, entries = busy_return(size)
        url = path.format(r=monthly_return.pk, e=entries[-1].pk)
        counts.append(queries_for(client, cast[who], url, method, {"value": "91"}))
    assert counts[0] == counts[1], counts


def test_the_list_costs_the_same_for_3_and_30_returns(client):
    counts = []
    for size in (3, 30):
        cast = Cast(measures=1, suffix=f"-{size}")
        for number in range(size):
            year, month = divmod(3 + number, 12)
            workflow.open_return(cast.own, f"{2018 + year}-{month + 1:02d}")
        counts.append(queries_for(client, cast["commissioner"], "/returns/"))
    assert counts[0] == counts[1], counts
