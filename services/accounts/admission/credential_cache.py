"""Credential cache: Authorize authenticates from memory, and every change still takes
effect on the next request, in every accounts replica.

How it stays correct
--------------------
There is one global number, the *credentials epoch*. It lives in the database
(``credentials_epoch``, one row) and, when ``REDIS_URL`` is set, is mirrored in Redis
(``drafter:credentials:epoch``). Whoever changes something a cached credential carries
(revokes a key or client token, blocks or unblocks a user, changes a plan, redeems a
code) commits the change and then calls :func:`invalidate` (through the one
:data:`Invalidate` the service builds with :func:`invalidator`), which bumps the epoch
in the database and raises the Redis mirror to the new value.

A cache entry remembers the epoch read *before* its row was fetched. The quota store
reads the current epoch in the same round trip as the reservation (the Lua script on
Redis, a sub-select in the upsert's RETURNING on SQL; see ``quota.store.QuotaStore``), so
checking freshness costs nothing extra. When the epoch moved, Authorize gives the units
back, drops the whole cache and authenticates again from the database. Kinds without a
quota read the epoch alone (one Redis GET or one indexed SELECT).

Because the bump comes after the commit, a replica can never cache the old state under
the new epoch; a replica that caches the new state under the old epoch merely refetches
it once. If a process dies between commit and bump, entries still expire after
``TTL_S``. A flushed Redis loses the mirror; the next reader copies it back from the
database (never lower: ``_RAISE`` only moves it up), so the epoch never repeats a value.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from drafter.services.accounts.admission.credentials import Principal
from drafter.services.accounts.db.tables import credentials_epoch_t as epoch_t

if TYPE_CHECKING:
    from redis.asyncio import Redis  # imported only when REDIS_URL is set (``main``)

REDIS_EPOCH_KEY = "drafter:credentials:epoch"
TTL_S = 60.0
MAX_ENTRIES = 100_000
# Sets the mirror to ARGV[1] unless it is already higher; returns the value kept.
_RAISE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
local wanted = tonumber(ARGV[1])
if wanted > current then redis.call('SET', KEYS[1], ARGV[1]) return wanted end
return current
"""

EPOCH_SELECT = sa.select(epoch_t.c.value).where(epoch_t.c.id == 1).scalar_subquery()


async def database_epoch(conn: AsyncConnection) -> int:
    return int((await conn.execute(sa.select(EPOCH_SELECT))).scalar() or 0)


async def raise_redis_epoch(redis: Redis, value: int) -> int:
    """Moves the Redis mirror up to ``value`` (never down); returns what it holds."""
    return int(await redis.eval(_RAISE, 1, REDIS_EPOCH_KEY, value))


async def invalidate(*, engine: AsyncEngine, redis: Redis | None = None) -> int:
    """Call AFTER committing a change to a credential, user or plan: every replica's
    cache drops its entries before its next Authorize. Returns the new epoch."""
    bump = (
        sa.update(epoch_t)
        .where(epoch_t.c.id == 1)
        .values(value=epoch_t.c.value + 1)
        .returning(epoch_t.c.value)
    )
    async with engine.begin() as conn:
        value = int((await conn.execute(bump)).scalar_one())
    if redis is not None:
        await raise_redis_epoch(redis, value)
    return value


# Called after a committed change that cached credentials may hold: a revoked key or
# client token, a blocked user, a new plan, a redeemed code, a deleted account or app.
Invalidate = Callable[[], Awaitable[None]]


def invalidator(engine: AsyncEngine, redis: Redis | None = None) -> Invalidate:
    """The service's one :data:`Invalidate`: :func:`invalidate` on its database (and
    Redis mirror)."""

    async def invalidate_caches() -> None:
        await invalidate(engine=engine, redis=redis)

    return invalidate_caches


async def nothing_cached() -> None:
    """The :data:`Invalidate` of code that runs without a credential cache."""
    return None


@dataclass(frozen=True, slots=True)
class CachedPrincipal:
    principal: Principal
    epoch: int
    expires: float


class CredentialCache:
    """Principals by credential digest, tagged with the epoch they were read under.

    Keys are SHA-256 digests, never the credential itself. Only successful lookups are
    cached; an unknown credential costs a lookup each time."""

    def __init__(self, ttl_s: float = TTL_S, max_entries: int = MAX_ENTRIES) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._entries: dict[str, CachedPrincipal] = {}

    def get(self, digest: str) -> CachedPrincipal | None:
        entry = self._entries.get(digest)
        if entry is not None and entry.expires < time.monotonic():
            del self._entries[digest]
            return None
        return entry

    def put(self, digest: str, principal: Principal, epoch: int) -> None:
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[digest] = CachedPrincipal(principal, epoch, time.monotonic() + self._ttl_s)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
