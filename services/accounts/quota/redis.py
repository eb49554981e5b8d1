"""The Redis quota store (``REDIS_URL``): one integer key per user, kind and UTC day.

``drafter:quota:<user>:<kind>:<YYYY-MM-DD>`` expires a day after its day ends (so a
refund settled after midnight still finds it). A reservation is one Lua script, atomic
in Redis, that also returns the credentials epoch (see ``credential_cache``).

Redis is an accelerator that can be lost at any moment (flushed, restarted, failed
over), never the truth: when a counter is missing — first request of the day, or Redis
lost it — the script answers "unknown" and the store rebuilds the counter before
reserving (``SET NX``, so concurrent rebuilders agree on the first value set).

Counter and records across a ``kill -9`` of the accounts service: the reservation script
also journals the reservation in Redis, in the same atomic step
(:mod:`.redis_journal`), until its usage record is written; a refund is made once per
reservation (a marker key beside the counter), after its settled record is written, and
a Settle sent again (the edge retries until it gets an answer) gives back what a crash
between the two kept.

The rebuilt value is the larger of two counts of the same thing. The usage records
(``UsageLog.counted``), which hold a journal row for every reservation, settled or
still in flight, once its batch is written; and this process's own reservations
(``_Ledger``: the units it was admitted minus the units it refunded), which also knows
the reservations Redis admitted whose journal row is not written yet. A rebuild holds
back this process's new reservation calls for that counter and first waits for those
already sent: Redis may have counted them before it was lost, and only their replies
tell; no call of this process can then be counted by a lost counter between the count
and the ``SET NX``. Without all this, a
flush during a burst admitted 30 against a limit of 20. What it cannot see: another
replica's admissions whose journal rows are still in its unwritten batch (at most
``usage.log.FLUSH_INTERVAL_S`` old) at the moment of the loss.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.admission.credential_cache import (
    REDIS_EPOCH_KEY,
    database_epoch,
    raise_redis_epoch,
)
from drafter.services.accounts.quota.redis_journal import JOURNAL_KEY, journal_entry
from drafter.services.accounts.quota.store import CountedInSql, QuotaResult, Row
from drafter.timeutil import Clock, utc_now

if TYPE_CHECKING:
    from drafter.services.accounts.usage.log import UsageLog

_RESERVE = """
local used = redis.call('GET', KEYS[1])
local epoch = redis.call('GET', KEYS[2]) or '-1'
if not used then return {-1, 0, epoch} end
used = tonumber(used)
local units = tonumber(ARGV[1])
if used + units > tonumber(ARGV[2]) then return {0, used, epoch} end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[3], ARGV[3], ARGV[4]) end
return {1, redis.call('INCRBY', KEYS[1], units), epoch}
"""
_REFUND_BODY = """
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local n = tonumber(v) - tonumber(ARGV[1])
if n < 0 then n = 0 end
redis.call('SET', KEYS[1], n, 'KEEPTTL')
return n
"""
# KEYS[2]: the reservation's refund marker; -1: refunded before.
_REFUND_ONCE = (
    "if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then return -1 end" + _REFUND_BODY
)
# KEYS[2]: the journal hash, ARGV[2] the reservation's id.
_RELEASE = "redis.call('HDEL', KEYS[2], ARGV[2])" + _REFUND_BODY
_MAX_REBUILDS = 3

Key = tuple[str, str, dt.date]


def counter_key(user_id: str, kind: str, day: dt.date) -> str:
    return f"drafter:quota:{user_id}:{kind}:{day.isoformat()}"


def refund_marker_key(record_id: str) -> str:
    return f"drafter:refunded:{record_id}"


def _ttl_s(day: dt.date, now: dt.datetime) -> int:
    """Seconds from ``now`` to the end of the day after ``day`` (UTC); relative to the
    service's clock, so an injected clock gets the same lifetimes."""
    end = dt.datetime.combine(day + dt.timedelta(days=2), dt.time(), dt.UTC)
    return max(1, int((end - now).total_seconds()))


class _Ledger:
    """This process's own reservations per counter: the units it was admitted minus the
    units it refunded (never below 0), so the order in which concurrent replies arrive
    does not matter; and the reservation calls in flight, whose replies a rebuild waits
    for. Keeps today's and yesterday's counters (a refund may come after midnight)."""

    def __init__(self) -> None:
        self._counters: dict[Key, int] = {}
        self._in_flight: dict[Key, set[asyncio.Future[None]]] = {}
        self._rebuilding: dict[Key, asyncio.Lock] = {}
        self._newest_day = dt.date.min

    def get(self, key: Key) -> int:
        return self._counters.get(key, 0)

    def reserved(self, key: Key, units: int) -> None:
        self._counters[key] = self._counters.get(key, 0) + units
        self._forget_before(key[2])

    def refunded(self, key: Key, units: int) -> None:
        if key in self._counters:
            self._counters[key] = max(0, self._counters[key] - units)

    def rebuilding(self, key: Key) -> asyncio.Lock:
        """Held while the counter is rebuilt: new reservation calls wait for it."""
        lock = self._rebuilding.get(key)
        if lock is None:
            lock = self._rebuilding[key] = asyncio.Lock()
        return lock

    async def call_sent(self, key: Key) -> asyncio.Future[None]:
        """A reservation call is on its way; resolve the future once its reply is taken."""
        lock = self._rebuilding.get(key)  # none until the counter was first rebuilt
        while lock is not None and lock.locked():
            async with lock:
                pass
        # No await from here to the caller's send: a rebuild that starts now sees it.
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._in_flight.setdefault(key, set()).add(done)
        return done

    def reply_taken(self, key: Key, done: asyncio.Future[None]) -> None:
        calls = self._in_flight.get(key)
        if calls is not None:
            calls.discard(done)
            if not calls:
                del self._in_flight[key]
        if not done.done():
            done.set_result(None)

    async def replies(self, key: Key) -> None:
        """Waits for the replies of the calls in flight now (not of later ones)."""
        pending = list(self._in_flight.get(key, ()))
        if pending:
            await asyncio.gather(*pending)

    def _forget_before(self, day: dt.date) -> None:
        if day <= self._newest_day:
            return
        self._newest_day = day
        keep_from = day - dt.timedelta(days=1)
        for key in [k for k in self._counters if k[2] < keep_from]:
            del self._counters[key]
        idle = [k for k, lock in self._rebuilding.items() if k[2] < keep_from and not lock.locked()]
        for key in idle:
            del self._rebuilding[key]


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
        self._refund = redis.register_script(_REFUND_BODY)
        self._refund_once = redis.register_script(_REFUND_ONCE)
        self._release = redis.register_script(_RELEASE)
        self._ledger = _Ledger()

    async def reserve(
        self,
        *,
        user_id: str,
        kind: str,
        day: dt.date,
        units: int,
        limit: int,
        journal: Row | None = None,
    ) -> QuotaResult:
        key = counter_key(user_id, kind, day)
        ledger_key = (user_id, kind, day)
        entry = ("", b"") if journal is None else (journal["id"], journal_entry(journal))
        for _ in range(_MAX_REBUILDS):
            done = await self._ledger.call_sent(ledger_key)
            try:
                state, used, epoch = await self._reserve(
                    keys=[key, REDIS_EPOCH_KEY, JOURNAL_KEY], args=[units, limit, *entry]
                )
                if int(state) > 0:
                    self._ledger.reserved(ledger_key, units)
            finally:
                self._ledger.reply_taken(ledger_key, done)
            if int(state) >= 0:
                return QuotaResult(bool(state), int(used), await self._epoch(epoch))
            await self.rebuild(user_id=user_id, kind=kind, day=day)
        raise RuntimeError(f"quota counter {key} vanished while it was rebuilt")

    async def rebuild(self, *, user_id: str, kind: str, day: dt.date) -> None:
        """Sets a missing counter (no-op when it exists) to the larger of the usage
        records and this process's ledger (which also knows the reservations in flight)."""
        ledger_key = (user_id, kind, day)
        async with self._ledger.rebuilding(ledger_key):
            await self._ledger.replies(ledger_key)
            counted = await self._counted(user_id, kind, day)
            used = max(counted, self._ledger.get(ledger_key))
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
            self._ledger.refunded((user_id, kind, day), units)
            await self._refund(keys=[counter_key(user_id, kind, day)], args=[units])

    async def release(self, *, journal: Row) -> None:
        """The refund, and the reservation's journal entry dropped, in one script."""
        key = (journal["user_id"], journal["kind"], journal["quota_day"])
        units = journal["units_reserved"]
        self._ledger.refunded(key, units)
        await self._release(keys=[counter_key(*key), JOURNAL_KEY], args=[units, journal["id"]])

    async def settle_refund(self, *, settled: Row, units: int, usage: UsageLog) -> bool:
        """The record first, then the refund, once per reservation: a repeated Settle
        of a reservation whose refund a crash cut off makes it."""
        changed = await usage.settle_once(settled)
        stored = settled if changed else await usage.stored(settled["id"])
        if stored is not None:
            owed = stored["units_reserved"] - stored["units"]
            if owed > 0:
                await self._give_back_once(settled, owed)
        return changed

    async def _give_back_once(self, row: Row, units: int) -> None:
        key = (row["user_id"], row["kind"], row["quota_day"])
        ttl = _ttl_s(row["quota_day"], self._clock())
        keys = [counter_key(*key), refund_marker_key(row["id"])]
        if int(await self._refund_once(keys=keys, args=[units, ttl])) >= 0:
            self._ledger.refunded(key, units)

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
