"""The issue's acceptance: a mid-year revision of the demo's 2018/19 targets (R12, R16).

As ``admin``, draft a revision from October 2018 lowering KPI 1's target from 95% to 93%
(tolerance from 85%); as ``commissioner``, approve it. April 2018's signed-off verdicts
stay as the committee saw them, while a later month is rated against the new target.
A revision reaching back over the signed-off April is refused, and nothing changes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from contracts.demo import DEMO_PASSWORD
from contracts.models import Contract, TargetRevision
from kpis import periods
from kpis.models import Measure, Target
from kpis.scorecard import build_scorecard
from tests.factories import ObservationFactory
from tests.revision_pages.helpers import line_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("load_demo", stdout=StringIO())
    return Contract.objects.get(slug="sunderland-tfc")


def sign_in(client, username: str) -> None:
    client.logout()
    assert client.login(username=username, password=DEMO_PASSWORD)


def draft_and_change_kpi1(client, month: str) -> TargetRevision:
    sign_in(client, "admin")
    response = client.post(
        "/targets/sunderland-tfc/",
        {
            "title": "2018/19 targets",
            "effective_from": month,
            "rationale": "Revised with the provider for 2018/19 (report section 5).",
        },
    )
    assert response.status_code == 302
    revision = TargetRevision.objects.get(effective_from=month)
    url = f"/targets/revisions/{revision.pk}/"
    page = client.get(url)
    data = line_data(
        page,
        "KPI 1",
        target="93",
        tolerance_low="85",
        rationale="Decisions slowed by the move to Liquid Logic; 93% is realistic this year.",
    )
    assert client.post(url, data).status_code == 302
    return revision


def kpi1_row(contract: Contract, year: int, month: int, *, include_drafts: bool):
    rows = build_scorecard(contract.measure_set, periods.month(year, month), include_drafts=include_drafts)
    return next(row for row in rows if row.measure.code == "KPI 1")


def scorecard_statuses(contract: Contract) -> dict[str, str]:
    rows = build_scorecard(contract.measure_set, periods.month(2018, 4), include_drafts=False)
    return {row.measure.code: str(row.verdict.status) for row in rows}


def test_a_mid_year_revision_leaves_april_alone_and_rates_later_months_anew(client, demo):
    april_before = scorecard_statuses(demo)
    revision = draft_and_change_kpi1(client, "2018-10")

    sign_in(client, "commissioner")
    page = client.get(f"/targets/revisions/{revision.pk}/").content.decode()
    assert "1 of" in page and "95%, tolerance from 85%" in page and "93%, tolerance from 85%" in page
    assert client.post(f"/targets/revisions/{revision.pk}/approve/").status_code == 302
    revision.refresh_from_db()
    assert revision.state == "approved" and revision.approved_by.username == "commissioner"

    # April 2018, as signed off: every official verdict unchanged; KPI 1 against 95%.
    assert scorecard_statuses(demo) == april_before
    april = kpi1_row(demo, 2018, 4, include_drafts=False)
    assert (april.period, april.value, april.verdict.status) == ("2018-04", Decimal("92.1"), "within_tolerance")
    assert april.target.target == Decimal("95")

    # A later month: the same 94% is on target from October, within tolerance before it.
    kpi1 = Measure.objects.get(measure_set=demo.measure_set, code="KPI 1")
    ObservationFactory(measure=kpi1, period="2018-09", value=Decimal("94"), is_official=False)
    ObservationFactory(measure=kpi1, period="2018-10", value=Decimal("94"), is_official=False)
    september = kpi1_row(demo, 2018, 9, include_drafts=True)
    october = kpi1_row(demo, 2018, 10, include_drafts=True)
    assert (september.period, september.verdict.status, september.target.target) == (
        "2018-09", "within_tolerance", Decimal("95"),
    )
    assert (october.period, october.verdict.status, october.target.target) == (
        "2018-10", "on_target", Decimal("93"),
    )

    # The targets page says where the target changed mid-year.
    targets = client.get("/targets/sunderland-tfc/").content.decode()
    assert "Changed mid-year" in targets and "1 October 2018" in targets


def test_a_revision_reaching_back_over_the_signed_off_april_is_refused(client, demo):
    kpi1_targets = list(Target.objects.filter(measure__measure_set=demo.measure_set).values())
    april_before = scorecard_statuses(demo)
    revision = draft_and_change_kpi1(client, "2018-04")

    sign_in(client, "commissioner")
    response = client.post(f"/targets/revisions/{revision.pk}/approve/")
    assert response.status_code == 400
    text = response.content.decode()
    assert "govuk-error-summary" in text
    assert "KPI 1: official figures (2018-04" in text and "(R16)" in text

    revision.refresh_from_db()
    assert revision.state == "draft" and revision.approved_by is None
    assert list(Target.objects.filter(measure__measure_set=demo.measure_set).values()) == kpi1_targets
    assert Target.objects.get(measure__measure_set=demo.measure_set, measure__code="KPI 1").valid_from == (
        dt.date(2017, 4, 1)
    )
    assert scorecard_statuses(demo) == april_before
