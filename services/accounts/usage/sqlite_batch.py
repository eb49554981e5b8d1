"""The usage log's batches on a SQLite file: one transaction each, and the WAL
checkpoints on a thread of their own.

Through SQLAlchemy, a batch was one pysqlite ``executemany`` on the hot path's autocommit
engine, which made it one SQLite transaction per row: each row took the write lock,
appended its pages to the WAL and committed (about 70 pages a batch of 14 rows), and the
commit that took the WAL past its checkpoint threshold (1000 pages: every 15 batches or
so) copied it into the database and fsynced both, for milliseconds, on the event loop.
Here:

* A batch is ``BEGIN IMMEDIATE``, the rows' ``executemany``, the touches', ``COMMIT``, on
  a connection of the batches' own, still inline on the loop: a few hundred
  microseconds, and a quarter of the WAL pages. Its parameters come from the bind
  processors SQLAlchemy applies (the same stored text), without the rest of SQLAlchemy's
  execution path; a failure is raised as SQLAlchemy raises it, so ``db.outage`` still
  tells an outage.
* The statement is the record's one write (``usage.upsert``), compiled for SQLite.
* The WAL is checkpointed (``PASSIVE``: it waits for nobody, and nobody waits for it) on a
  thread with a connection of its own, every ``CHECKPOINT_ROWS`` rows or
  ``CHECKPOINT_INTERVAL_S``, so the commits on the loop stay under the threshold.
  SQLite's own checkpoint at the threshold stays in place, should these fall behind.

Why the batch itself is not written on a worker thread: that was tried (the loop's other
writers waiting for it at a gate; rows by ``executemany`` and by one multi-row
statement). pysqlite lets go of the GIL only inside each ``sqlite3_step``, and the loop's
thread mostly did not get it back before the worker was done: measured on two cores, idle
or loaded, the loop stood still about as long per batch as with the batch inline, and
handing the batch over and back cost 20 to 60 % more CPU. A checkpoint is mostly fsync:
the loop runs meanwhile.

PostgreSQL keeps SQLAlchemy's path (``usage.log``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import operator
import sqlite3
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.compiler import SQLCompiler

from drafter.services.accounts.admission.credentials import credential_table
from drafter.services.accounts.db.engine import sqlite_pragmas
from drafter.services.accounts.db.tables import api_keys_t, oauth_tokens_t
from drafter.services.accounts.db.tables import usage_records_t as records
from drafter.services.accounts.quota.store import Row
from drafter.services.accounts.usage.upsert import record_upsert

log = logging.getLogger("drafter.accounts.usage")

# A checkpoint is started after this many rows written since the last one (about 1.2 WAL
# pages a row in batches of a dozen; SQLite checkpoints by itself at 1000 pages) …
CHECKPOINT_ROWS = 256
# … or this long after the last one, if anything was written since.
CHECKPOINT_INTERVAL_S = 1.0

# What a batch runs: (SQL, the parameters of each row).
Statements = list[tuple[str, list[tuple[Any, ...]]]]


class Positional:
    """A statement compiled once for pysqlite: its SQL, and :meth:`params`, which turns a
    mapping of its bind names into its positional parameters through the bind processors
    SQLAlchemy would apply."""

    def __init__(self, statement: sa.ClauseElement, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if not isinstance(compiled, SQLCompiler) or not compiled.positiontup:
            raise ValueError("a statement with positional parameters is needed")
        names = compiled.positiontup
        self.sql = compiled.string
        self._single = len(names) == 1
        self._values: Callable[[Mapping[str, Any]], Any] = operator.itemgetter(*names)
        self._processors: list[tuple[int, Callable[[Any], Any]]] = []
        for index, name in enumerate(names):
            bind_type = compiled.binds[name].type
            process = bind_type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                self._processors.append((index, process))

    def params(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The parameters for ``values`` (bind name → value; every bind must be there)."""
        found = self._values(values)
        params = [found] if self._single else list(found)
        for index, process in self._processors:
            params[index] = process(params[index])
        return tuple(params)


def _settle_upsert() -> sa.Insert:
    """``usage.log``'s write, compiled here for SQLite."""
    return record_upsert(sqlite.insert(records))


def _touch(table: sa.Table) -> sa.Update:
    """``admission.credentials.touch_statement`` with parameters."""
    return (
        sa.update(table)
        .where(table.c.id == sa.bindparam("touch_id", type_=table.c.id.type))
        .values(last_used_at=sa.bindparam("touch_at", type_=table.c.last_used_at.type))
    )


def _connect(database: str) -> sqlite3.Connection:
    """A connection like the engines' (WAL, busy timeout, foreign keys), in autocommit
    mode (transactions are begun explicitly)."""
    try:
        db = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise sa.exc.DBAPIError.instance(None, None, exc, sqlite3.Error) from exc
    try:
        sqlite_pragmas(db)
    except sqlite3.Error as exc:
        db.close()
        raise sa.exc.DBAPIError.instance(None, None, exc, sqlite3.Error) from exc
    return db


def _in_one_transaction(db: sqlite3.Connection, statements: Statements) -> None:
    """``statements`` in one transaction on ``db``; a failure rolls it back and is raised
    as the SQLAlchemy error of the statement."""
    sql: str = "BEGIN IMMEDIATE"
    params: list[tuple[Any, ...]] = []
    try:
        db.execute(sql)
        try:
            for sql, params in statements:
                db.executemany(sql, params)
            sql, params = "COMMIT", []
            db.execute(sql)
        except BaseException:
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, params, exc, sqlite3.Error, ismulti=True) from exc


class Checkpoints:
    """``PRAGMA wal_checkpoint(PASSIVE)`` on a thread and a connection of its own, one at
    a time: after ``CHECKPOINT_ROWS`` rows, after ``CHECKPOINT_INTERVAL_S`` if anything
    was written, and at the next batch after one during which a batch was committed
    (SQLite starts the WAL over, instead of growing it, only at a write that finds all of
    it copied)."""

    def __init__(self, database: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._database = database
        self._clock = clock
        self._rows = 0
        self._last = clock()
        self._worker: ThreadPoolExecutor | None = None
        self._running: Future[None] | None = None
        self._overlapped = False  # rows were committed while it ran
        self._db: sqlite3.Connection | None = None  # the worker's

    def written(self, rows: int) -> None:
        """``rows`` more are committed: starts a checkpoint when one is due."""
        self._rows += rows
        behind = False
        if self._running is not None:
            if not self._running.done():
                self._overlapped = self._overlapped or rows > 0
                return
            behind = self._overlapped
        late = self._rows > 0 and self._clock() - self._last >= CHECKPOINT_INTERVAL_S
        if not (behind or late or self._rows >= CHECKPOINT_ROWS):
            return
        self._rows, self._last, self._overlapped = 0, self._clock(), False
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix="usage-checkpoint")
        self._running = self._worker.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        try:
            if self._db is None:
                self._db = _connect(self._database)
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except (sqlite3.Error, sa.exc.DBAPIError) as exc:
            log.debug("usage records: WAL checkpoint left to SQLite (%s)", exc)

    def _close_db(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()

    def close(self, *, wait: bool = False) -> None:
        """Closes the connection and lets the thread go, after a checkpoint under way
        (``wait``: returns only then)."""
        worker, self._worker = self._worker, None
        self._running = None
        if worker is not None:
            worker.submit(self._close_db)
            worker.shutdown(wait=wait)


class SqliteBatches:
    """Writes the usage log's batches to the SQLite file ``database`` (see the module
    docstring), on the event loop's thread."""

    def __init__(self, database: str, dialect: sa.Dialect) -> None:
        self._database = database
        self._rows = Positional(_settle_upsert(), dialect)
        self._touches = {t: Positional(_touch(t), dialect) for t in (api_keys_t, oauth_tokens_t)}
        self._db: sqlite3.Connection | None = None
        self._checkpoints = Checkpoints(database)

    def write(self, rows: Collection[Row], touches: Mapping[str, dt.datetime]) -> None:
        """Writes ``rows`` and ``touches`` (credential id → last used) in one transaction."""
        statements: Statements = []
        if rows:
            statements.append((self._rows.sql, [self._rows.params(row) for row in rows]))
        by_table: dict[sa.Table, list[tuple[Any, ...]]] = {}
        for credential_id, now in touches.items():
            table = credential_table(credential_id)
            touch = self._touches[table].params({"touch_id": credential_id, "touch_at": now})
            by_table.setdefault(table, []).append(touch)
        for table, touched in by_table.items():
            statements.append((self._touches[table].sql, touched))
        if self._db is None:
            self._db = _connect(self._database)
        _in_one_transaction(self._db, statements)
        self._checkpoints.written(len(rows))

    def close(self, *, wait: bool = False) -> None:
        """Closes the connections (a later batch opens them again); ``wait``: returns
        once a checkpoint under way has ended."""
        db, self._db = self._db, None
        if db is not None:
            db.close()
        self._checkpoints.close(wait=wait)
