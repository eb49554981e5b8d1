"""Migration 0006: the partial index of open reservations exists after the migrations, and
the abandoned sweep's statement, exactly as it is sent, is planned on it (SQLite and
PostgreSQL) rather than as a scan of the usage records."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from drafter.services.accounts.db.engine import create_engine, run_migrations, sync_url
from drafter.services.accounts.usage.abandoned import settle_abandoned

INDEX = "ix_usage_records_open"


def _indexes(url: str) -> dict[str, Any]:
    engine = sa.create_engine(sync_url(url), poolclass=sa.NullPool)
    with engine.connect() as conn:
        found = {str(i["name"]): i for i in sa.inspect(conn).get_indexes("usage_records")}
    engine.dispose()
    return found


async def _sweep_statement(url: str) -> tuple[str, Any]:
    """The SQL (and parameters) the sweep sends."""
    sent: list[tuple[str, Any]] = []
    engine = create_engine(url)

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE USAGE_RECORDS"):
            sent.append((statement, parameters))

    sa.event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        assert await settle_abandoned(engine, dt.datetime.now(dt.UTC), dt.timedelta(60)) == 0
    finally:
        await engine.dispose()
    [found] = sent
    return found


def _plan(url: str, statement: str, parameters: Any) -> str:
    engine = sa.create_engine(sync_url(url), poolclass=sa.NullPool)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = "\n".join(str(row[-1]) for row in rows)
        else:  # an empty table is cheaper to scan: ask which plan the index gives
            conn.exec_driver_sql("SET enable_seqscan = off")
            rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            plan = "\n".join(str(row[0]) for row in rows)
        conn.rollback()
    engine.dispose()
    return plan


def test_the_migrations_create_the_partial_index(fresh_database_url: str) -> None:
    run_migrations(fresh_database_url)
    index = _indexes(fresh_database_url)[INDEX]
    assert index["column_names"] == ["created_at"]
    assert not index["unique"]
    if fresh_database_url.startswith("postgresql"):
        where = index["dialect_options"]["postgresql_where"]
        assert "status" in where and "'reserved'" in where


async def test_the_sweep_is_planned_on_the_index(fresh_database_url: str) -> None:
    run_migrations(fresh_database_url)
    statement, parameters = await _sweep_statement(fresh_database_url)
    assert "'reserved'" in statement  # inline, so that the partial index matches
    plan = _plan(fresh_database_url, statement, parameters)
    assert INDEX in plan, plan
