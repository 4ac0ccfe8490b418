"""A measure's definition cannot change under its official figures (R15, R16), bad
statistical process control settings and rebases are refused, and every way in (the
model's full_clean, the import, the Django admin, the API) refuses the same way."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contracts import imports
from contracts.models import Role
from kpis import periods, spc
from kpis.models import Measure, MeasureSet, Observation, Rebase
from kpis.scorecard import build_scorecard
from tests.factories import (
    ContractFactory,
    MeasureFactory,
    ObservationFactory,
    UserFactory,
    member,
)
from tests.imports.conftest import csv_bytes, row_counts, xlsx_bytes

pytestmark = pytest.mark.django_db

MEASURE_HEADINGS = ["contract", "code", "title", "kind", "unit", "per", "polarity", "decimals",
                    "cumulative", "lag_months", "frequency"]


@pytest.fixture
def contract():
    return ContractFactory(slug="fostering", name="Fostering")


@pytest.fixture
def rated(contract):
    """KPI 1 (higher is better, one decimal) with official figures for April and May 2018."""
    measure = MeasureFactory(measure_set=contract.measure_set, code="KPI 1")
    for label in ("2018-04", "2018-05"):
        ObservationFactory(measure=measure, period=label, is_official=True)
    return measure


@pytest.fixture
def drafted(contract):
    """KPI 2 with a draft figure only (its return not yet signed off)."""
    measure = MeasureFactory(measure_set=contract.measure_set, code="KPI 2")
    ObservationFactory(measure=measure, period="2018-04", is_official=False)
    return measure


def refusal(obj, field: str) -> str:
    with pytest.raises(ValidationError) as error:
        obj.full_clean()
    return " ".join(error.value.message_dict[field])


# The definition fields official verdicts depend on, each with a change and how the
# message shows the value before and after.
VERDICT_CHANGES = [
    ("polarity", {"polarity": "down"}, "'up' (Higher is better)", "'down' (Lower is better)"),
    ("unit", {"unit": "count"}, "'percent' (Percentage)", "'count' (Count)"),
    ("per", {"unit": "rate", "per": 10000}, "none", "10000"),
    ("decimals", {"decimals": 2}, "1", "2"),
    ("cumulative", {"cumulative": True}, "no", "yes"),
]


# --- the model: full_clean ----------------------------------------------------------------


@pytest.mark.parametrize(("field", "changes", "old", "new"), VERDICT_CHANGES)
def test_a_definition_under_official_figures_is_refused_naming_field_values_and_rule(
    rated, field, changes, old, new
):
    for name, value in changes.items():
        setattr(rated, name, value)
    message = refusal(rated, field)
    assert message == (
        f"KPI 1: the {field} cannot change from {old} to {new}: it has 2 official figures "
        "(2018-04 to 2018-05), whose verdicts it would change, and official verdicts never "
        "change silently (R15, R16). Add a new measure instead."
    )


@pytest.mark.parametrize(("field", "changes", "old", "new"), VERDICT_CHANGES)
def test_the_same_change_goes_through_while_the_figures_are_drafts(drafted, field, changes, old, new):
    for name, value in changes.items():
        setattr(drafted, name, value)
    drafted.full_clean()
    drafted.save()
    drafted.refresh_from_db()
    assert getattr(drafted, field) == changes[field]


def test_a_measure_with_no_figures_may_change_anything(contract):
    measure = MeasureFactory(measure_set=contract.measure_set, code="KPI 3")
    measure.polarity, measure.frequency, measure.year_type = "", "termly", "academic"
    measure.full_clean()


def test_the_frequency_and_year_type_stay_once_there_is_any_figure(drafted):
    drafted.frequency = "annual"
    assert refusal(drafted, "frequency") == (
        "KPI 2: the frequency cannot change from 'monthly' (Monthly) to 'annual' (Annual): its "
        "figures are labelled by its monthly financial periods (R11); its frequency and year "
        "type cannot change. Add a new measure instead."
    )


def test_the_rest_of_the_definition_still_changes_under_official_figures(rated):
    rated.title, rated.definition, rated.lag_months = "Renamed", "Now explained", 2
    rated.full_clean()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("decimals", 7, "KPI 9: figures are stored to 6 decimal places, so 7 cannot be shown; use 0 to 6."),
        ("lag_months", 25, "KPI 9: a figure is due at most 24 months after its period ends, not 25."),
    ],
)
def test_settings_beyond_what_is_stored_or_chased_are_refused(field, value, message):
    measure = MeasureFactory.build(measure_set=MeasureSet.objects.create(name="S", slug="s"), code="KPI 9")
    setattr(measure, field, value - 1)
    measure.full_clean()  # 6 decimals and a 24-month lag are allowed
    setattr(measure, field, value)
    assert refusal(measure, field) == message


# --- the import: a real workbook through contracts.imports ------------------------------------


def measure_row(code: str, **changes) -> list:
    row = {
        "contract": "fostering", "code": code, "title": f"Measure {code}", "kind": "kpi",
        "unit": "percent", "per": "", "polarity": "up", "decimals": 1, "cumulative": "no",
        "lag_months": 0, "frequency": "monthly",
    }
    row.update(changes)
    return [row[h] for h in MEASURE_HEADINGS]


def test_the_import_refuses_a_definition_under_official_figures_in_its_row_and_column(rated, drafted):
    before = row_counts()
    data = xlsx_bytes(
        MEASURE_HEADINGS,
        [
            measure_row("KPI 1", polarity="down", cumulative="yes"),
            measure_row("KPI 2", frequency="quarterly"),
            measure_row("KPI 3", decimals=7, lag_months=30),
        ],
    )
    report = imports.import_file("measures", data, "measures.xlsx")
    assert not report.written
    found = {(p.row, p.column): p.why for p in report.problems}
    assert set(found) == {(2, "polarity"), (2, "cumulative"), (3, "frequency"), (4, "decimals"), (4, "lag_months")}
    assert found[(2, "polarity")].startswith(
        "KPI 1: the polarity cannot change from 'up' (Higher is better) to 'down' (Lower is better): "
        "it has 2 official figures (2018-04 to 2018-05)"
    )
    assert "the cumulative cannot change from no to yes" in found[(2, "cumulative")]
    assert "(R15, R16)" in found[(2, "cumulative")]
    assert "its frequency and year type cannot change" in found[(3, "frequency")]
    assert found[(4, "decimals")] == "KPI 3: figures are stored to 6 decimal places, so 7 cannot be shown; use 0 to 6."
    assert "not 30" in found[(4, "lag_months")]
    assert row_counts() == before
    rated.refresh_from_db()
    assert (rated.polarity, rated.cumulative) == ("up", False)


def test_the_import_changes_a_definition_whose_figures_are_drafts(drafted):
    report = imports.import_file(
        "measures", csv_bytes(MEASURE_HEADINGS, [measure_row("KPI 2", polarity="down", decimals=2)]), "m.csv"
    )
    assert report.written, [str(p) for p in report.problems]
    drafted.refresh_from_db()
    assert (drafted.polarity, drafted.decimals) == ("down", 2)


# --- the Django admin -----------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    root.save()
    client.force_login(root)
    return client


def measure_form(measure: Measure, **changes) -> dict[str, str]:
    form = {
        "measure_set": str(measure.measure_set_id),
        "code": measure.code,
        "title": measure.title,
        "kind": measure.kind,
        "definition": measure.definition,
        "unit": measure.unit,
        "per": "" if measure.per is None else str(measure.per),
        "decimals": str(measure.decimals),
        "polarity": measure.polarity,
        "frequency": measure.frequency,
        "year_type": measure.year_type,
        "lag_months": str(measure.lag_months),
        "data_source": "",
        "comparability_note": "",
        "display_order": "0",
        "targets-TOTAL_FORMS": "0",
        "targets-INITIAL_FORMS": "0",
    }
    if measure.cumulative:
        form["cumulative"] = "on"
    form.update(changes)
    return form


def test_the_admin_refuses_a_definition_under_official_figures_with_the_models_message(admin_client, rated):
    url = reverse("admin:kpis_measure_change", args=[rated.pk])
    response = admin_client.post(url, measure_form(rated, polarity="down", decimals="3"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "the polarity cannot change from 'up' (Higher is better) to 'down'" in errors["polarity"][0]
    assert "the decimals cannot change from 1 to 3" in errors["decimals"][0]
    assert errors["polarity"][0] in html.unescape(response.content.decode())
    rated.refresh_from_db()
    assert (rated.polarity, rated.decimals, rated.history.count()) == ("up", 1, 1)


def test_the_admin_changes_a_definition_whose_figures_are_drafts_within_limits(admin_client, drafted):
    url = reverse("admin:kpis_measure_change", args=[drafted.pk])
    too_many = admin_client.post(url, measure_form(drafted, decimals="9", lag_months="36"))
    assert too_many.status_code == 200
    errors = too_many.context["adminform"].form.errors
    assert errors["decimals"] == ["KPI 2: figures are stored to 6 decimal places, so 9 cannot be shown; use 0 to 6."]
    assert errors["lag_months"] == ["KPI 2: a figure is due at most 24 months after its period ends, not 36."]
    assert drafted.history.count() == 1

    response = admin_client.post(url, measure_form(drafted, polarity="down", cumulative="on"))
    assert response.status_code == 302
    drafted.refresh_from_db()
    assert (drafted.polarity, drafted.cumulative) == ("down", True)
    assert drafted.history.first().history_user.username == "root"


# --- the API, which calls the same full_clean -------------------------------------------------


def test_the_api_refuses_a_definition_under_official_figures_in_the_same_words(contract, rated):
    admin = member(contract.commissioner, Role.ADMIN, username="council-admin")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin).key}")
    response = api.patch(
        "/api/v1/contracts/fostering/measures/kpi-1/", {"unit": "count"}, format="json"
    )
    assert response.status_code == 400
    rated.unit = "count"
    assert response.json() == {"unit": [refusal(rated, "unit")]}
    assert Measure.objects.get(pk=rated.pk).unit == "percent"


# --- a contract's statistical process control settings -----------------------------------


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"spc_shift_points": 0}, "spc_shift_points",
         "The shift run length cannot be 0: a shift needs at least 2 points, not 0."),
        ({"spc_trend_points": 2}, "spc_trend_points",
         "The trend run length cannot be 2: a trend needs at least 3 points, not 2."),
        ({"spc_minimum_points": 1}, "spc_minimum_points",
         "The minimum points for process limits cannot be 1: limits need at least 2 values "
         "(one moving range), not 1."),
        ({"spc_baseline_points": 10}, "spc_baseline_points",
         "The baseline points cannot be 10: the baseline (10 points) is shorter than the "
         "minimum (12 points)."),
        ({"spc_minimum_points": 30, "spc_baseline_points": 25}, "spc_minimum_points",
         "The minimum points for process limits cannot be 30: the baseline (25 points) is "
         "shorter than the minimum (30 points)."),
    ],
)
def test_spc_settings_the_engine_cannot_use_are_refused_under_their_field(values, field, message):
    measure_set = MeasureSet(name="Fostering", slug="fostering-set", **values)
    assert refusal(measure_set, field) == message


def measure_set_form(measure_set: MeasureSet, **changes) -> dict[str, str]:
    form = {
        "name": measure_set.name,
        "slug": measure_set.slug,
        "spc_shift_points": str(measure_set.spc_shift_points),
        "spc_trend_points": str(measure_set.spc_trend_points),
        "spc_minimum_points": str(measure_set.spc_minimum_points),
        "spc_baseline_points": str(measure_set.spc_baseline_points),
    }
    form.update(changes)
    return form


def test_the_admin_refuses_spc_settings_that_would_break_the_charts(admin_client, contract):
    measure_set = contract.measure_set
    url = reverse("admin:kpis_measureset_change", args=[measure_set.pk])
    response = admin_client.post(url, measure_set_form(measure_set, spc_shift_points="0"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["spc_shift_points"] == [
        "The shift run length cannot be 0: a shift needs at least 2 points, not 0."
    ]
    measure_set.refresh_from_db()
    assert measure_set.spc_shift_points == 7 and measure_set.history.count() == 1

    response = admin_client.post(url, measure_set_form(measure_set, spc_shift_points="6"))
    assert response.status_code == 302
    measure_set.refresh_from_db()
    assert measure_set.spc_shift_points == 6
    assert measure_set.history.first().history_user.username == "root"


def test_a_contracts_own_shift_run_length_changes_the_signals_its_scorecard_reports(contract):
    """Twenty figures alternating 11.5 and 8.5 (mean 10), then six just above the mean:
    not a shift by Making Data Count's seven (the default), a shift by a run of six."""
    measure = MeasureFactory(measure_set=contract.measure_set, code="KPI 9")
    values = ["11.5", "8.5"] * 10 + ["11", "10.5"] * 3
    first = periods.month(2016, 4)
    for i, value in enumerate(values):
        ObservationFactory(
            measure=measure, period=periods.add_months(first, i).label, value=Decimal(value)
        )
    month = periods.add_months(first, len(values) - 1)

    (row,) = build_scorecard(contract.measure_set, month, include_drafts=False)
    assert row.spc.analysis.signals == ()
    assert row.variation == spc.Variation.COMMON_CAUSE

    measure_set = MeasureSet.objects.get(pk=contract.measure_set_id)
    measure_set.spc_shift_points = 6
    measure_set.full_clean()
    measure_set.save()

    (row,) = build_scorecard(measure_set, month, include_drafts=False)
    assert [(s.rule, s.indices, s.side) for s in row.spc.analysis.signals] == [
        (spc.Rule.SHIFT, tuple(range(20, 26)), spc.Side.HIGH)
    ]
    assert row.variation == spc.Variation.SPECIAL_CAUSE_IMPROVING


# --- rebases ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("from_period", "message"),
    [
        ("2018-03", "2018-03 is before KPI 1's first figure: KPI 1's figures run from 2018-04 to 2018-05."),
        ("2018-04", "2018-04 is the period of KPI 1's first figure, where its process limits already start: "
                    "KPI 1's figures run from 2018-04 to 2018-05; rebase from a later period."),
        ("2018-06", "2018-06 is after KPI 1's latest figure: KPI 1's figures run from 2018-04 to 2018-05."),
    ],
)
def test_a_rebase_outside_the_measures_figures_is_refused_naming_their_range(rated, from_period, message):
    rebase = Rebase(measure=rated, from_period=from_period, reason="New triage model")
    assert refusal(rebase, "from_period") == message


def test_a_rebase_within_the_figures_is_accepted_and_still_needs_a_reason(rated):
    Rebase(measure=rated, from_period="2018-05", reason="New triage model").full_clean()
    with pytest.raises(ValidationError) as error:
        Rebase(measure=rated, from_period="2019-01", reason=" ").full_clean()
    assert error.value.message_dict == {
        "reason": ["Say why the process limits are recalculated."],
        "from_period": ["2019-01 is after KPI 1's latest figure: KPI 1's figures run from 2018-04 to 2018-05."],
    }


def test_a_rebase_of_a_measure_with_no_figures_is_refused(contract):
    measure = MeasureFactory(measure_set=contract.measure_set, code="KPI 5")
    ObservationFactory(measure=measure, period="2018-04", value=None, numerator=Decimal("521"))
    rebase = Rebase(measure=measure, from_period="2018-04", reason="New team")
    assert refusal(rebase, "from_period") == (
        "KPI 5 has no figures yet: a rebase recalculates its process limits from a period "
        "within its figures."
    )


def test_the_rebase_page_and_the_admin_refuse_a_period_outside_the_figures(admin_client, contract, rated):
    commissioner = member(contract.commissioner, Role.COMMISSIONER, username="cora")
    page_client = Client()
    page_client.force_login(commissioner)
    response = page_client.post(
        "/contracts/fostering/measures/kpi-1/rebases/",
        {"period": "2018-05", "from_period": "2018-09", "reason": "New team"},
    )
    assert response.status_code == 400
    message = "2018-09 is after KPI 1's latest figure: KPI 1's figures run from 2018-04 to 2018-05."
    assert response.context["rebase_form"].errors["from_period"] == [message]
    assert message in html.unescape(response.content.decode())

    response = admin_client.post(
        reverse("admin:kpis_rebase_add"), {"measure": rated.pk, "from_period": "2018-01", "reason": "x"}
    )
    assert response.status_code == 200
    assert "2018-01 is before KPI 1's first figure" in html.unescape(response.content.decode())
    assert not Rebase.objects.exists()
    assert Observation.objects.filter(measure=rated).count() == 2
