"""An admin sets a contract up from nothing in the Django admin; every change is kept."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from kpis.models import Measure, Target
from tests.factories import MeasureFactory, MeasureSetFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    user.save()
    client.force_login(user)
    return client


def target_form(measure: Measure, **changes: str) -> dict[str, str]:
    form = {
        "measure": str(measure.pk),
        "valid_from": "2018-04-01",
        "valid_to": "",
        "target": "95",
        "target_low": "",
        "target_high": "",
        "tolerance_low": "85",
        "tolerance_high": "100",
        "tolerance_relative": "",
        "tolerance_unit": "",
        "note": "",
    }
    form.update(changes)
    return form


def test_admin_creates_a_measure_from_nothing(admin_client):
    measure_set = MeasureSetFactory(name="Demo", slug="demo")
    response = admin_client.post(
        reverse("admin:kpis_measure_add"),
        {
            "measure_set": measure_set.pk,
            "code": "SM 1.1",
            "title": "Children on a child protection plan per 10k",
            "kind": "supporting",
            "definition": "",
            "unit": "rate",
            "per": "10000",
            "decimals": "1",
            "polarity": "band",
            "frequency": "monthly",
            "year_type": "financial",
            "lag_months": "0",
            "data_source": "",
            "comparability_note": "",
            "display_order": "0",
            "targets-TOTAL_FORMS": "1",
            "targets-INITIAL_FORMS": "0",
            "targets-0-valid_from": "2017-04-01",
            "targets-0-target": "79",
            "targets-0-tolerance_low": "69",
            "targets-0-tolerance_high": "89",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    measure = Measure.objects.get(code="SM 1.1")
    assert measure.slug == "sm-1-1"
    assert measure.targets.get().target == Decimal("79")


def test_admin_refuses_a_target_below_its_own_tolerance_with_the_engines_message(admin_client):
    """R6: KPI 2's heading (target 70, tolerance 85-100) contradicts itself."""
    measure = MeasureFactory(code="KPI 2")
    response = admin_client.post(reverse("admin:kpis_target_add"), target_form(measure, target="70"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "KPI 2" in body and "85" in body and "70" in body
    assert not Target.objects.exists()


def test_admin_refuses_a_percentage_target_above_100(admin_client):
    measure = MeasureFactory(code="KPI 1")
    response = admin_client.post(
        reverse("admin:kpis_target_add"), target_form(measure, target="120", tolerance_high="")
    )
    assert response.status_code == 200
    assert not Target.objects.exists()


def test_every_change_to_a_target_is_kept_with_who_and_before_and_after(admin_client):
    measure = MeasureFactory(code="KPI 1")
    admin_client.post(reverse("admin:kpis_target_add"), target_form(measure))
    target = Target.objects.get()
    response = admin_client.post(
        reverse("admin:kpis_target_change", args=[target.pk]), target_form(measure, target="96")
    )
    assert response.status_code == 302
    history = list(target.history.order_by("history_date"))
    assert [h.target for h in history] == [Decimal("95"), Decimal("96")]
    assert all(h.history_user.username == "root" for h in history)
    change = history[1].diff_against(history[0])
    assert [(c.field, c.old, c.new) for c in change.changes] == [("target", Decimal("95"), Decimal("96"))]
