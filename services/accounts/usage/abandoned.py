"""Settles the reservations nobody settled: an edge that crashed (or lost its settlement
queue) leaves its requests' journal rows ``reserved`` for ever, their units held. Every
``interval`` the accounts service turns the ones older than the deadline
(``DRAFTER_RESERVATION_DEADLINE_S``, 15 minutes by default) into ``abandoned`` records:
counted as used (the quota counter already holds their units, so it stays equal to the
records), with a usage record like any other request. A Settle that comes later still
is a no-op (``usage.log``: only a ``reserved`` row is ever changed). With Redis counters,
each sweep first writes the journal rows a stopped process left in Redis
(``quota.redis_journal``), so their reservations are settled like the others.

The sweep reads the partial index ``ix_usage_records_open`` (``created_at`` of the rows
still ``reserved``, migration 0006), never scanning the usage records: its ``status``
is compared with an inline literal, which is what lets SQLite and PostgreSQL (also with
a prepared, generic plan) match the index's ``WHERE status = 'reserved'``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.db.tables import usage_records_t as records
from drafter.services.accounts.vocab import RESERVED, Outcome
from drafter.tasks import Periodic
from drafter.timeutil import Clock, utc_now

if TYPE_CHECKING:
    # The Redis store's, imported with the Redis client only when REDIS_URL is set.
    from drafter.services.accounts.quota.redis_journal import RedisJournal

log = logging.getLogger("drafter.accounts.usage")

DEFAULT_DEADLINE_S = 900.0
# How often the sweep runs: a fraction of the deadline, at most once a minute.
MAX_INTERVAL_S = 60.0
# A Redis journal entry this old belongs to a process that died before writing its row
# (a live one writes it within a batch interval); at most a quarter of the deadline.
JOURNAL_GRACE_S = 10.0


async def settle_abandoned(engine: AsyncEngine, now: dt.datetime, deadline: dt.timedelta) -> int:
    """Settles every reservation made before ``now - deadline`` and still open, as
    abandoned; returns how many."""
    stmt = (
        sa.update(records)
        .where(
            records.c.status == sa.literal(RESERVED, literal_execute=True),
            records.c.created_at < now - deadline,
        )
        .values(status=Outcome.ABANDONED.value, units=records.c.units_reserved, settled_at=now)
    )
    async with engine.begin() as conn:
        return (await conn.execute(stmt)).rowcount


class AbandonedSweep:
    """Runs :func:`settle_abandoned` every ``min(60 s, deadline / 4)`` until stopped,
    after the recovery of ``journal`` (the Redis store's) when there is one."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        deadline_s: float = DEFAULT_DEADLINE_S,
        clock: Clock = utc_now,
        journal: RedisJournal | None = None,
    ) -> None:
        self._engine = engine
        self._deadline = dt.timedelta(seconds=deadline_s)
        self._grace = dt.timedelta(seconds=min(JOURNAL_GRACE_S, deadline_s / 4))
        self._clock = clock
        self._journal = journal
        interval = min(MAX_INTERVAL_S, max(0.1, deadline_s / 4))
        self._sweeps = Periodic(
            "settling abandoned reservations", self.sweep_once, interval, logger=log
        )

    def start(self) -> None:
        self._sweeps.start()

    async def stop(self) -> None:
        await self._sweeps.stop()

    async def sweep_once(self) -> int:
        now = self._clock()
        if self._journal is not None:
            await self._journal.recover(self._engine, now - self._grace)
        settled = await settle_abandoned(self._engine, now, self._deadline)
        if settled:
            log.warning("settled %d abandoned reservations (never settled by their edge)", settled)
        return settled
