"""One transaction on an autocommit engine (the hot path's, ``engine.create_engine``):
for the few writes that must land together or not at all, such as a quota refund and the
usage record that says why (a crash between two autocommitted statements would keep one
and lose the other).

The transaction is opened with an explicit ``BEGIN`` on a connection that stays in
autocommit mode, so the pool needs no isolation-level switch per call. On SQLite it is
``BEGIN IMMEDIATE``: the write lock is taken at once (waiting out ``busy_timeout``), so a
read that precedes the write can never fail to upgrade its lock.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


@contextlib.asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection of ``engine`` inside one transaction, committed when the block ends
    and rolled back when it raises."""
    begin = "BEGIN IMMEDIATE" if engine.dialect.name == "sqlite" else "BEGIN"
    async with engine.connect() as conn:
        await conn.exec_driver_sql(begin)
        try:
            yield conn
        except BaseException:
            # A broken connection cannot roll back; the database drops its transaction
            # with the connection (and the pool rolls back whatever it hands back).
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                await conn.exec_driver_sql("ROLLBACK")
            raise
        await conn.exec_driver_sql("COMMIT")
