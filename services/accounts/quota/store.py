"""Daily quotas: the QuotaStore interface and the rules around it.

A quota is a counter per user, usage kind and UTC day. Authorize *reserves* units
(admitted only while ``used + units <= limit``), Settle *commits* what was used and
*refunds* the rest, or refunds everything when the work failed. Counters reset at 00:00
UTC simply because the day is part of the key. Stores: ``sql.SqlQuotaStore`` (the
accounts database, SQLite or PostgreSQL; correct across replicas),
``redis.RedisQuotaStore`` (``REDIS_URL``) and ``memory.MemoryQuotaStore`` (the one
accounts process of ``drafter up``); ``main.build_quota_store`` picks one. The last two
are caches of the usage records in SQL, the source of truth, and rebuild a counter from
them when they lack it.

A counter must never disagree with the usage records for long, also across a ``kill
-9``: a reservation's journal row (its usage record with status ``reserved``) is made
durable together with the count (``reserve(journal=…)``), and a refund together with the
settled record that gives the units back (``settle_refund``). Each store says how.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from drafter.rpc.errors import QuotaExceeded

if TYPE_CHECKING:
    from drafter.services.accounts.usage.log import UsageLog

# A usage record as written (column name → value).
Row = dict[str, Any]

# Units already used on a day as the usage records say: (user_id, kind, day) → units. The
# Redis and memory stores rebuild a missing counter with it (``UsageLog.counted``).
CountedInSql = Callable[[str, str, dt.date], Awaitable[int]]


def quota_day(now: dt.datetime) -> dt.date:
    """The UTC day ``now`` falls in (the quota counter it counts against)."""
    return now.astimezone(dt.UTC).date()


def seconds_until_reset(now: dt.datetime) -> int:
    """Whole seconds from ``now`` to the next 00:00 UTC (at least 1)."""
    now = now.astimezone(dt.UTC)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
    return max(1, math.ceil((midnight - now).total_seconds()))


@dataclass(frozen=True, slots=True)
class QuotaResult:
    """Whether a reservation was admitted, the units counted after it (or, when refused,
    the units already counted), and the credentials epoch read in the same round trip
    (see :mod:`services.accounts.admission.credential_cache`). ``journaled``: the
    reservation's journal row is already written with the count (else the caller
    queues it in the usage log)."""

    admitted: bool
    used: int
    epoch: int
    journaled: bool = False


class QuotaStore(Protocol):
    """Atomic per-user/kind/day counters. Implementations must never admit past the
    limit, also under concurrency and across processes, and must read the credentials
    epoch in the same round trip as a reservation."""

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
        """Adds ``units`` when ``used + units <= limit``; otherwise changes nothing. An
        admitted reservation's ``journal`` row is kept so that a crash of this process
        cannot lose it while its units stay counted."""
        ...

    async def refund(self, *, user_id: str, kind: str, day: dt.date, units: int) -> None:
        """Gives ``units`` back (never below zero)."""
        ...

    async def release(self, *, journal: Row) -> None:
        """Gives back an admitted reservation that never became a request (the caller's
        credential turned out stale), with whatever ``reserve`` kept of its journal."""
        ...

    async def settle_refund(self, *, settled: Row, units: int, usage: UsageLog) -> bool:
        """Writes the settled record ``settled`` unless its reservation was settled
        before, and then gives back ``units``, so that no crash keeps one without the
        other; False (nothing given back) when it was settled before."""
        ...

    async def used(self, *, user_id: str, kinds: Sequence[str], day: dt.date) -> dict[str, int]:
        """Units counted on ``day`` per kind, for the usage API."""
        ...

    async def epoch(self) -> int:
        """The current credentials epoch (for calls that reserve nothing)."""
        ...

    async def close(self) -> None:
        """Releases connections."""
        ...


# How a quota is named to the caller who ran out of it.
_QUOTA_NAMES = {"chat": "chat", "imageGen": "image generation", "imageEdit": "image editing"}


def _in_words(seconds: int) -> str:
    hours, minutes = divmod(math.ceil(seconds / 60), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def quota_exceeded(*, kind: str, limit: int, used: int, now: dt.datetime) -> QuotaExceeded:
    """The error a refused reservation raises, with what a 429 needs in its metadata: the
    product's wording, then which quota ran out and when it resets."""
    reset_s = seconds_until_reset(now)
    return QuotaExceeded(
        f"Rate limit exceeded. Daily quota: {used}/{limit} used."
        f" The daily {_QUOTA_NAMES.get(kind, kind)} quota resets at 00:00 UTC"
        f" (in {_in_words(reset_s)}).",
        metadata={
            "retry_after_s": str(reset_s),
            "limit": str(limit),
            "used": str(used),
            "kind": kind,
        },
    )
