"""SQLite for the asyncio engine without a thread per connection.

aiosqlite ships every statement to a worker thread and back, which costs far more than
the statement itself (a local SQLite read or write takes microseconds). This dialect runs
pysqlite inline on the event loop instead: SQLAlchemy's ``AsyncEngine`` drives the sync
core in a greenlet, and each cursor call "awaits" an already finished coroutine, which
satisfies ``greenlet_spawn`` without suspending. SQLite with WAL and a busy timeout blocks
only while another process holds the write lock, which Drafter's short autocommit
statements keep brief.

Use it as ``sqlite+inline:///path.db`` (``engine.async_url`` picks it for SQLite).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.util.concurrency import await_


async def _ready() -> None:
    return None


class _InlineCursor:
    __slots__ = ("_cursor",)

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, *args: Any) -> Any:
        await_(_ready())
        return self._cursor.execute(*args)

    def executemany(self, *args: Any) -> Any:
        await_(_ready())
        return self._cursor.executemany(*args)

    async def _async_soft_close(self) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def __iter__(self) -> Any:
        return iter(self._cursor)


class _InlineConnection:
    __slots__ = ("_connection",)

    def __init__(self, connection: Any) -> None:
        object.__setattr__(self, "_connection", connection)

    def cursor(self, *args: Any) -> _InlineCursor:
        return _InlineCursor(self._connection.cursor(*args))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._connection, name, value)


class SQLiteDialect_inline(SQLiteDialect_pysqlite):
    """pysqlite, presented to the asyncio engine as an async driver."""

    is_async = True
    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: Any) -> type[sa.pool.Pool]:
        return sa.pool.AsyncAdaptedQueuePool

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        return _InlineConnection(super().connect(*args, **kwargs))


registry.register("sqlite.inline", __name__, "SQLiteDialect_inline")
