"""Revising targets for a new year (R16): drafted with rationale, approved, in force from a month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from contracts import revisions
from contracts.models import Role, TargetRevision
from kpis import periods
from kpis.models import Target
from kpis.scorecard import build_scorecard
from tests.factories import (
    ContractFactory,
    MeasureFactory,
    ObservationFactory,
    TargetFactory,
    member,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    contract = ContractFactory()
    measure = MeasureFactory(measure_set=contract.measure_set, code="KPI 1")
    TargetFactory(
        measure=measure,
        valid_from=dt.date(2017, 4, 1),
        target=Decimal("95"),
        tolerance_low=Decimal("85"),
    )
    ObservationFactory(measure=measure, period="2018-04", value=Decimal("92.1"), is_official=True)
    ObservationFactory(measure=measure, period="2018-10", value=Decimal("92.1"), is_official=False)
    admin = member(contract.commissioner, Role.ADMIN, "admin")
    commissioner = member(contract.commissioner, Role.COMMISSIONER, "commissioner")
    return contract, measure, admin, commissioner


def test_a_mid_year_revision_leaves_signed_off_verdicts_alone_and_rates_later_months_anew(setup):
    contract, measure, admin, commissioner = setup
    revision = revisions.draft_revision(
        contract,
        admin,
        title="2018/19 targets",
        effective_from="2018-10",
        rationale="Agreed with the provider.",
    )
    line = revision.lines.get()
    assert line.target == Decimal("95")  # starts from the target in force
    revisions.save_line(
        line.pk,
        admin,
        values={"target": Decimal("92")},
        rationale="More realistic after the new system.",
    )
    revisions.approve_revision(revision.pk, commissioner)

    april = build_scorecard(contract.measure_set, periods.month(2018, 4), include_drafts=True)[0]
    october = build_scorecard(contract.measure_set, periods.month(2018, 10), include_drafts=True)[0]
    assert (april.verdict.status, april.target.target) == ("within_tolerance", Decimal("95"))
    assert (october.verdict.status, october.target.target) == ("on_target", Decimal("92"))
    assert list(Target.objects.order_by("valid_from").values_list("valid_to", flat=True)) == [
        dt.date(2018, 9, 30),
        None,
    ]


def test_a_revision_reaching_back_over_official_figures_is_refused(setup):
    contract, measure, admin, commissioner = setup
    revision = revisions.draft_revision(
        contract, admin, title="", effective_from="2018-04", rationale="Why"
    )
    line = revision.lines.get()
    revisions.save_line(line.pk, admin, values={"target": Decimal("90")}, rationale="Lower")
    with pytest.raises(ValidationError) as refused:
        revisions.approve_revision(revision.pk, commissioner)
    assert "2018-04" in str(refused.value) and "R16" in str(refused.value)
    assert Target.objects.get().target == Decimal("95")
    assert TargetRevision.objects.get().state == "draft"


def test_a_drafted_line_that_contradicts_itself_is_refused_with_the_engines_words(setup):
    contract, measure, admin, _ = setup
    revision = revisions.draft_revision(
        contract, admin, title="", effective_from="2019-04", rationale="Why"
    )
    with pytest.raises(ValidationError) as refused:
        revisions.save_line(
            revision.lines.get().pk, admin, values={"target": Decimal("70")}, rationale="x"
        )
    assert "KPI 1" in str(refused.value) and "85" in str(refused.value)


def test_a_target_ten_times_the_history_needs_confirming(setup):
    contract, measure, admin, commissioner = setup
    revision = revisions.draft_revision(
        contract, admin, title="", effective_from="2019-04", rationale="Why"
    )
    line = revision.lines.get()
    measure.unit = "count"
    measure.save()
    revisions.save_line(
        line.pk,
        admin,
        values={"target": Decimal("950"), "tolerance_low": Decimal("850"), "tolerance_high": None},
        rationale="Typo?",
    )
    with pytest.raises(ValidationError) as refused:
        revisions.approve_revision(revision.pk, commissioner)
    assert "more than 10 times" in str(refused.value)
    revisions.save_line(
        line.pk, admin, values={}, rationale="Yes: counted in a new way.", confirmed=True
    )
    revisions.approve_revision(revision.pk, commissioner)
    assert Target.objects.filter(valid_from=dt.date(2019, 4, 1), target=Decimal("950")).exists()


def test_only_admins_draft_and_only_commissioners_approve(setup):
    contract, _, admin, commissioner = setup
    with pytest.raises(PermissionDenied):
        revisions.draft_revision(
            contract, commissioner, title="", effective_from="2019-04", rationale="x"
        )
    revision = revisions.draft_revision(
        contract, admin, title="", effective_from="2019-04", rationale="x"
    )
    with pytest.raises(PermissionDenied):
        revisions.approve_revision(revision.pk, admin)
