"""Django's Redis cache, made safe to lose.

Nothing in Contract Monitor needs the cache to be right, only fast: sessions live in the
database and the broker's outbox waits in the database too. So when the cache's Redis is
unreachable, a read is a miss and a write is dropped (logged, at most once a minute per
process) instead of failing the page. ``/healthz`` still reports the cache unhealthy:
its check goes through ``probe``, which raises.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
WARN_EVERY_SECONDS = 60.0

T = TypeVar("T")


class RedisCache(DjangoRedisCache):
    _warned_at = 0.0
    _warn_lock = threading.Lock()

    def _quietly(self, fallback: T, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return call(*args, **kwargs)
        except UNREACHABLE as exc:
            self._warn(exc)
            return fallback

    @classmethod
    def _warn(cls, exc: Exception) -> None:
        with cls._warn_lock:
            now = time.monotonic()
            if now - cls._warned_at < WARN_EVERY_SECONDS and cls._warned_at:
                return
            cls._warned_at = now
        logger.warning("The cache's Redis is unreachable, so the cache is bypassed: %s", exc)

    def probe(self) -> None:
        """Write, read back and delete a key on Redis itself; raises when it cannot."""
        key = self.make_and_validate_key(f"healthz:{uuid.uuid4().hex}")
        client = self._cache.get_client(key, write=True)
        client.set(key, b"ok", ex=10)
        if client.get(key) != b"ok":
            raise RedisConnectionError("A value written to the cache could not be read back.")
        client.delete(key)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return self._quietly(False, super().add, key, value, timeout, version)

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._quietly(default, super().get, key, default, version)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> None:
        self._quietly(None, super().set, key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return self._quietly(False, super().touch, key, timeout, version)

    def delete(self, key: Any, version: Any = None) -> bool:
        return self._quietly(False, super().delete, key, version)

    def get_many(self, keys: Any, version: Any = None) -> dict[Any, Any]:
        return self._quietly({}, super().get_many, keys, version)

    def has_key(self, key: Any, version: Any = None) -> bool:
        return self._quietly(False, super().has_key, key, version)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> list[Any]:
        return self._quietly(list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._quietly(None, super().delete_many, keys, version)

    # incr, decr and clear raise as Django's do: a count must not silently go wrong.
