"""dialect_insert: the INSERT … ON CONFLICT construct of each database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.dialects import postgresql, sqlite

from drafter.services.accounts.db.engine import create_engine
from drafter.services.accounts.db.tables import quota_counters_t
from drafter.services.accounts.db.upsert import dialect_insert


async def test_each_database_gets_its_own_insert(tmp_path: Path) -> None:
    for url, expected in (
        (f"sqlite:///{tmp_path / 'x.db'}", sqlite.Insert),
        ("postgresql://u@127.0.0.1/none", postgresql.Insert),  # never connected
    ):
        engine = create_engine(url)
        try:
            stmt = dialect_insert(engine, quota_counters_t)
            assert type(stmt) is expected
            assert "ON CONFLICT" in str(
                stmt.on_conflict_do_nothing().compile(dialect=engine.dialect)
            )
        finally:
            await engine.dispose()
