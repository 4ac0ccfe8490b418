"""``load_demo``: the demonstration data, idempotent, with the demo users of interfaces.md."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from contracts import demo
from contracts.models import Action, Contract, Entry, Membership, MonthlyReturn, ReturnEvent
from kpis.models import Measure, Observation, Target
from retained_services.models import AdmissionsFigure, Dataset, EHEFigure

# domain.md's measures table, codes exactly as written, in the report's order.
CODES = [
    "KPI 1", "SM 1.1", "KPI 2", "KPI 3", "SM 3.1", "SM 3.2", "KPI 4", "SM 4.1",
    "MI 5.19", "KPI 6", "SM 6.2", "KPI 7", "SM 7.1", "KPI 8", "SM 8.1", "KPI 9",
]  # fmt: skip

ROLES = {
    "provider_editor": ("together-for-children", "provider_editor"),
    "provider_lead": ("together-for-children", "provider_lead"),
    "commissioner": ("sunderland", "commissioner"),
    "admin": ("sunderland", "admin"),
    "reader": ("sunderland", "reader"),
    "officer": ("sunderland", "officer"),
    "other_provider": ("northfield-trust", "provider_editor"),
}


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def row_counts() -> dict[str, int]:
    """Rows in every table, simple-history's Historical* tables included."""
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


def load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


# The April 2018 return's tables, simple-history's included (ReturnEvent keeps none: it is
# itself the record).
RETURN_TABLES = [
    "contracts.MonthlyReturn",
    "contracts.HistoricalMonthlyReturn",
    "contracts.Entry",
    "contracts.HistoricalEntry",
    "contracts.Action",
    "contracts.HistoricalAction",
    "contracts.ReturnEvent",
]


def return_rows() -> dict[str, list[tuple]]:
    """Every field of the April 2018 return's rows, timestamps included."""
    return {
        "returns": list(MonthlyReturn.objects.order_by("pk").values_list()),
        "entries": list(Entry.objects.order_by("pk").values_list()),
        "actions": list(Action.objects.order_by("pk").values_list()),
        "events": list(ReturnEvent.objects.order_by("pk").values_list()),
    }


@pytest.mark.django_db
def test_second_run_changes_nothing():
    load()
    first = row_counts()
    rows = return_rows()
    hashes = dict(get_user_model().objects.values_list("username", "password"))
    for table in RETURN_TABLES:
        assert first[table] > 0, table
    load()
    assert row_counts() == first
    assert return_rows() == rows  # not even updated_at moves
    assert dict(get_user_model().objects.values_list("username", "password")) == hashes


@pytest.mark.django_db
def test_first_run_writes_history_for_every_row():
    load()
    counts = row_counts()
    assert counts["kpis.Observation"] > 0
    assert counts["kpis.HistoricalObservation"] == counts["kpis.Observation"]
    assert counts["kpis.HistoricalMeasure"] == counts["kpis.Measure"]
    assert counts["contracts.HistoricalMembership"] == counts["contracts.Membership"]
    for model in ("MonthlyReturn", "Entry", "Action"):
        assert counts[f"contracts.Historical{model}"] == counts[f"contracts.{model}"]


@pytest.mark.django_db
def test_rerun_restores_a_changed_field_with_one_history_row():
    load()
    measure = Measure.objects.get(measure_set__slug="sunderland-tfc", code="KPI 1")
    measure.title = "Renamed"
    measure.save()
    before = row_counts()
    load()
    measure.refresh_from_db()
    assert measure.title == "% of referrals with a decision within 24 hours"
    after = row_counts()
    assert after.pop("kpis.HistoricalMeasure") == before.pop("kpis.HistoricalMeasure") + 1
    assert after == before


@pytest.mark.django_db
def test_rerun_keeps_an_official_figure_changed_since_and_says_so():
    # Official figures change only by reopening their return (R15): the demo never
    # overrides that, it reports the difference.
    load()
    obs = Observation.objects.get(
        measure__measure_set__slug="sunderland-tfc", measure__code="KPI 1"
    )
    obs.value = Decimal("93.0")
    obs.save()  # as a reopened and re-signed return would
    before = row_counts()
    output = load()
    obs.refresh_from_db()
    assert obs.value == Decimal("93.0")
    assert row_counts() == before
    assert "KPI 1 2018-04 (value)" in output and "R15" in output


@pytest.mark.django_db
def test_measure_codes_are_exactly_domain_md_s():
    load()
    codes = list(
        Measure.objects.filter(measure_set__slug="sunderland-tfc")
        .order_by("display_order")
        .values_list("code", flat=True)
    )
    assert codes == CODES


@pytest.mark.django_db
def test_contract_parties():
    load()
    contract = Contract.objects.get(slug="sunderland-tfc")
    assert contract.commissioner.slug == "sunderland"
    assert contract.provider.slug == "together-for-children"
    assert contract.measure_set.slug == "sunderland-tfc"
    assert str(contract.start) == "2016-04-01"
    other = Contract.objects.get(slug="northfield-ehcp")
    assert (other.commissioner.slug, other.provider.slug) == ("northfield", "northfield-trust")


@pytest.mark.django_db
def test_demo_users_have_their_roles_and_the_demo_password():
    load()
    for username, (org, role) in ROLES.items():
        membership = Membership.objects.select_related("user", "organisation").get(
            user__username=username
        )
        assert (membership.organisation.slug, membership.role) == (org, role)
        assert membership.user.check_password(demo.DEMO_PASSWORD)
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert not get_user_model().objects.filter(is_superuser=True).exclude(username="admin").exists()


@pytest.mark.django_db
def test_a_changed_password_survives_a_rerun():
    load()
    user = get_user_model().objects.get(username="reader")
    user.set_password("changed-by-reader")
    user.save()
    load()
    user.refresh_from_db()
    assert user.check_password("changed-by-reader")


@pytest.mark.django_db
def test_command_prints_how_to_sign_in():
    output = load()
    assert "http://127.0.0.1:8000/accounts/login/" in output
    assert "demo-pass-2018" in output
    assert "Demonstration only" in output
    for username in ROLES:
        assert username in output


@pytest.mark.django_db
def test_figures_are_official_and_derived_fields_are_set():
    load()
    assert not Observation.objects.filter(is_official=False).exists()
    kpi4 = Observation.objects.get(
        measure__measure_set__slug="sunderland-tfc", measure__code="KPI 4"
    )
    assert (kpi4.period, str(kpi4.period_start), str(kpi4.period_end)) == (
        "2017/18 Q2",
        "2017-07-01",
        "2017-09-30",
    )
    assert not Observation.objects.filter(
        measure__measure_set__slug="sunderland-tfc", measure__code="SM 4.1"
    ).exists()
    assert not Target.objects.filter(measure__code="MI 5.19").exists()


@pytest.mark.django_db
def test_made_up_figures_are_labelled_illustrative():
    load()
    northfield = Observation.objects.filter(measure__measure_set__slug="northfield-ehcp")
    assert northfield.exists()
    assert all("illustrative" in obs.flags for obs in northfield)
    sunderland = Observation.objects.filter(measure__measure_set__slug="sunderland-tfc")
    assert not any("illustrative" in obs.flags for obs in sunderland)


@pytest.mark.django_db
def test_retained_services_are_final_and_as_in_the_report():
    load()
    assert Dataset.objects.filter(council__slug="sunderland").count() == 7
    assert not Dataset.objects.filter(is_final=False).exists()
    primary = AdmissionsFigure.objects.get(dataset__year="2018", phase="primary")
    assert (primary.first_choice_number, primary.first_choice_percent) == (2720, Decimal("95"))
    assert (primary.any_of_three_percent, primary.region_percent, primary.england_percent) == (
        Decimal("99"),
        Decimal("94.1"),
        Decimal("90.0"),
    )
    year = EHEFigure.objects.get(dataset__year="2016/17", term="year")
    assert (year.new_ehe, year.new_year11_ehe, year.total_in_period) == (75, 16, 144)
    assert "137" in year.note
    current = EHEFigure.objects.get(dataset__year="2017/18", term="year")
    assert current.total_in_period is None and "161" in current.note


@pytest.mark.django_db
def test_the_illustrative_history_shows_statistical_process_control(client):
    # Northfield's KPI 2 has two made-up years (a year around 79%, then one around 85%),
    # so a newcomer sees a chart with signals; every one of its figures says it is made up.
    load()
    figures = Observation.objects.filter(
        measure__measure_set__slug="northfield-ehcp", measure__code="KPI 2"
    )
    assert figures.count() == 24
    assert all(figure.flags == ["illustrative"] for figure in figures)
    client.force_login(get_user_model().objects.get(username="admin"))
    series = client.get("/api/v1/contracts/northfield-ehcp/measures/kpi-2/series/?period=2018-04")
    body = series.json()
    assert body["variation"] == "special_cause_improving"
    assert body["tolerance_assurance"] == "consistently_within"
    shifts = [s for s in body["signals"] if s["rule"] == "shift"]
    assert [(s["periods"][0], s["periods"][-1]) for s in shifts] == [
        ("2016-05", "2017-04"),
        ("2017-05", "2018-04"),
    ]
