"""The Redis quota store (``REDIS_URL``): one integer key per user, kind and UTC day.

``drafter:quota:<user>:<kind>:<YYYY-MM-DD>`` expires a day after its day ends (so a
refund settled after midnight still finds it). A reservation is one Lua script, atomic
in Redis, that also returns the credentials epoch (see ``credential_cache``).

Redis is a cache of the usage records in SQL, never the truth: when a counter is
missing — first request of the day, or Redis was flushed or restarted — the script
answers "unknown" and the store rebuilds the counter from the usage records (``SET NX``,
so concurrent rebuilders agree) before reserving. Units of requests still in flight
at a flush, and usage rows another replica has not flushed yet (at most
``usage.log.FLUSH_INTERVAL_S`` old), are the only things a rebuild cannot see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.admission.credential_cache import (
    REDIS_EPOCH_KEY,
    database_epoch,
    raise_redis_epoch,
)
from drafter.services.accounts.quota.store import CountedInSql, QuotaResult
from drafter.timeutil import Clock, utc_now

_RESERVE = """
local used = redis.call('GET', KEYS[1])
local epoch = redis.call('GET', KEYS[2]) or '-1'
if not used then return {-1, 0, epoch} end
used = tonumber(used)
local units = tonumber(ARGV[1])
if used + units > tonumber(ARGV[2]) then return {0, used, epoch} end
return {1, redis.call('INCRBY', KEYS[1], units), epoch}
"""
_REFUND = """
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local n = tonumber(v) - tonumber(ARGV[1])
if n < 0 then n = 0 end
redis.call('SET', KEYS[1], n, 'KEEPTTL')
return n
"""
_MAX_REBUILDS = 3


def counter_key(user_id: str, kind: str, day: dt.date) -> str:
    return f"drafter:quota:{user_id}:{kind}:{day.isoformat()}"


def _ttl_s(day: dt.date, now: dt.datetime) -> int:
    """Seconds from ``now`` to the end of the day after ``day`` (UTC); relative to the
    service's clock, so an injected clock gets the same lifetimes."""
    end = dt.datetime.combine(day + dt.timedelta(days=2), dt.time(), dt.UTC)
    return max(1, int((end - now).total_seconds()))


class RedisQuotaStore:
    """QuotaStore on Redis (see :mod:`services.accounts.quota.store`)."""

    def __init__(
        self, redis: Redis, engine: AsyncEngine, counted: CountedInSql, clock: Clock = utc_now
    ) -> None:
        self._redis = redis
        self._engine = engine
        self._counted = counted
        self._clock = clock
        self._reserve = redis.register_script(_RESERVE)
        self._refund = redis.register_script(_REFUND)

    async def reserve(
        self, *, user_id: str, kind: str, day: dt.date, units: int, limit: int
    ) -> QuotaResult:
        key = counter_key(user_id, kind, day)
        for _ in range(_MAX_REBUILDS):
            state, used, epoch = await self._reserve(
                keys=[key, REDIS_EPOCH_KEY], args=[units, limit]
            )
            if int(state) >= 0:
                return QuotaResult(bool(state), int(used), await self._epoch(epoch))
            await self.rebuild(user_id=user_id, kind=kind, day=day)
        raise RuntimeError(f"quota counter {key} vanished while it was rebuilt")

    async def rebuild(self, *, user_id: str, kind: str, day: dt.date) -> None:
        """Sets a missing counter from the usage records (no-op when it exists)."""
        used = await self._counted(user_id, kind, day)
        key = counter_key(user_id, kind, day)
        await self._redis.set(key, used, nx=True, ex=_ttl_s(day, self._clock()))

    async def _epoch(self, raw: bytes | str | int) -> int:
        value = int(raw)
        if value >= 0:
            return value
        async with self._engine.connect() as conn:
            value = await database_epoch(conn)
        return await raise_redis_epoch(self._redis, value)

    async def refund(self, *, user_id: str, kind: str, day: dt.date, units: int) -> None:
        if units > 0:
            await self._refund(keys=[counter_key(user_id, kind, day)], args=[units])

    async def used(self, *, user_id: str, kinds: Sequence[str], day: dt.date) -> dict[str, int]:
        values = await self._redis.mget([counter_key(user_id, kind, day) for kind in kinds])
        result = {}
        for kind, value in zip(kinds, values, strict=True):
            result[kind] = (
                int(value) if value is not None else await self._counted(user_id, kind, day)
            )
        return result

    async def epoch(self) -> int:
        return await self._epoch(await self._redis.get(REDIS_EPOCH_KEY) or -1)

    async def close(self) -> None:
        await self._redis.aclose()
