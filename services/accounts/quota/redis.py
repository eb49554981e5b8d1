"""The Redis quota store (``REDIS_URL``): one integer key per user, kind and UTC day.

``drafter:quota:<user>:<kind>:<YYYY-MM-DD>`` expires a day after its day ends (so a
refund settled after midnight still finds it). A reservation is one Lua script, atomic
in Redis, that also returns the credentials epoch (see ``credential_cache``).

Redis is an accelerator that can be lost at any moment (flushed, restarted, failed
over), never the truth: when a counter is missing — first request of the day, or Redis
lost it — the script answers "unknown" and the store rebuilds the counter before
reserving (``SET NX``, so concurrent rebuilders agree on the first value set).

The rebuilt value is the larger of two counts of the same thing. The usage records
(``UsageLog.counted``), which hold a journal row for every reservation, settled or
still in flight, once its batch is written; and this process's own account of the
counter (``_Ledger``: the value it set or first saw, plus what it reserved, minus what it
refunded), which also knows the reservations Redis admitted whose journal row is not
written yet. Without both, a flush during a burst admitted 30 against a limit of 20.
What neither sees: another replica's admissions whose journal rows are still in its
unwritten batch (at most ``usage.log.FLUSH_INTERVAL_S`` old) at the moment of the loss.
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

Key = tuple[str, str, dt.date]


def counter_key(user_id: str, kind: str, day: dt.date) -> str:
    return f"drafter:quota:{user_id}:{kind}:{day.isoformat()}"


def _ttl_s(day: dt.date, now: dt.datetime) -> int:
    """Seconds from ``now`` to the end of the day after ``day`` (UTC); relative to the
    service's clock, so an injected clock gets the same lifetimes."""
    end = dt.datetime.combine(day + dt.timedelta(days=2), dt.time(), dt.UTC)
    return max(1, int((end - now).total_seconds()))


class _Ledger:
    """This process's own account of the counters it touched: the value it set or first
    saw, plus the units it reserved since, minus the units it refunded. Arithmetic on
    its own operations, so the order in which concurrent replies arrive does not
    matter. Keeps today's and yesterday's counters (a refund may come after midnight)."""

    def __init__(self) -> None:
        self._counters: dict[Key, int] = {}
        self._newest_day = dt.date.min

    def get(self, key: Key) -> int:
        return self._counters.get(key, 0)

    def saw(self, key: Key, used: int) -> None:
        """A reply from Redis: the counter's value including this reservation."""
        if key in self._counters:
            return
        self._counters[key] = used
        self._forget_before(key[2])

    def reserved(self, key: Key, units: int, used: int) -> None:
        if key in self._counters:
            self._counters[key] += units
        else:
            self.saw(key, used)

    def rebuilt(self, key: Key, used: int) -> None:
        self._counters[key] = max(used, self._counters.get(key, 0))
        self._forget_before(key[2])

    def refunded(self, key: Key, units: int) -> None:
        if key in self._counters:
            self._counters[key] = max(0, self._counters[key] - units)

    def _forget_before(self, day: dt.date) -> None:
        if day <= self._newest_day:
            return
        self._newest_day = day
        keep_from = day - dt.timedelta(days=1)
        for key in [k for k in self._counters if k[2] < keep_from]:
            del self._counters[key]


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
        self._ledger = _Ledger()

    async def reserve(
        self, *, user_id: str, kind: str, day: dt.date, units: int, limit: int
    ) -> QuotaResult:
        key = counter_key(user_id, kind, day)
        for _ in range(_MAX_REBUILDS):
            state, used, epoch = await self._reserve(
                keys=[key, REDIS_EPOCH_KEY], args=[units, limit]
            )
            if int(state) > 0:
                self._ledger.reserved((user_id, kind, day), units, int(used))
            elif int(state) == 0:
                self._ledger.saw((user_id, kind, day), int(used))
            if int(state) >= 0:
                return QuotaResult(bool(state), int(used), await self._epoch(epoch))
            await self.rebuild(user_id=user_id, kind=kind, day=day)
        raise RuntimeError(f"quota counter {key} vanished while it was rebuilt")

    async def rebuild(self, *, user_id: str, kind: str, day: dt.date) -> None:
        """Sets a missing counter (no-op when it exists) to the larger of the usage
        records and this process's ledger (which also knows the reservations in flight)."""
        counted = await self._counted(user_id, kind, day)
        used = max(counted, self._ledger.get((user_id, kind, day)))
        key = counter_key(user_id, kind, day)
        if await self._redis.set(key, used, nx=True, ex=_ttl_s(day, self._clock())):
            self._ledger.rebuilt((user_id, kind, day), used)

    async def _epoch(self, raw: bytes | str | int) -> int:
        value = int(raw)
        if value >= 0:
            return value
        async with self._engine.connect() as conn:
            value = await database_epoch(conn)
        return await raise_redis_epoch(self._redis, value)

    async def refund(self, *, user_id: str, kind: str, day: dt.date, units: int) -> None:
        if units > 0:
            self._ledger.refunded((user_id, kind, day), units)
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
