"""SQLAlchemy's PostgreSQL dialect is loaded only for PostgreSQL: on SQLite the tables, their
partial index and the ``INSERT … ON CONFLICT`` writes never import it (it brings every
PostgreSQL driver and type); on PostgreSQL the partial index is what migration 0006 makes,
as it was when declared with ``postgresql_where``."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex

from drafter.services.accounts.db.tables import usage_records_t
from tests.support.fresh_interpreter import run_script
from tests.support.stack import base_env

SCRIPT = """
import asyncio, datetime as dt, json, sys
from drafter.services.accounts.db.engine import create_engine
from drafter.services.accounts.db.tables import metadata, quota_counters_t, users_t
from drafter.services.accounts.db.upsert import dialect_insert
# The other modules that build these writes: importing them must not load it either.
import drafter.services.accounts.quota.sql, drafter.services.accounts.usage.upsert

async def main(url):
    engine = create_engine(url)
    now = dt.datetime.now(dt.UTC)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)  # the partial index among the rest
        await conn.execute(users_t.insert().values(
            id="u", email="u@example.com", password_hash="x", plan="free", blocked=False,
            created_at=now,
        ))
        for _ in range(2):
            insert = dialect_insert(engine, quota_counters_t).values(
                user_id="u", kind="chat", day=now.date(), used=1
            )
            await conn.execute(insert.on_conflict_do_update(
                index_elements=["user_id", "kind", "day"],
                set_={"used": quota_counters_t.c.used + insert.excluded.used},
            ))
        used = (await conn.execute(quota_counters_t.select())).one().used
    await engine.dispose()
    loaded = sorted(m for m in sys.modules if m.startswith("sqlalchemy.dialects.postgresql"))
    print(json.dumps({"used": used, "postgresql": loaded}))

asyncio.run(main(sys.argv[1]))
"""


def test_sqlite_never_imports_the_postgresql_dialect(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db' / 'drafter.db'}"
    env = base_env(tmp_path / "data", DRAFTER_LOG_LEVEL="WARNING")
    assert run_script(SCRIPT, url, env=env, timeout=60) == {"used": 2, "postgresql": []}


def _dialect(name: str) -> sa.Dialect:
    return sa.make_url(f"{name}://").get_dialect()()


def _open_reservations_index(table: sa.Table) -> sa.Index:
    [index] = [index for index in table.indexes if index.name == "ix_usage_records_open"]
    return index


def test_the_open_reservations_index_is_partial_on_both_databases() -> None:
    index = _open_reservations_index(usage_records_t)
    where = "WHERE status = 'reserved'"
    for dialect in (_dialect("postgresql"), _dialect("sqlite")):
        ddl = str(CreateIndex(index).compile(dialect=dialect))
        assert ddl == f"CREATE INDEX ix_usage_records_open ON usage_records (created_at) {where}"
    assert str(index.dialect_options["postgresql"]["where"]) == "status = 'reserved'"
    assert index.dialect_options["postgresql"]["using"] is False  # the dialect's defaults
    assert sorted(index.dialect_kwargs) == ["postgresql_where", "sqlite_where"]


def test_a_copy_of_the_table_keeps_the_partial_index() -> None:
    copied = _open_reservations_index(usage_records_t.to_metadata(sa.MetaData()))
    assert sorted(copied.dialect_kwargs) == ["postgresql_where", "sqlite_where"]
    ddl = str(CreateIndex(copied).compile(dialect=_dialect("postgresql")))
    assert ddl.endswith("WHERE status = 'reserved'")
