"""Operations tests: a private Redis for the broker and the cache, and a small contract.

The Redis is the month-end tests' (``tests.monthend.stack.Stack``): its own
``redis-server`` on a free port with no persistence, its own pidfile and folder, stopped
by pid. Never the machine's shared Redis.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from kombu import pools

from config.celery import app as celery_app
from contracts.models import Role
from tests.conftest import require_system_part
from tests.factories import (
    ContractFactory,
    MeasureFactory,
    ObservationFactory,
    TargetFactory,
    member,
)
from tests.monthend.stack import Stack


@pytest.fixture
def redis_server(tmp_path) -> Iterator[Stack]:
    require_system_part(
        "redis-server", shutil.which("redis-server") is not None, "apt-get install -y redis-server"
    )
    stack = Stack(tmp_path, database="")
    try:
        stack.start_redis()
        yield stack
    finally:
        stack.stop_redis()


def _reset_publishing() -> None:
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    pools.reset()


@contextmanager
def broker_at(url: str) -> Iterator[None]:
    """The project's Celery app using ``url`` as its broker, as CELERY_BROKER_URL would."""
    names = ("broker_url", "broker_write_url", "task_always_eager")
    saved = {name: celery_app.conf[name] for name in names}
    _reset_publishing()
    celery_app.conf.update(broker_url=url, broker_write_url=url, task_always_eager=False)
    try:
        yield
    finally:
        _reset_publishing()
        celery_app.conf.update(saved)


def redis_cache(url: str) -> dict:
    """CACHES as settings.py builds it from CACHE_URL."""
    return {
        "default": {
            "BACKEND": "operations.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "contract-monitor",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@pytest.fixture
def contract(db):
    """One contract, one measure with a target and an April 2018 figure."""
    contract = ContractFactory(name="Childrens services", slug="childrens-services")
    kpi = MeasureFactory(measure_set=contract.measure_set, code="KPI 1", title="Referrals on time")
    TargetFactory(measure=kpi, target=Decimal("95"), tolerance_low=Decimal("85"))
    ObservationFactory(measure=kpi, period="2018-04", value=Decimal("92.1"))
    return contract


@pytest.fixture
def reader(contract):
    """A council reader: signs in with a password alone (no second factor is owed)."""
    return member(contract.commissioner, Role.READER, "reader")
