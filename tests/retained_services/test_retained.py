"""Council officers keep the retained-service datasets; providers never see them (R14)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from contracts.models import Organisation, Role
from retained_services.models import AdmissionsFigure, Dataset, EHEFigure
from tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def council():
    return OrganisationFactory(name="Council", slug="council", kind=Organisation.Kind.COUNCIL)


@pytest.fixture
def officer(council):
    return member(council, Role.OFFICER, "officer")


def admissions_post(**cells: str) -> dict[str, str]:
    data = {}
    for phase in ("primary", "junior", "secondary"):
        for field in (
            "first_choice_number", "first_choice_percent", "any_of_three_percent",
            "target_percent", "region_percent", "england_percent",
        ):
            data[f"{phase}-{field}"] = ""
    data.update(cells)
    return data


def test_an_officer_enters_admissions_marks_them_final_and_the_history_keeps_it(client, council, officer):
    client.force_login(officer)
    response = client.post(reverse("retained:list"), {"kind": "admissions", "year": "2018"})
    dataset = Dataset.objects.get()
    assert response.status_code == 302
    response = client.post(
        reverse("retained:dataset", args=[dataset.pk]),
        admissions_post(**{"primary-first_choice_number": "2720", "primary-first_choice_percent": "95"}),
    )
    assert response.status_code == 302
    assert AdmissionsFigure.objects.get().first_choice_number == 2720
    client.post(reverse("retained:final", args=[dataset.pk]))
    dataset.refresh_from_db()
    assert dataset.is_final and dataset.finalised_by == officer
    refused = client.post(
        reverse("retained:dataset", args=[dataset.pk]),
        admissions_post(**{"primary-first_choice_number": "1"}),
    )
    assert refused.status_code == 403
    assert AdmissionsFigure.objects.get().first_choice_number == 2720
    reasons = list(dataset.history.values_list("history_change_reason", flat=True))
    assert "Marked final" in reasons
    client.post(reverse("retained:reopen", args=[dataset.pk]), {"reason": "Late appeals counted"})
    dataset.refresh_from_db()
    assert not dataset.is_final
    assert "Reopened: Late appeals counted" in dataset.history.values_list("history_change_reason", flat=True)


def test_a_bad_cell_names_the_row_and_column_and_keeps_what_was_typed(client, council, officer):
    client.force_login(officer)
    dataset = Dataset.objects.create(council=council, kind="ehe", year="2017/18")
    data = {f"{t}-{f}": "" for t in ("autumn", "spring", "summer", "year") for f in ("new_ehe", "new_year11_ehe", "total_in_period", "note")}
    data.update({"autumn-new_ehe": "39", "spring-new_ehe": "lots"})
    response = client.post(reverse("retained:dataset", args=[dataset.pk]), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Spring: Number of new EHE" in body and 'value="lots"' in body and 'value="39"' in body
    assert not EHEFigure.objects.exists()


def test_a_year_not_of_the_datasets_kind_is_refused(client, council, officer):
    client.force_login(officer)
    response = client.post(reverse("retained:list"), {"kind": "ehe", "year": "2018"})
    assert response.status_code == 400
    assert "academic year" in response.content.decode()
    assert not Dataset.objects.exists()


def test_providers_see_nothing_and_readers_see_only_final_datasets(client, council):
    Dataset.objects.create(council=council, kind="admissions", year="2017", is_final=True)
    draft = Dataset.objects.create(council=council, kind="admissions", year="2018")
    provider = OrganisationFactory(kind=Organisation.Kind.PROVIDER)
    client.force_login(member(provider, Role.PROVIDER_LEAD))
    assert client.get(reverse("retained:list")).status_code == 403
    assert client.get(reverse("retained:dataset", args=[draft.pk])).status_code == 404
    assert client.get("/api/v1/retained/datasets/").json()["count"] == 0
    client.force_login(member(council, Role.READER))
    assert [d["year"] for d in client.get("/api/v1/retained/datasets/").json()["results"]] == ["2017"]
    assert client.get(reverse("retained:dataset", args=[draft.pk])).status_code == 404
    assert client.post(reverse("retained:final", args=[draft.pk])).status_code == 404


def test_a_reader_cannot_change_a_dataset(client, council):
    final = Dataset.objects.create(council=council, kind="admissions", year="2017", is_final=True)
    client.force_login(member(council, Role.READER))
    assert client.post(reverse("retained:reopen", args=[final.pk]), {"reason": "x"}).status_code == 403
    final.refresh_from_db()
    assert final.is_final


def test_the_api_reads_the_demo_tables(client):
    from django.core.management import call_command

    call_command("load_demo", stdout=open("/dev/null", "w"))
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="officer"))
    results = client.get("/api/v1/retained/datasets/?kind=admissions&year=2018").json()["results"]
    primary = next(r for r in results[0]["admissions"] if r["phase"] == "primary")
    assert primary["first_choice_number"] == 2720
    assert Decimal(primary["first_choice_percent"]) == Decimal("95")
