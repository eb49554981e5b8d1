"""The SQL quota store: one row per user, kind and UTC day in ``quota_counters``.

A reservation is atomic and correct on SQLite and PostgreSQL under concurrency:
INSERT … ON CONFLICT DO UPDATE SET used = used + :units WHERE used + :units <= :limit
RETURNING used, (SELECT value FROM credentials_epoch) — no row back means refused. The
sub-select is the credential cache's freshness check, so it costs no extra round trip.

The counter and the usage records live in the same database, so they change together:
a reservation writes its journal row (the usage record with status ``reserved``) in the
same statement on PostgreSQL (a data-modifying ``WITH``: still one round trip) and in
the same transaction on SQLite (in-process, no round trip); a refund and the settled
record that gives it back are one transaction. A ``kill -9`` at any point leaves the
counter equal to the records (``usage.abandoned`` settles the open ones).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.admission.credential_cache import EPOCH_SELECT
from drafter.services.accounts.db.atomic import transaction
from drafter.services.accounts.db.tables import quota_counters_t as counters
from drafter.services.accounts.db.tables import usage_records_t as records
from drafter.services.accounts.db.upsert import dialect_insert
from drafter.services.accounts.quota.store import QuotaResult, Row
from drafter.services.accounts.vocab import RESERVED

if TYPE_CHECKING:
    from drafter.services.accounts.db.upsert import DialectInsert
    from drafter.services.accounts.usage.log import UsageLog

_KEY = ("user_id", "kind", "day")


def _key_clause(user_id: str, kind: str, day: dt.date) -> sa.ColumnElement[bool]:
    return sa.and_(counters.c.user_id == user_id, counters.c.kind == kind, counters.c.day == day)


def _param(name: str, type_: sa.types.TypeEngine[Any] | None = None) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=type_ or sa.Integer())


def _counter_upsert(engine: AsyncEngine) -> DialectInsert:
    """The reservation's INSERT … ON CONFLICT on the counter (without RETURNING)."""
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
    )


def _reserve_statement(engine: AsyncEngine) -> sa.Executable:
    """Built once: statements with bound parameters skip SQLAlchemy's per-call building."""
    return _counter_upsert(engine).returning(counters.c.used, EPOCH_SELECT)


def _journal_param(name: str) -> str:
    return f"j_{name}"


def _journaled_reserve_statement(engine: AsyncEngine) -> sa.Executable:
    """PostgreSQL: the reservation and its journal row in one statement,
    WITH counted AS (upsert RETURNING used), journaled AS (INSERT INTO usage_records
    SELECT :j_… FROM counted) SELECT used, epoch FROM counted: the row is written only
    when the counter admitted (PostgreSQL runs every data-modifying WITH once, to its end,
    in the statement's transaction)."""
    counted = _counter_upsert(engine).returning(counters.c.used).cte("counted")
    names = [c.name for c in records.columns]
    values = [sa.cast(sa.bindparam(_journal_param(n)), records.c[n].type) for n in names]
    journaled = sa.insert(records).from_select(names, sa.select(*values).select_from(counted)).cte()
    return sa.select(counted.c.used, EPOCH_SELECT).add_cte(journaled)


def _journal_insert(engine: AsyncEngine) -> sa.Executable:
    return dialect_insert(engine, records).on_conflict_do_nothing(index_elements=[records.c.id])


_RELEASE_JOURNAL = sa.delete(records).where(
    records.c.id == sa.bindparam("id"), records.c.status == RESERVED
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
    """QuotaStore on the accounts database (see :mod:`services.accounts.quota.store`) on
    the hot path's autocommit ``engine``: each operation is one statement, or one
    transaction opened with ``db.atomic.transaction``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reserve = _reserve_statement(engine)
        self._postgres = engine.dialect.name == "postgresql"
        self._reserve_journaled = _journaled_reserve_statement(engine) if self._postgres else None
        self._journal = _journal_insert(engine)

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
        """With ``journal``, the row is written with an admitted reservation (``journaled``)."""
        if units > limit:
            return await self._refused(user_id, kind, day)
        params = {"user_id": user_id, "kind": kind, "day": day, "units": units, "limit": limit}
        if journal is None:
            async with self._engine.begin() as conn:
                row = (await conn.execute(self._reserve, params)).first()
        elif self._reserve_journaled is not None:
            params |= {_journal_param(name): value for name, value in journal.items()}
            async with self._engine.begin() as conn:
                row = (await conn.execute(self._reserve_journaled, params)).first()
        else:
            async with transaction(self._engine) as conn:
                row = (await conn.execute(self._reserve, params)).first()
                if row is not None:
                    await conn.execute(self._journal, journal)
        if row is not None:
            return QuotaResult(True, row[0], int(row[1] or 0), journaled=journal is not None)
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

    async def release(self, *, journal: Row) -> None:
        """Gives back an admitted reservation that never became a request, and deletes
        its journal row, in one transaction."""
        async with transaction(self._engine) as conn:
            deleted = await conn.execute(_RELEASE_JOURNAL, {"id": journal["id"]})
            if deleted.rowcount:
                await conn.execute(_REFUND, _refund_params(journal, journal["units_reserved"]))

    async def settle_refund(self, *, settled: Row, units: int, usage: UsageLog) -> bool:
        """Writes the settled record and gives back ``units``, in one transaction."""
        await usage.flush()
        async with transaction(self._engine) as conn:
            if not await usage.write_once(conn, settled):
                return False
            await conn.execute(_REFUND, _refund_params(settled, units))
        return True

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


def _refund_params(row: Row, units: int) -> dict[str, Any]:
    """The refund of ``units`` on the counter of the usage record ``row``."""
    return {
        "k_user": row["user_id"],
        "k_kind": row["kind"],
        "k_day": row["quota_day"],
        "units": units,
    }
