"""The month-end cast: a contract from April 2018 with three monthly measures and its people."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from contracts.models import Role
from kpis.models import Observation
from tests.factories import ContractFactory, MeasureFactory, TargetFactory, member


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "integration: starts its own Redis and Celery worker (PostgreSQL only); slower, still run by make test",
    )


APRIL = "2018-04"


def people_for(contract, prefix=""):
    people = {
        "editor": member(contract.provider, Role.PROVIDER_EDITOR, f"{prefix}editor"),
        "lead": member(contract.provider, Role.PROVIDER_LEAD, f"{prefix}lead"),
        "commissioner": member(contract.commissioner, Role.COMMISSIONER, f"{prefix}commissioner"),
        "reader": member(contract.commissioner, Role.READER, f"{prefix}reader"),
    }
    for name, user in people.items():
        user.email = f"{prefix}{name}@example.org"
        user.save(update_fields=["email"])
    return people


def contract_with_measures(slug="c", codes=("KPI 1", "KPI 2", "KPI 3"), start=dt.date(2018, 4, 1)):
    """Monthly measures, higher is better, target 95 with a floor of 85."""
    contract = ContractFactory(slug=slug, name=f"Contract {slug}", start=start)
    for order, code in enumerate(codes, start=1):
        measure = MeasureFactory(measure_set=contract.measure_set, code=code, display_order=order)
        TargetFactory(
            measure=measure, target=Decimal("95"), tolerance_low=Decimal("85"), tolerance_high=None
        )
    return contract


def enter(
    monthly_return, user, figures: dict[str, str | None], narratives: dict[str, str] | None = None
):
    """Enter figures (code -> value) and variance reasons, as the provider's saves leave them.

    Written straight to the tables: what is under test here is what month-end does with
    the figures, not how they were saved.
    """
    narratives = narratives or {}
    for entry in monthly_return.entries.select_related("measure", "observation"):
        code = entry.measure.code
        fields = []
        if figures.get(code) is not None:
            observation = entry.observation or Observation(
                measure=entry.measure,
                period=entry.period,
                period_start=entry.measure.parse_period(entry.period).start,
                period_end=entry.measure.parse_period(entry.period).end,
            )
            observation.value = Decimal(figures[code])
            observation.save()
            entry.observation = observation
            fields.append("observation")
        if code in narratives:
            entry.variance_reason = narratives[code]
            fields.append("variance_reason")
        if fields:
            entry.version += 1
            entry.updated_by = user
            entry.save(update_fields=[*fields, "version", "updated_by", "updated_at"])


@pytest.fixture(autouse=True)
def _fast_pages(settings):
    # WhiteNoise scans every static file for each new test client unless it looks
    # files up per request (see tests/reports/conftest.py).
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture
def cast(db):
    contract = contract_with_measures()
    return contract, people_for(contract)
