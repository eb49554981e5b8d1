"""``INSERT … ON CONFLICT`` on both databases: the one place that picks the dialect's
insert construct.

PostgreSQL's and SQLite's ``insert`` both offer ``on_conflict_do_nothing`` and
``on_conflict_do_update`` (with ``index_elements``, ``set_`` and ``where``) and
``RETURNING``, so a statement built on :func:`dialect_insert` runs unchanged on either.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

DialectInsert = postgresql.Insert | sqlite.Insert


def dialect_insert(engine: AsyncEngine, table: sa.Table) -> DialectInsert:
    """An INSERT into ``table`` that can take an ON CONFLICT clause on ``engine``'s
    database (PostgreSQL, else SQLite)."""
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
