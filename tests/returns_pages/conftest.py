"""The cast of the return pages' tests.

Contract ``own`` (council and provider with one person per role, usernames as the roles)
has two monthly measures: KPI 1, a percentage with target 95 and tolerance from 85, and
KPI 2, a count where lower is better with target 10 and no tolerance. Contract
``another`` belongs to two other organisations with their own staff.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from contracts import workflow
from contracts.models import MonthlyReturn, ReturnState, Role
from tests.factories import ContractFactory, MeasureFactory, TargetFactory, member

PROVIDER_ROLES = (Role.PROVIDER_EDITOR, Role.PROVIDER_LEAD)


@pytest.fixture(autouse=True)
def _quick_clients(settings):
    settings.WHITENOISE_AUTOREFRESH = True


def add_measures(contract, count: int = 2) -> None:
    ms = contract.measure_set
    kpi1 = MeasureFactory(
        measure_set=ms, code="KPI 1", title="Assessments within 45 days", display_order=1
    )
    TargetFactory(measure=kpi1, target=Decimal("95"), tolerance_low=Decimal("85"))
    if count < 2:
        return
    kpi2 = MeasureFactory(
        measure_set=ms,
        code="KPI 2",
        title="Children waiting for a plan",
        unit="count",
        decimals=0,
        polarity="down",
        display_order=2,
    )
    TargetFactory(measure=kpi2, target=Decimal("10"), tolerance_low=None, tolerance_high=None)
    for number in range(3, count + 1):
        measure = MeasureFactory(measure_set=ms, code=f"KPI {number}", display_order=number)
        TargetFactory(measure=measure, target=Decimal("95"), tolerance_low=Decimal("85"))


class Cast:
    def __init__(self, measures: int = 2, suffix: str = "") -> None:
        # ``suffix`` keeps two casts in one test apart (slugs and usernames are unique).
        self.own = ContractFactory(slug=f"own{suffix}", name="Children's services")
        self.another = ContractFactory(slug=f"another{suffix}", name="Northfield services")
        add_measures(self.own, measures)
        add_measures(self.another, 1)
        self.people = {
            role.value: member(
                self.own.provider if role in PROVIDER_ROLES else self.own.commissioner,
                role,
                f"{role.value}{suffix}",
            )
            for role in Role
        }
        self.staff = {
            self.own: self.people,
            self.another: {
                Role.PROVIDER_EDITOR.value: member(self.another.provider, Role.PROVIDER_EDITOR),
                Role.PROVIDER_LEAD.value: member(self.another.provider, Role.PROVIDER_LEAD),
                Role.COMMISSIONER.value: member(self.another.commissioner, Role.COMMISSIONER),
            },
        }

    def __getitem__(self, role: str):
        return self.people[role]

    def clean_figures(self, monthly_return: MonthlyReturn, editor) -> None:
        """Every entry on target: nothing owed."""
        for entry in monthly_return.entries.select_related("measure"):
            value = Decimal("8") if entry.measure.code == "KPI 2" else Decimal("96")
            workflow.save_entry(entry.pk, editor, version=entry.version, figures={"value": value})

    def return_in(self, contract, state: str, period: str = "2018-04") -> MonthlyReturn:
        """The contract's return driven through the workflow to ``state``, nothing owed."""
        staff = self.staff[contract]
        monthly_return = workflow.open_return(contract, period)
        self.clean_figures(monthly_return, staff["provider_editor"])
        if state != ReturnState.DRAFT:
            workflow.submit(monthly_return.pk, staff["provider_lead"])
        if state == ReturnState.QUERIED:
            entry = monthly_return.entries.order_by("pk").first()
            workflow.raise_query(monthly_return.pk, staff["commissioner"], [(entry.pk, "Source?")])
        elif state == ReturnState.SIGNED_OFF:
            workflow.sign_off(monthly_return.pk, staff["commissioner"])
        monthly_return.refresh_from_db()
        assert monthly_return.state == state
        return monthly_return


@pytest.fixture
def cast(db) -> Cast:
    return Cast()


def signed_in(client, user):
    client.force_login(user)
    return client


DUE = dt.date(2018, 6, 30)


def everything() -> dict[str, list]:
    """All that a request could change, across both contracts."""
    from contracts.models import Action, Entry, Query, ReturnEvent
    from kpis.models import Observation

    return {
        "returns": sorted(MonthlyReturn.objects.values_list("pk", "state")),
        "entries": sorted(
            Entry.objects.values_list("pk", "version", "variance_reason", "no_data_reason")
        ),
        "figures": sorted(Observation.objects.values_list("pk", "value", "is_official")),
        "actions": sorted(Action.objects.values_list("pk", "description", "owner", "due_date")),
        "queries": sorted(Query.objects.values_list("pk", "answer", "closed_at")),
        "events": sorted(ReturnEvent.objects.values_list("pk", "action")),
    }


def error_summary(response) -> list[str]:
    """The error summary's messages, in order, as a person reads them."""
    import re
    from html import unescape

    html = response.content.decode()
    start = html.find('class="govuk-error-summary"')
    if start < 0:
        return []
    body = html[start : html.find("</ul>", start)]
    items = re.findall(r"<li>(.*?)</li>", body, re.S)
    return [unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in items]
