"""``INSERT … ON CONFLICT`` on both databases: the one place that picks the dialect's
insert construct.

PostgreSQL's and SQLite's ``insert`` both offer ``on_conflict_do_nothing`` and
``on_conflict_do_update`` (with ``index_elements``, ``set_`` and ``where``) and
``RETURNING``, so a statement built on :func:`dialect_insert` runs unchanged on either.

SQLAlchemy's PostgreSQL dialect is imported only when the engine is PostgreSQL's: the
package brings every PostgreSQL driver and type with it, which a SQLite deployment never
uses (``tests/test_up_start.py`` checks that ``drafter up`` leaves it unimported).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql

    DialectInsert: TypeAlias = postgresql.Insert | sqlite.Insert


def dialect_insert(engine: AsyncEngine, table: sa.Table) -> DialectInsert:
    """An INSERT into ``table`` that can take an ON CONFLICT clause on ``engine``'s
    database (PostgreSQL, else SQLite)."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql  # loaded already by the engine

        return postgresql.insert(table)
    return sqlite.insert(table)
