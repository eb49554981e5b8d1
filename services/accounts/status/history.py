"""The status history: probe results rolled up per component and hour, and their
aggregation into the last 24 hours (hourly) or the last 90 days (daily).

One row per component and hour keeps 90 days small (24 x 90 rows per component)
whatever the probe interval. Several accounts replicas may probe at once: counts
add up, and the uptime ratios stay right.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.db.tables import status_probe_hours_t as _t
from drafter.services.accounts.db.upsert import dialect_insert

RETENTION = dt.timedelta(days=91)


@dataclass(frozen=True, slots=True)
class Check:
    """One probe of one component."""

    name: str
    up: bool
    latency_ms: float
    detail: str = ""


@dataclass(slots=True)
class Bucket:
    start: dt.datetime
    probes: int = 0
    successes: int = 0
    latency_ms_sum: float = 0.0

    @property
    def mean_latency_ms(self) -> float:
        return self.latency_ms_sum / self.probes if self.probes else 0.0


@dataclass(slots=True)
class History:
    """Buckets per component, oldest first, every bucket of the span present."""

    starts: list[dt.datetime]
    components: dict[str, list[Bucket]] = field(default_factory=dict)


def uptime_percent(buckets: Iterable[Bucket]) -> float:
    probes = successes = 0
    for bucket in buckets:
        probes += bucket.probes
        successes += bucket.successes
    return round(100.0 * successes / probes, 2) if probes else 100.0


def hour_of(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _upsert(engine: AsyncEngine, hour: dt.datetime, check: Check) -> sa.Insert:
    """Adds ``check`` to its component's row of ``hour`` (the row is made if missing)."""
    stmt = dialect_insert(engine, _t).values(
        component=check.name,
        hour=hour,
        probes=1,
        successes=int(check.up),
        latency_ms_sum=check.latency_ms,
    )
    return stmt.on_conflict_do_update(
        index_elements=[_t.c.component, _t.c.hour],
        set_={
            "probes": _t.c.probes + 1,
            "successes": _t.c.successes + int(check.up),
            "latency_ms_sum": _t.c.latency_ms_sum + check.latency_ms,
        },
    )


async def record(engine: AsyncEngine, checks: Sequence[Check], now: dt.datetime) -> None:
    """Adds one probe round to the hour of ``now`` and drops rows past the retention."""
    hour = hour_of(now)
    async with engine.begin() as conn:
        for check in checks:
            await conn.execute(_upsert(engine, hour, check))
        await conn.execute(sa.delete(_t).where(_t.c.hour < hour - RETENTION))


def _span(now: dt.datetime, daily: bool) -> list[dt.datetime]:
    hour = hour_of(now)
    if daily:
        day = hour.replace(hour=0)
        return [day - dt.timedelta(days=n) for n in range(89, -1, -1)]
    return [hour - dt.timedelta(hours=n) for n in range(23, -1, -1)]


async def history(engine: AsyncEngine, now: dt.datetime, *, daily: bool) -> History:
    """The last 24 hours per hour, or (``daily``) the last 90 UTC days per day."""
    starts = _span(now, daily)
    query = sa.select(_t).where(_t.c.hour >= starts[0]).order_by(_t.c.component, _t.c.hour)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    result = History(starts)
    index = {start: n for n, start in enumerate(starts)}
    for row in rows:
        start = row.hour.replace(hour=0) if daily else row.hour
        if start not in index:
            continue
        buckets = result.components.setdefault(row.component, [Bucket(s) for s in starts])
        bucket = buckets[index[start]]
        bucket.probes += row.probes
        bucket.successes += row.successes
        bucket.latency_ms_sum += row.latency_ms_sum
    return result
