"""Onboarding history: imported figures are drafts until a commissioner accepts their batch
in one audited act (R14); then they are official, and R15 and R16 protect them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from contracts import imports
from contracts.models import ImportBatch
from kpis import periods
from kpis.models import Flag, Observation
from kpis.scorecard import build_scorecard

from .conftest import csv_bytes, row_counts

pytestmark = pytest.mark.django_db

HEADINGS = ["contract", "code", "period", "value"]
HISTORY = [
    ["c", "KPI 1", "2018-01", "96"],
    ["c", "KPI 1", "2018-02", "90"],
    ["c", "KPI 2", "2018-02", "80"],
]


@pytest.fixture
def batch(cast):
    contract, people = cast
    report = imports.import_file(
        "observations", csv_bytes(HEADINGS, HISTORY), "history.csv", user=people["admin"]
    )
    assert report.ok and len(report.batches) == 1
    return report.batches[0]


def test_imported_figures_are_drafts_until_the_batch_is_accepted(cast, batch):
    contract, _ = cast
    assert (batch.state, batch.rows, batch.file_name) == ("pending", 3, "history.csv")
    assert batch.uploaded_by.username == "council-admin"
    assert set(batch.observations.values_list("is_official", flat=True)) == {False}
    february = periods.month(2018, 2)
    seen_by_commissioner = {
        r.measure.code: r
        for r in build_scorecard(contract.measure_set, february, include_drafts=True)
    }
    assert (
        seen_by_commissioner["KPI 1"].value == Decimal("90")
        and Flag.DRAFT in seen_by_commissioner["KPI 1"].flags
    )
    seen_by_reader = {
        r.measure.code: r
        for r in build_scorecard(contract.measure_set, february, include_drafts=False)
    }
    assert seen_by_reader["KPI 1"].observation is None  # readers see official figures only (R13)


def test_a_commissioner_accepts_a_batch_in_one_audited_act(cast, batch, client):
    contract, people = cast
    client.force_login(people["commissioner"])
    listing = client.get(reverse("spreadsheets:batches"))
    assert listing.status_code == 200 and "history.csv" in listing.content.decode()
    detail = client.get(reverse("spreadsheets:batch", args=[batch.pk]))
    assert "Accept these figures as official" in detail.content.decode()

    answer = client.post(reverse("spreadsheets:accept", args=[batch.pk]))
    assert answer.status_code == 302
    batch.refresh_from_db()
    assert (batch.state, batch.accepted_by) == (
        "accepted",
        people["commissioner"],
    ) and batch.accepted_at
    assert set(batch.observations.values_list("is_official", flat=True)) == {True}
    record = batch.history.latest()
    assert (record.history_user, record.state) == (people["commissioner"], "accepted")
    assert (
        record.history_change_reason
        == f"Accepted as official in import batch {batch.pk} (history.csv)"
    )
    figure = batch.observations.get(period="2018-02", measure__code="KPI 1")
    assert [(h.is_official, h.history_user) for h in figure.history.order_by("history_id")] == [
        (False, people["admin"]),
        (True, people["commissioner"]),
    ]
    page = client.get(reverse("spreadsheets:batch", args=[batch.pk])).content.decode()
    assert "is accepted: 3 figures" in page and "Accepted" in page

    again = client.post(reverse("spreadsheets:accept", args=[batch.pk]), follow=True)
    assert "was already accepted by commissioner" in again.content.decode()


def test_only_the_contracts_commissioners_may_see_or_accept_its_batches(cast, batch, client):
    _, people = cast
    for who in ("editor", "lead", "admin", "reader"):
        client.force_login(people[who])
        assert client.get(reverse("spreadsheets:batch", args=[batch.pk])).status_code == 404
        assert client.post(reverse("spreadsheets:accept", args=[batch.pk])).status_code == 404
        assert "history.csv" not in client.get(reverse("spreadsheets:batches")).content.decode()
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.PENDING


def test_accepted_figures_change_only_by_reopening_and_their_targets_only_by_revision(cast, batch):
    _, people = cast
    imports.accept_batch(batch.pk, people["commissioner"])
    before = row_counts()
    report = imports.import_file(
        "observations", csv_bytes(HEADINGS, [["c", "KPI 1", "2018-01", "97"]]), "again.csv"
    )
    assert "is an official figure" in report.problems[0].why
    target = ["contract", "code", "valid_from", "target", "tolerance_low", "tolerance_high"]
    report = imports.import_file(
        "targets", csv_bytes(target, [["c", "KPI 2", "2017-04-01", "90", "80", "100"]]), "t.csv"
    )
    assert (
        "official figures (2018-02, 2018-04) are rated against the target" in report.problems[0].why
    )
    assert row_counts() == before


def test_a_draft_batch_figure_can_be_corrected_by_importing_it_again(cast, batch):
    report = imports.import_file(
        "observations", csv_bytes(HEADINGS, [["c", "KPI 1", "2018-02", "91"]]), "fix.csv"
    )
    assert report.ok and report.updated == 1
    assert Observation.objects.get(measure__code="KPI 1", period="2018-02").value == Decimal("91")
    assert ImportBatch.objects.count() == 2


def test_a_long_file_name_fits_the_history_records_reason(cast):
    """The change reason of django-simple-history holds 100 characters; PostgreSQL refuses
    a longer one, so a long file name is cut there (the batch keeps the whole name)."""
    contract, people = cast
    name = "onboarding-history-" + "x" * 120 + ".csv"
    report = imports.import_file("observations", csv_bytes(HEADINGS, HISTORY), name)
    assert report.ok
    batch = report.batches[0]
    assert batch.file_name == name
    reasons = [
        *Observation.history.filter(period="2018-01").values_list(
            "history_change_reason", flat=True
        ),
        batch.history.latest().history_change_reason,
    ]
    assert reasons and all(r.startswith("Imported from onboarding-history-") for r in reasons)
    assert max(len(r) for r in reasons) == 100
    imports.accept_batch(batch.pk, people["commissioner"])
    accepted = batch.history.latest().history_change_reason
    assert accepted.startswith(f"Accepted as official in import batch {batch.pk}")
    assert len(accepted) == 100
