"""Statistical process control beyond the acceptance case: recording a rebase (who may,
bad input, the audit trail, what the chart and the API then show), series breaks,
provisional limits, too few figures, cumulative measures, drafts, access, the schema, and
a fixed number of queries for the series endpoint."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from contracts.models import Role
from kpis import periods
from kpis.models import Measure, Observation, Rebase, SeriesBreak
from tests.factories import (
    ContractFactory,
    MeasureFactory,
    ObservationFactory,
    TargetFactory,
    member,
)
from tests.spc_integration.conftest import VALUES

pytestmark = pytest.mark.django_db


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def series(client, user, contract, code: str = "kpi-9", period: str = "2018-04"):
    client.force_login(user)
    return client.get(f"/api/v1/contracts/{contract.slug}/measures/{code}/series/?period={period}")


def post_rebase(client, user, contract, **data):
    client.force_login(user)
    return client.post(
        f"/contracts/{contract.slug}/measures/kpi-9/rebases/", {"period": "2018-04", **data}
    )


def test_a_commissioner_records_a_rebase_which_is_audited_and_charted(client, imported):
    contract, commissioner, reader = imported
    response = post_rebase(
        client, commissioner, contract, from_period="2017-07", reason="New assessment team from July 2017"
    )
    assert response.status_code == 302
    assert response["Location"].endswith("/measures/kpi-9/?period=2018-04#spc")
    rebase = Rebase.objects.get()
    assert (rebase.from_period, rebase.from_date) == ("2017-07", dt.date(2017, 7, 1))
    (made,) = rebase.history.all()
    assert (made.history_type, made.history_user) == ("+", commissioner)

    client.force_login(reader)
    page = client.get(f"/contracts/{contract.slug}/measures/kpi-9/?period=2018-04")
    text = text_of(page.content.decode())
    assert "From 2017-07: New assessment team from July 2017 (recorded by cora on" in text
    chart = page.context["chart"]
    assert chart["spc"]["rebases"] == [
        {"x": "2017-07-01", "label": "Rebase: New assessment team from July 2017"}
    ]
    assert "Rebase from 2017-07: New assessment team from July 2017." in chart["desc"]
    assert ">Rebase: New assessment team from July 2017<" in page.content.decode()
    # Ten figures since the rebase are fewer than the twelve its own limits need, so they
    # are still judged by the limits before it (drawn on across it): the rebase cannot
    # turn the shift into "insufficient data".
    assert [line["role"] for line in chart["spc"]["lines"]] == ["own", "carried"]
    assert "Judged by the earlier limits" in text

    body = series(client, reader, contract).json()
    assert body["variation"] == "special_cause_improving"
    assert [(s["starts"], s["from_period"], s["judged_by"], s["limits"] is None) for s in body["segments"]] == [
        ("start", "2016-05", 0, False),
        ("rebase", "2017-07", 0, True),
    ]
    assert body["segments"][1]["reason"] == "Rebase from 2017-07: New assessment team from July 2017"
    assert body["changes"] == [
        {"change": "rebase", "from_period": "2017-07", "reason": "New assessment team from July 2017", "applied": True}
    ]
    assert [s["rule"] for s in body["signals"]] == ["shift"]


def test_a_rebase_with_its_own_limits_keeps_the_earlier_ones_on_the_chart(client, imported):
    contract, commissioner, reader = imported
    # From May 2017: twelve figures either side, so each segment has provisional limits of
    # its own. Before: 91, 88, ... (mean 89.5); after: 91, 88, then 92, 93, ... (mean 92).
    post_rebase(client, commissioner, contract, from_period="2017-05", reason="Reorganised")
    client.force_login(reader)
    page = client.get(f"/contracts/{contract.slug}/measures/kpi-9/?period=2018-04")
    lines = page.context["chart"]["spc"]["lines"]
    assert [(line["role"], line["from"], line["mean"]) for line in lines] == [
        ("own", "2016-05-01", 89.5),
        ("own", "2017-05-01", 92.0),
        ("replaced", "2017-05-01", 89.5),  # the earlier limits carried on, dotted
    ]
    assert ">Limits before the rebase<" in page.content.decode()
    assert "The mean is better than before the rebase." in text_of(page.content.decode())
    body = series(client, reader, contract).json()
    first, rebased = body["segments"]
    assert (first["limits"]["mean"], first["judged_by"]) == ("89.5", 0)
    assert (rebased["limits"]["mean"], rebased["judged_by"]) == ("92", 1)
    assert rebased["versus_previous"] == "improving"
    assert body["limits"] == rebased["limits"] and body["limits"]["provisional"] is True


def test_a_series_break_starts_new_limits_and_keeps_the_earlier_segment(client, imported):
    contract, _, reader = imported
    measure = Measure.objects.get(code="KPI 9")
    SeriesBreak.objects.create(measure=measure, from_period="2017-04", from_date=dt.date(2017, 4, 1), reason="New definition")
    body = series(client, reader, contract).json()
    before, after = body["segments"]
    assert (before["to_period"], after["from_period"], after["starts"]) == ("2017-03", "2017-04", "series_break")
    # Eleven figures before the break are too few for limits (12); the thirteen after have
    # provisional limits of their own, so the verdicts are provisional.
    assert before["limits"] is None and after["limits"]["provisional"] is True
    assert after["points"] == 13 and body["limits"] == after["limits"]
    client.force_login(reader)
    page = client.get(f"/contracts/{contract.slug}/measures/kpi-9/?period=2018-04")
    assert "Process limits (provisional)" in page.content.decode()
    assert page.context["chart"]["spc"]["lines"][0]["provisional"] is True


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"from_period": "2017/18 Q2", "reason": "New team"}, "from_period",
         "KPI 9 is monthly: '2017/18 Q2' is a quarter, not a month."),
        ({"from_period": "2017-07", "reason": "  "}, "reason", "Say why the process limits are recalculated."),
        ({"from_period": "", "reason": "New team"}, "from_period",
         "Enter the period the changed process starts, for example 2018-04."),
    ],
)
def test_a_bad_rebase_is_refused_with_a_message_and_changes_nothing(client, imported, data, field, message):
    contract, commissioner, _ = imported
    response = post_rebase(client, commissioner, contract, **data)
    assert response.status_code == 400
    assert message in response.context["rebase_form"].errors[field]
    assert message in response.content.decode().replace("&#x27;", "'")
    assert Rebase.objects.count() == 0


def test_a_second_rebase_from_the_same_period_is_refused(client, imported):
    contract, commissioner, _ = imported
    post_rebase(client, commissioner, contract, from_period="2017-07", reason="New team")
    response = post_rebase(client, commissioner, contract, from_period="2017-07", reason="Again")
    assert response.status_code == 400
    assert "KPI 9 is already rebased from 2017-07." in response.context["rebase_form"].errors["from_period"]
    assert Rebase.objects.count() == 1


def test_only_commissioners_and_admins_record_a_rebase(client, imported):
    contract, _, reader = imported
    provider = member(contract.provider, Role.PROVIDER_LEAD, "pam")
    admin = member(contract.commissioner, Role.ADMIN, "ada")
    for user in (reader, provider):
        response = post_rebase(client, user, contract, from_period="2017-07", reason="New team")
        assert response.status_code == 403
        page = client.get(f"/contracts/{contract.slug}/measures/kpi-9/?period=2018-04")
        assert "Record a rebase" not in page.content.decode()
    assert Rebase.objects.count() == 0
    outsider = member(ContractFactory().provider, Role.PROVIDER_LEAD, "otto")
    assert post_rebase(client, outsider, contract, from_period="2017-07", reason="x").status_code == 404
    assert post_rebase(client, admin, contract, from_period="2017-07", reason="New team").status_code == 302


def test_too_few_figures_is_insufficient_data_everywhere(client):
    contract = ContractFactory(slug="small")
    reader = member(contract.commissioner, Role.READER)
    measure = MeasureFactory(measure_set=contract.measure_set, code="KPI 9")
    TargetFactory(measure=measure, valid_from=dt.date(2016, 4, 1), target=Decimal(83), tolerance_low=Decimal(78), tolerance_high=None)
    for i, value in enumerate(VALUES[-11:]):
        ObservationFactory(measure=measure, period=periods.add_months(periods.month(2017, 6), i).label, value=Decimal(value))
    body = series(client, reader, contract).json()
    assert (body["variation"], body["assurance"], body["tolerance_assurance"], body["limits"]) == (
        "insufficient_data", "not_applicable", "not_applicable", None,
    )
    assert body["signals"] == [] and {p["variation"] for p in body["points"]} == {"insufficient_data"}
    client.force_login(reader)
    page = client.get(f"/contracts/{contract.slug}/measures/kpi-9/?period=2018-04")
    text = text_of(page.content.decode())
    assert "Insufficient data" in text
    assert "too few comparable figures to tell real change from chance: process limits need at least twelve" in text
    assert page.context["chart"]["spc"]["lines"] == []


def test_a_cumulative_measure_has_no_chart_and_says_why(client):
    contract = ContractFactory(slug="cumulative")
    reader = member(contract.commissioner, Role.READER)
    measure = MeasureFactory(measure_set=contract.measure_set, code="KPI 9", unit="count", decimals=0, cumulative=True)
    for i in range(14):
        ObservationFactory(measure=measure, period=periods.add_months(periods.month(2017, 3), i).label, value=Decimal(10 * (i % 12 + 1)))
    client.force_login(reader)
    row = client.get(f"/api/v1/contracts/{contract.slug}/scorecard/?period=2018-04").json()["results"][0]
    assert (row["variation"], row["assurance"], row["tolerance_assurance"]) == (None, None, None)
    body = series(client, reader, contract).json()
    assert body["charted"] is False and body["points"] == [] and body["variation"] is None
    page = client.get(f"/contracts/{contract.slug}/dashboard/?period=2018-04")
    assert "Not charted" in text_of(page.content.decode())


def test_readers_series_leaves_out_draft_figures(client, imported):
    contract, commissioner, reader = imported
    measure = Measure.objects.get(code="KPI 9")
    ObservationFactory(measure=measure, period="2018-05", value=Decimal("60"), is_official=False)
    official = series(client, reader, contract, period="2018-05").json()
    assert official["points"][-1]["period"] == "2018-04"
    with_draft = series(client, commissioner, contract, period="2018-05").json()
    assert with_draft["points"][-1] == {
        "period": "2018-05", "value": "60", "status": "outside_tolerance", "segment": 0,
        "moving_range": "33", "variation": "special_cause_concerning", "signals": [1],
    }
    assert with_draft["variation"] == "special_cause_concerning"
    assert [s["rule"] for s in with_draft["signals"]] == ["shift", "beyond_limit"]


def test_the_series_of_another_organisations_contract_or_a_bad_month(client, imported):
    contract, _, reader = imported
    outsider = member(ContractFactory().provider, Role.PROVIDER_LEAD)
    assert series(client, outsider, contract).status_code == 404
    assert series(client, reader, contract, code="no-such-measure").status_code == 404
    response = series(client, reader, contract, period="2018/19 Q1")
    assert response.status_code == 400
    assert response.json() == {
        "period": ["'2018/19 Q1' is a quarter, not a month: expected a month written YYYY-MM, e.g. 2018-04."]
    }
    assert APIClient().get(f"/api/v1/contracts/{contract.slug}/measures/kpi-9/series/").status_code in (401, 403)


def _series_queries(client, user, contract, code: str) -> int:
    client.force_login(user)
    client.get(f"/api/v1/contracts/{contract.slug}/")  # the session's first-request costs
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/api/v1/contracts/{contract.slug}/measures/{code}/series/?period=2018-04")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_series_endpoint_reads_a_fixed_number_of_queries(client):
    small = ContractFactory()
    user = member(small.commissioner, Role.COMMISSIONER)
    large = ContractFactory(commissioner=small.commissioner)
    few = MeasureFactory(measure_set=small.measure_set, code="KPI 1")
    TargetFactory(measure=few)
    ObservationFactory(measure=few, period="2018-04")
    many = MeasureFactory(measure_set=large.measure_set, code="KPI 1")
    for year in range(2014, 2019):
        TargetFactory(measure=many, valid_from=dt.date(year, 4, 1), valid_to=dt.date(year + 1, 3, 31))
    Observation.objects.bulk_create(
        Observation(
            measure=many, period=p.label, period_start=p.start, period_end=p.end,
            value=Decimal(80 + i % 7), is_official=True,
        )
        for i, p in enumerate(periods.add_months(periods.month(2014, 5), n) for n in range(48))
    )
    SeriesBreak.objects.create(measure=many, from_period="2016-04", from_date=dt.date(2016, 4, 1), reason="x")
    Rebase.objects.create(measure=many, from_period="2017-04", from_date=dt.date(2017, 4, 1), reason="y")
    assert _series_queries(client, user, small, "kpi-1") == _series_queries(client, user, large, "kpi-1")


def test_the_schema_documents_the_series_and_the_scorecards_spc_fields():
    schema = APIClient().get("/api/schema/?format=json").json()
    get = schema["paths"]["/api/v1/contracts/{contract_slug}/measures/{slug}/series/"]["get"]
    assert {"200", "400", "404"} <= set(get["responses"])
    assert "period" in [p["name"] for p in get["parameters"]]
    components = schema["components"]["schemas"]
    assert set(components["VariationEnum"]["enum"]) == {
        "common_cause", "special_cause_improving", "special_cause_concerning",
        "special_cause_neither", "insufficient_data",
    }
    assert set(components["AssuranceEnum"]["enum"]) == {
        "consistently_passing", "consistently_failing", "hit_and_miss", "not_applicable",
    }
    assert set(components["ToleranceAssuranceEnum"]["enum"]) == {
        "consistently_within", "consistently_outside", "hit_and_miss", "not_applicable",
    }
    row = components["ScorecardRow"]["properties"]
    assert {"variation", "assurance", "tolerance_assurance"} <= set(row)
    series_doc = components["MeasureSeries"]["properties"]
    assert {"points", "segments", "signals", "changes", "limits", "variation"} <= set(series_doc)


def test_the_django_admin_records_a_rebase_with_its_history(client, imported):
    from django.urls import reverse

    from tests.factories import UserFactory

    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    root.save()
    client.force_login(root)
    measure = Measure.objects.get(code="KPI 9")
    url = reverse("admin:kpis_rebase_add")
    refused = client.post(url, {"measure": measure.pk, "from_period": "2017/18 Q2", "reason": "New team"})
    assert refused.status_code == 200
    assert "KPI 9 is monthly: &#x27;2017/18 Q2&#x27; is a quarter, not a month." in refused.content.decode()
    assert Rebase.objects.count() == 0
    added = client.post(url, {"measure": measure.pk, "from_period": "2017-07", "reason": "New team"})
    assert added.status_code == 302
    (made,) = Rebase.objects.get().history.all()
    assert (made.history_type, made.history_user, made.from_period) == ("+", root, "2017-07")
    contract, _, reader = imported
    body = series(client, reader, contract).json()
    assert body["changes"][0]["reason"] == "New team" and body["segments"][1]["starts"] == "rebase"
