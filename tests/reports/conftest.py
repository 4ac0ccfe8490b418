"""The cast for the report pages: contract A commissioned by alice's council (alice
commissions, adam is an admin, rita reads, olive is the council's retained-services
officer) from pat's provider; oscar works for another provider."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contracts.models import Role
from tests.factories import (
    ContractFactory,
    MeasureFactory,
    ObservationFactory,
    TargetFactory,
    member,
)


@pytest.fixture
def contract_a(db):
    contract = ContractFactory(name="Children's services A", slug="contract-a")
    ms = contract.measure_set
    kpi1 = MeasureFactory(measure_set=ms, code="KPI 1", title="Referrals decided in 24 hours", display_order=1)
    kpi2 = MeasureFactory(measure_set=ms, code="KPI 2", title="Visits on time", display_order=2)
    mi = MeasureFactory(
        measure_set=ms, code="MI 1", title="Children looked after", kind="mi", unit="count",
        decimals=0, polarity="", display_order=3,
    )
    for m in (kpi1, kpi2):
        TargetFactory(measure=m, target=Decimal("95"), tolerance_low=Decimal("85"))
    for period, value in (("2017-04", "88"), ("2018-02", "96"), ("2018-03", "95.3"), ("2018-04", "92.1")):
        ObservationFactory(measure=kpi1, period=period, value=Decimal(value))
    ObservationFactory(measure=kpi2, period="2018-04", value=Decimal("80"))
    ObservationFactory(measure=kpi2, period="2018-05", value=Decimal("70"), is_official=False)
    ObservationFactory(measure=mi, period="2018-04", value=Decimal("412"))
    return contract


@pytest.fixture
def alice(contract_a):
    return member(contract_a.commissioner, Role.COMMISSIONER, "alice")


@pytest.fixture
def adam(contract_a):
    return member(contract_a.commissioner, Role.ADMIN, "adam")


@pytest.fixture
def rita(contract_a):
    return member(contract_a.commissioner, Role.READER, "rita")


@pytest.fixture
def pat(contract_a):
    return member(contract_a.provider, Role.PROVIDER_LEAD, "pat")


@pytest.fixture
def oscar(db):
    other = ContractFactory(name="Other contract", slug="contract-b")
    return member(other.provider, Role.PROVIDER_LEAD, "oscar")
