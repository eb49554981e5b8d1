"""Usage records: the write path (one row per API request) and the reads behind the
usage API, the dashboard history and quota rebuilds.

Write path. Authorize journals the request as a row with status ``reserved`` (batched:
no round trip of its own); Settle turns it into its outcome, and the abandoned sweep
(``usage.abandoned``) settles the rows nobody settled. The row's primary key (the
reservation's nonce) and its ``reserved`` status are the once-only guard: every write is
``INSERT … ON CONFLICT (id) DO UPDATE … WHERE status = 'reserved'``, so a settled row is
never changed again, and a repeated Settle is a no-op, not an error.

* Nothing to give back (the usual success): the row joins a batch written every
  ``FLUSH_INTERVAL_S`` (or at ``MAX_BATCH`` rows) as one multi-row statement; pending
  rows are keyed by id, so a settlement replaces its still-pending journal row. On a
  SQLite file a batch is one transaction on a connection of its own, and the WAL is
  checkpointed off the event loop (``usage.sqlite_batch``).
* Units to give back (failed, cancelled, rejected, fewer units used): the pending batch
  is flushed first, then the row is written at once ``RETURNING id``
  (:meth:`UsageLog.write_once`), by the quota store together with the refund
  (``QuotaStore.settle_refund``): only when it changed something is the quota refunded.
  So a second Settle of the same reservation never refunds again, whichever replica it
  reaches.

A settlement is acknowledged only once written: the servicer awaits :meth:`UsageLog.written`
before it answers, so a crash of this process loses no settled record (the edge, which
had no answer, sends it again). Batches are flushed when the service stops and before any
read that needs them (usage API, quota rebuild). ``last_used_at`` of keys is batched the
same way, at most once a minute per key. While the database cannot be reached the
batches wait and are retried (logged once per outage, ``write_outage``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from drafter.reservations import Reservation
from drafter.services.accounts.admission.credentials import touch_statement
from drafter.services.accounts.db.tables import usage_records_t as records
from drafter.services.accounts.db.upsert import dialect_insert
from drafter.services.accounts.quota.store import Row
from drafter.services.accounts.usage.sqlite_batch import SqliteBatches
from drafter.services.accounts.usage.upsert import record_upsert
from drafter.services.accounts.usage.write_outage import WriteOutage
from drafter.services.accounts.vocab import RESERVED
from drafter.tasks import Periodic

log = logging.getLogger("drafter.accounts.usage")

FLUSH_INTERVAL_S = 0.05
# A failed flush is retried after this pause (the rows stay pending meanwhile).
RETRY_PAUSE_S = 1.0
MAX_BATCH = 500
HISTORY_DAYS = 30

# Told the ids of every batch written (the Redis store's journal, ``quota.redis_journal``).
OnWritten = Callable[[list[str]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DayTotals:
    """One day and kind: prompt tokens (``input_tokens``, cache reads and writes
    included, also counted apart) and completion tokens (thinking excluded)."""

    day: dt.date
    kind: str
    requests: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0


@dataclass(frozen=True, slots=True)
class TodayTotals:
    """A day's API calls and billable tokens, with the prompt tokens read from and
    written to the prompt cache (included in ``tokens``) apart."""

    api_calls: int
    tokens: int
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0


@dataclass(frozen=True, slots=True)
class TokenCounts:
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0


def billable_tokens() -> sa.ColumnElement[int]:
    """Tokens as the usage API counts them: prompt + completion, thinking excluded."""
    c = records.c
    return (
        c.input_tokens
        + c.cache_read_input_tokens
        + c.cache_creation_input_tokens
        + c.output_tokens
        - c.reasoning_tokens
    )


def settled() -> sa.ColumnElement[bool]:
    """Rows of requests that ended (the usage API and history count those; quota
    rebuilds count the in-flight ones too, as the counters do)."""
    return records.c.status != RESERVED


class UsageLog:
    """The usage records of one accounts process: the write batches and the reads."""

    def __init__(self, engine: AsyncEngine, *, on_written: OnWritten | None = None) -> None:
        self._engine = engine
        self._on_written = on_written
        self._outage = WriteOutage()
        # Built once; rows are passed as parameters. A row replaces only a journal row.
        self._write = record_upsert(dialect_insert(engine, records))
        self._write_once = self._write.returning(records.c.id)
        database = engine.url.database
        self._sqlite = (
            SqliteBatches(database, engine.dialect)
            if engine.dialect.name == "sqlite" and database and database != ":memory:"
            else None
        )
        self._rows: dict[str, Row] = {}
        self._touches: dict[str, dt.datetime] = {}
        self._lock = asyncio.Lock()
        # Rows enqueued so far, and how many of them are known to be written.
        self._enqueued = 0
        self._written = 0
        self._written_changed = asyncio.Condition()
        self._flusher = Periodic(
            "writing usage records",
            self._flush_round,
            FLUSH_INTERVAL_S,
            first_round_at_start=False,
            pause_after_failure_s=RETRY_PAUSE_S,
            logger=log,
        )

    def start(self) -> None:
        """Starts writing batches every ``FLUSH_INTERVAL_S``."""
        self._flusher.start()

    async def stop(self) -> None:
        """Stops the batches and writes what is still pending."""
        await self._flusher.stop()
        try:
            await self.flush()
        finally:
            if self._sqlite is not None:
                self._sqlite.close()

    async def write_once(self, conn: AsyncConnection, row: Row) -> bool:
        """Writes a settled row on ``conn`` now; False when its reservation was settled
        before (nothing changed)."""
        return (await conn.execute(self._write_once, row)).first() is not None

    async def settle_once(self, row: Row) -> bool:
        """Flushes the pending batch, then :meth:`write_once` in a statement of its own."""
        await self.flush()
        async with self._engine.begin() as conn:
            return await self.write_once(conn, row)

    async def stored(self, record_id: str) -> Row | None:
        """The record ``record_id`` as written (status and units), or None."""
        c = records.c
        stmt = sa.select(c.status, c.units, c.units_reserved).where(c.id == record_id)
        async with self._engine.connect() as conn:
            found = (await conn.execute(stmt)).first()
        return None if found is None else dict(found._mapping)

    def enqueue(self, row: Row) -> None:
        """Adds a row to the next batch (rows that need no once-only check); it replaces
        a pending row of the same id (a journal row settled before it was written)."""
        self._rows[row["id"]] = row
        self._enqueued += 1
        if len(self._rows) >= MAX_BATCH:
            self._flusher.wake()

    async def written(self) -> None:
        """Returns once every row enqueued before the call is in the database (the next
        batch is written at once); waits across failed writes, which are retried."""
        target = self._enqueued
        if self._written >= target:
            return
        self._flusher.wake()
        async with self._written_changed:
            await self._written_changed.wait_for(lambda: self._written >= target)

    def touch(self, credential_id: str, now: dt.datetime) -> None:
        self._touches[credential_id] = now

    async def _flush_round(self) -> None:
        """A round of the writer: a failure to reach the database is waited out (logged
        once per outage); any other failure raises (logged by the task, with traceback)."""
        try:
            await self.flush()
        except Exception as exc:
            if not self._outage.failed(exc, len(self._rows)):
                raise
            await asyncio.sleep(RETRY_PAUSE_S)

    async def flush(self) -> None:
        """Writes every pending row and touch now; on failure they stay pending."""
        async with self._lock:
            rows, self._rows = self._rows, {}
            touches, self._touches = self._touches, {}
            enqueued = self._enqueued
            if rows or touches:
                try:
                    if self._sqlite is not None:
                        self._sqlite.write(rows.values(), touches)
                    else:
                        async with self._engine.begin() as conn:
                            if rows:
                                await conn.execute(self._write, list(rows.values()))
                            for credential_id, now in touches.items():
                                await conn.execute(touch_statement(credential_id, now))
                except BaseException:
                    self._rows = {**rows, **self._rows}  # newer rows of the same id win
                    self._touches = {**touches, **self._touches}
                    raise
                self._outage.written(len(rows))
                if rows and self._on_written is not None:
                    await self._on_written(list(rows))
        async with self._written_changed:
            self._written = max(self._written, enqueued)
            self._written_changed.notify_all()

    async def counted(self, user_id: str, kind: str, day: dt.date) -> int:
        """Units used on ``day`` as the records say (quota rebuilds)."""
        await self.flush()
        stmt = sa.select(sa.func.coalesce(sa.func.sum(records.c.units), 0)).where(
            records.c.user_id == user_id, records.c.quota_day == day, records.c.kind == kind
        )
        async with self._engine.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def today(self, user_id: str, day: dt.date) -> TodayTotals:
        """API calls and billable tokens of ``day``, cache reads and writes apart."""
        await self.flush()
        c = records.c
        stmt = sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(billable_tokens()), 0),
            sa.func.coalesce(sa.func.sum(c.cache_read_input_tokens), 0),
            sa.func.coalesce(sa.func.sum(c.cache_creation_input_tokens), 0),
        ).where(c.user_id == user_id, c.quota_day == day, settled())
        async with self._engine.connect() as conn:
            calls, tokens, read, written = (await conn.execute(stmt)).one()
        return TodayTotals(int(calls), int(tokens), int(read), int(written))

    async def history(self, user_id: str, today: dt.date) -> list[DayTotals]:
        """Per day and kind over the last ``HISTORY_DAYS`` days, oldest first."""
        await self.flush()
        since = today - dt.timedelta(days=HISTORY_DAYS - 1)
        c = records.c
        prompt = c.input_tokens + c.cache_read_input_tokens + c.cache_creation_input_tokens
        stmt = (
            sa.select(
                c.quota_day,
                c.kind,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(prompt), 0),
                sa.func.coalesce(sa.func.sum(c.output_tokens - c.reasoning_tokens), 0),
                sa.func.coalesce(sa.func.sum(c.cache_read_input_tokens), 0),
                sa.func.coalesce(sa.func.sum(c.cache_creation_input_tokens), 0),
            )
            .where(c.user_id == user_id, c.quota_day >= since, c.quota_day <= today, settled())
            .group_by(c.quota_day, c.kind)
            .order_by(c.quota_day, c.kind)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            DayTotals(r[0], r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6]))
            for r in rows
        ]


def journal_row(res: Reservation, now: dt.datetime) -> Row:
    """The row Authorize writes: the request is in flight with its units reserved."""
    return usage_row(res, RESERVED, res.units, TokenCounts(), 0, now) | {"settled_at": None}


def usage_row(
    res: Reservation,
    outcome: str,
    units: int,
    tokens: TokenCounts,
    latency_ms: int,
    now: dt.datetime,
) -> Row:
    """The usage record of a settled reservation (``outcome`` a ``vocab.Outcome``)."""
    return {
        "id": res.record_id,
        "user_id": res.user_id,
        "credential_id": res.credential_id,
        "app_id": res.app_id,
        "kind": res.kind,
        "model": res.model,
        "status": outcome,
        "quota_day": res.day,
        "units_reserved": res.units,
        "units": units,
        "input_tokens": max(0, tokens.input_tokens),
        "output_tokens": max(0, tokens.output_tokens),
        "reasoning_tokens": max(0, tokens.reasoning_tokens),
        "cache_read_input_tokens": max(0, tokens.cache_read_input_tokens),
        "cache_creation_input_tokens": max(0, tokens.cache_creation_input_tokens),
        "latency_ms": max(0, latency_ms),
        "created_at": res.created_at,
        "settled_at": now,
    }
