"""The Redis store's journal: reservations Redis counted whose usage record may not be
in SQL yet.

With Redis counters, a reservation is counted in Redis and its journal row (the usage
record with status ``reserved``) joins the usage log's next batch, some milliseconds
later, in SQL. A ``kill -9`` of the accounts service in between would keep the unit
counted and lose the row. So the reservation script, in the same atomic step as the
count, also puts the row in the hash ``drafter:journal`` (record id → row as JSON): no
round trip of its own. Once a batch is written, its ids leave the hash
(:meth:`RedisJournal.written`); what a dead process left there is written to SQL by the
next sweep of any replica (:meth:`RedisJournal.recover`, run by ``usage.abandoned``
before it settles the open reservations), never over a row already written, so a
recovered reservation is settled by its edge or, past its deadline, as abandoned like
any other.
"""

from __future__ import annotations

import datetime as dt
import logging

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.db.tables import usage_records_t as records
from drafter.services.accounts.db.upsert import dialect_insert
from drafter.services.accounts.quota.store import Row

log = logging.getLogger("drafter.accounts.quota")

JOURNAL_KEY = "drafter:journal"


def journal_entry(row: Row) -> bytes:
    """A journal row as the hash keeps it."""
    return orjson.dumps(row)


def row_from_entry(raw: bytes | str) -> Row:
    row: Row = orjson.loads(raw)
    row["quota_day"] = dt.date.fromisoformat(row["quota_day"])
    row["created_at"] = dt.datetime.fromisoformat(row["created_at"])
    row["settled_at"] = None
    return row


class RedisJournal:
    """The hash of journaled reservations: emptied as their rows are written."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def written(self, record_ids: list[str]) -> None:
        """The rows of ``record_ids`` are in SQL: their entries go. A failure only leaves
        them for :meth:`recover`, which writes nothing over them."""
        try:
            await self._redis.hdel(JOURNAL_KEY, *record_ids)
        except RedisError as exc:
            log.debug("journal entries left for the sweep: %s", exc)

    async def recover(self, engine: AsyncEngine, before: dt.datetime) -> int:
        """Writes the journal rows of reservations made before ``before`` that are still
        in the hash (their process died before its batch), unless a row of the same id is
        there already; returns how many entries were left."""
        entries = await self._redis.hgetall(JOURNAL_KEY)
        rows = [row_from_entry(raw) for raw in entries.values()]
        stale = [row for row in rows if row["created_at"] < before]
        if not stale:
            return 0
        insert = dialect_insert(engine, records).on_conflict_do_nothing(
            index_elements=[records.c.id]
        )
        async with engine.begin() as conn:
            await conn.execute(insert, stale)
        await self._redis.hdel(JOURNAL_KEY, *(row["id"] for row in stale))
        log.warning("recovered %d reservations journaled by a stopped process", len(stale))
        return len(stale)
