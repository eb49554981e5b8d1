"""Counting failed attempts (log-ins, /oauth/token) in fixed windows: in process by
default, in Redis when REDIS_URL is set (shared by every edge replica)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

REDIS_PREFIX = "drafter:ratelimit:"


class RateLimiter(Protocol):
    async def retry_after(self, key: str, limit: int) -> int | None:
        """Seconds until ``key`` may try again when it has used ``limit`` attempts in its
        window; None when it may try now."""

    async def add(self, key: str, window_s: int) -> int:
        """Counts one attempt for ``key``; returns the count in the current window."""

    async def close(self) -> None: ...


class MemoryRateLimiter:
    def __init__(self, max_keys: int = 100_000) -> None:
        self._windows: dict[str, tuple[float, int]] = {}  # key → (window end, count)
        self._max_keys = max_keys

    def _live(self, key: str) -> tuple[float, int] | None:
        window = self._windows.get(key)
        if window is not None and window[0] <= time.monotonic():
            del self._windows[key]
            return None
        return window

    async def retry_after(self, key: str, limit: int) -> int | None:
        window = self._live(key)
        if window is None or window[1] < limit:
            return None
        return max(1, int(window[0] - time.monotonic() + 0.999))

    async def add(self, key: str, window_s: int) -> int:
        window = self._live(key)
        if window is None:
            if len(self._windows) >= self._max_keys:
                self._windows.clear()
            window = (time.monotonic() + window_s, 0)
        self._windows[key] = (window[0], window[1] + 1)
        return window[1] + 1

    async def close(self) -> None:
        self._windows.clear()


class RedisRateLimiter:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def retry_after(self, key: str, limit: int) -> int | None:
        name = REDIS_PREFIX + key
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(name)
            pipe.ttl(name)
            count, ttl = await pipe.execute()
        if count is None or int(count) < limit:
            return None
        return max(1, int(ttl))

    async def add(self, key: str, window_s: int) -> int:
        name = REDIS_PREFIX + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, window_s, nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def close(self) -> None:
        await self._redis.aclose()


def build_rate_limiter(redis_url: str | None) -> RateLimiter:
    if redis_url:
        # Imported only here: redis-py (with the OpenTelemetry SDK and cryptography it
        # loads, about 8 MB) is not needed by an edge counting in process.
        from redis.asyncio import Redis

        return RedisRateLimiter(Redis.from_url(redis_url))
    return MemoryRateLimiter()
