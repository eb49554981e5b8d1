"""The SQL quota store: one row per user, kind and UTC day in ``quota_counters``.

A reservation is one atomic statement, correct on SQLite and PostgreSQL under
concurrency:  INSERT … ON CONFLICT DO UPDATE SET used = used + :units
WHERE used + :units <= :limit RETURNING used  — no row back means refused.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from services.accounts.quota import QuotaResult
from services.accounts.tables import quota_counters_t as counters

_KEY = ("user_id", "kind", "day")


def _key_clause(user_id: str, kind: str, day: dt.date) -> sa.ColumnElement[bool]:
    return sa.and_(counters.c.user_id == user_id, counters.c.kind == kind, counters.c.day == day)


class SqlQuotaStore:
    """QuotaStore on the accounts database (see :mod:`services.accounts.quota`); each
    operation is one statement, so ``engine`` should be autocommit (a transactional
    one works too)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        dialect = engine.dialect.name
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    async def reserve(
        self, *, user_id: str, kind: str, day: dt.date, units: int, limit: int
    ) -> QuotaResult:
        if units > limit:
            return QuotaResult(False, await self.used(user_id=user_id, kind=kind, day=day))
        insert = self._insert(counters).values(user_id=user_id, kind=kind, day=day, used=units)
        upsert = insert.on_conflict_do_update(
            index_elements=_KEY,
            set_={"used": counters.c.used + units},
            where=counters.c.used + units <= limit,
        ).returning(counters.c.used)
        async with self._engine.begin() as conn:
            used = (await conn.execute(upsert)).scalar()
        if used is not None:
            return QuotaResult(True, used)
        return QuotaResult(False, await self.used(user_id=user_id, kind=kind, day=day))

    async def commit(
        self, *, user_id: str, kind: str, day: dt.date, reserved: int, used: int
    ) -> None:
        if reserved > used:
            await self.refund(user_id=user_id, kind=kind, day=day, units=reserved - used)

    async def refund(self, *, user_id: str, kind: str, day: dt.date, units: int) -> None:
        if units <= 0:
            return
        stmt = (
            sa.update(counters)
            .where(_key_clause(user_id, kind, day))
            .values(used=sa.case((counters.c.used > units, counters.c.used - units), else_=0))
        )
        async with self._engine.begin() as conn:
            await conn.execute(stmt)

    async def used(self, *, user_id: str, kind: str, day: dt.date) -> int:
        stmt = sa.select(counters.c.used).where(_key_clause(user_id, kind, day))
        async with self._engine.connect() as conn:
            return (await conn.execute(stmt)).scalar() or 0
