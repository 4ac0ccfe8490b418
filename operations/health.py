"""What ``/healthz`` checks: the database, the cache and the broker, each on its own.

Built on django-health-check 4's ``HealthCheck`` (each check has a time budget and runs
beside the others). A check that fails raises ``ServiceUnavailable`` with a short reason
that names no host, password or address: ``/healthz`` answers anyone who asks. The full
error goes to the log.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import ClassVar

from django.core.cache import caches
from django.db import connections
from health_check import checks
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from operations.cache import RedisCache

IN_PROCESS = "none configured: tasks run in-process"


def reason(exc: BaseException) -> str:
    """The operating system's words for why a connection failed ("Connection refused"),
    else the error's kind: never its text, which names hosts and ports."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        current = current.__cause__ or current.__context__
    return type(exc).__name__


@dataclasses.dataclass
class Database(checks.Database):
    """``SELECT 1`` on its own connection (django-health-check's check)."""

    part: ClassVar[str] = "database"
    detail: str = dataclasses.field(default="OK", init=False, repr=False)

    def run(self) -> None:
        super().run()
        self.detail = f"OK ({connections[self.alias].display_name})"


@dataclasses.dataclass
class Cache(HealthCheck):
    """Writes, reads back and deletes a key: on Redis itself when the cache is Redis
    (``operations.cache.RedisCache`` hides Redis errors from everything else)."""

    part: ClassVar[str] = "cache"
    alias: str = "default"
    detail: str = dataclasses.field(default="OK", init=False, repr=False)
    timeout: datetime.timedelta = dataclasses.field(
        default=datetime.timedelta(seconds=3), repr=False
    )

    def run(self) -> None:
        cache = caches[self.alias]
        if isinstance(cache, RedisCache):
            try:
                cache.probe()
            except RedisError as exc:
                raise ServiceUnavailable(f"cannot reach the cache's Redis: {reason(exc)}") from exc
            self.detail = "OK (Redis)"
            return
        key = "healthz:probe"
        cache.set(key, "ok", 10)
        if cache.get(key) != "ok":
            raise ServiceUnavailable("a value written to the cache could not be read back")
        cache.delete(key)
        self.detail = f"OK ({type(cache).__name__})"


@dataclasses.dataclass
class Broker(HealthCheck):
    """Connects to Celery's broker. With none configured (the embedded default) tasks run
    in-process: that is how the app is meant to run then, so it is not a failure."""

    part: ClassVar[str] = "broker"
    detail: str = dataclasses.field(default="OK", init=False, repr=False)
    timeout: datetime.timedelta = dataclasses.field(
        default=datetime.timedelta(seconds=3), repr=False
    )

    def run(self) -> None:
        from config.celery import app

        if app.conf.task_always_eager:
            self.detail = IN_PROCESS
            return
        connection = app.connection_for_write()
        try:
            connection.ensure_connection(
                max_retries=1, interval_start=0, timeout=self.timeout.total_seconds()
            )
        except (KombuError, OSError, RedisError) as exc:
            raise ServiceUnavailable(f"cannot reach the broker: {reason(exc)}") from exc
        finally:
            connection.release()
        self.detail = f"OK ({connection.transport_cls})"


CHECKS = (Database, Cache, Broker)
