"""The SQL quota store: one row per user, kind and UTC day in ``quota_counters``.

A reservation is one atomic statement, correct on SQLite and PostgreSQL under
concurrency:  INSERT … ON CONFLICT DO UPDATE SET used = used + :units
WHERE used + :units <= :limit RETURNING used, (SELECT value FROM credentials_epoch)
— no row back means refused. The sub-select is the credential cache's freshness check,
so it costs no extra round trip.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.admission.credential_cache import EPOCH_SELECT
from drafter.services.accounts.db.tables import quota_counters_t as counters
from drafter.services.accounts.db.upsert import dialect_insert
from drafter.services.accounts.quota.store import QuotaResult

_KEY = ("user_id", "kind", "day")


def _key_clause(user_id: str, kind: str, day: dt.date) -> sa.ColumnElement[bool]:
    return sa.and_(counters.c.user_id == user_id, counters.c.kind == kind, counters.c.day == day)


def _param(name: str, type_: sa.types.TypeEngine[Any] | None = None) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=type_ or sa.Integer())


def _reserve_statement(engine: AsyncEngine) -> sa.Executable:
    """Built once: statements with bound parameters skip SQLAlchemy's per-call building."""
    units = _param("units")
    values = {
        "user_id": _param("user_id", sa.String()),
        "kind": _param("kind", sa.String()),
        "day": _param("day", sa.Date()),
        "used": units,
    }
    return (
        dialect_insert(engine, counters)
        .values(**values)
        .on_conflict_do_update(
            index_elements=_KEY,
            set_={"used": counters.c.used + units},
            where=counters.c.used + units <= _param("limit"),
        )
        .returning(counters.c.used, EPOCH_SELECT)
    )


_KEY_PARAMS = sa.and_(
    counters.c.user_id == _param("k_user", sa.String()),
    counters.c.kind == _param("k_kind", sa.String()),
    counters.c.day == _param("k_day", sa.Date()),
)
_REFUND = (
    sa.update(counters)
    .where(_KEY_PARAMS)
    .values(
        used=sa.case(
            (counters.c.used > _param("units"), counters.c.used - _param("units")), else_=0
        )
    )
)


class SqlQuotaStore:
    """QuotaStore on the accounts database (see :mod:`services.accounts.quota.store`); each
    operation is one statement, so ``engine`` should be autocommit (a transactional
    one works too)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reserve = _reserve_statement(engine)

    async def reserve(
        self, *, user_id: str, kind: str, day: dt.date, units: int, limit: int
    ) -> QuotaResult:
        if units > limit:
            return await self._refused(user_id, kind, day)
        params = {"user_id": user_id, "kind": kind, "day": day, "units": units, "limit": limit}
        async with self._engine.begin() as conn:
            row = (await conn.execute(self._reserve, params)).first()
        if row is not None:
            return QuotaResult(True, row[0], int(row[1] or 0))
        return await self._refused(user_id, kind, day)

    async def _refused(self, user_id: str, kind: str, day: dt.date) -> QuotaResult:
        used = sa.select(counters.c.used).where(_key_clause(user_id, kind, day))
        stmt = sa.select(used.scalar_subquery(), EPOCH_SELECT)
        async with self._engine.connect() as conn:
            row = (await conn.execute(stmt)).one()
        return QuotaResult(False, int(row[0] or 0), int(row[1] or 0))

    async def refund(self, *, user_id: str, kind: str, day: dt.date, units: int) -> None:
        if units <= 0:
            return
        params = {"k_user": user_id, "k_kind": kind, "k_day": day, "units": units}
        async with self._engine.begin() as conn:
            await conn.execute(_REFUND, params)

    async def used(self, *, user_id: str, kinds: Sequence[str], day: dt.date) -> dict[str, int]:
        stmt = sa.select(counters.c.kind, counters.c.used).where(
            counters.c.user_id == user_id, counters.c.day == day, counters.c.kind.in_(kinds)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        found = {kind: used for kind, used in rows}
        return {kind: int(found.get(kind, 0)) for kind in kinds}

    async def epoch(self) -> int:
        async with self._engine.connect() as conn:
            return int((await conn.execute(sa.select(EPOCH_SELECT))).scalar() or 0)

    async def close(self) -> None:
        return None
