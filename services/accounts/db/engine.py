"""Database engines and migrations, for SQLite and PostgreSQL alike.

The migrations are the ``migrations`` package beside this module (Alembic, no ini file).
Alembic is imported by ``run_migrations`` only: with Mako and every dialect's DDL it
holds about 10 MB, which a running service need not keep once its database is migrated
(``upgrade`` tells when there is nothing to do, and can migrate in a child process).

The service talks to the database through SQLAlchemy's asyncio engine (psycopg async for
PostgreSQL; for SQLite, pysqlite run inline, see ``sqlite_inline``), so the grpc.aio event
loop never waits on a network round trip; Alembic migrations run
with the matching sync driver. Plain ``sqlite:///`` and ``postgresql://`` URLs are
normalised to those drivers.
"""

from __future__ import annotations

import logging
import time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from drafter.services.accounts.db import sqlite_inline  # noqa: F401 (registers sqlite+inline)

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger("drafter.accounts.db")

SQLITE_BUSY_TIMEOUT_MS = 10_000
# Server connections are renewed this often. The transactional engine pre-pings each
# checkout (a database restart costs it no failed call); the hot path's autocommit engine
# does not, as that would cost a round trip per call: a connection lost anyway fails one
# call (503, ``outage``) and the pool is then invalidated.
POOL_RECYCLE_S = 1800
# Held while migrating so that several processes starting together migrate once.
_PG_MIGRATION_LOCK = 0x64726166746572  # "drafter"

MIGRATIONS = resources.files(__package__).joinpath("migrations")

_ASYNC_DRIVERS = {"sqlite": "sqlite+inline", "postgresql": "postgresql+psycopg"}
_SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}


def _backend(url: URL) -> str:
    name = url.get_backend_name()
    return "postgresql" if name in ("postgres", "postgresql") else name


def async_url(url: str) -> URL:
    """``url`` with the asyncio driver of its backend (inline pysqlite, psycopg)."""
    parsed = make_url(url)
    backend = _backend(parsed)
    if backend in _ASYNC_DRIVERS and parsed.drivername not in ("postgresql+asyncpg",):
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[backend])
    return parsed


def sync_url(url: str) -> URL:
    """``url`` with the sync driver Alembic uses (pysqlite, psycopg)."""
    parsed = make_url(url)
    backend = _backend(parsed)
    return parsed.set(drivername=_SYNC_DRIVERS.get(backend, parsed.drivername))


def _ensure_sqlite_dir(url: URL) -> None:
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def sqlite_pragmas(dbapi_connection: Any, _record: Any = None) -> None:
    """WAL, the busy timeout and foreign keys on a new SQLite connection (an engine's
    ``connect`` event, and the usage log's own connection, ``usage.sqlite_batch``)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(
    url: str, *, autocommit: bool = False, pool_size: int = 10, max_overflow: int = 20
) -> AsyncEngine:
    """An async engine; SQLite connections get WAL and a busy timeout.

    ``autocommit=True`` is for the hot path, where every statement is atomic on its own:
    it saves the BEGIN / COMMIT round trips. Code that needs a transaction uses an engine
    without it.
    """
    parsed = async_url(url)
    _ensure_sqlite_dir(parsed)
    options: dict[str, Any] = {"pool_size": pool_size, "max_overflow": max_overflow}
    if autocommit:
        options["isolation_level"] = "AUTOCOMMIT"
    if parsed.get_backend_name() != "sqlite":
        options["pool_recycle"] = POOL_RECYCLE_S
        options["pool_pre_ping"] = not autocommit
    if autocommit and parsed.get_backend_name() == "postgresql":
        # The hot path's commits do not wait for the WAL flush (PostgreSQL's own
        # group-commit trade-off): a PostgreSQL crash may lose the last few hundred
        # milliseconds of usage and counters, consistently; a clean stop loses nothing.
        options["connect_args"] = {"options": "-c synchronous_commit=off"}
    engine = create_async_engine(parsed, **options)
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine.sync_engine, "connect", sqlite_pragmas)
    return engine


def _alembic_config(connection: sa.Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def run_migrations(url: str) -> str | None:
    """Upgrades the database at ``url`` to the newest revision (sync; call it through
    ``asyncio.to_thread`` from async code). Returns the revision reached."""
    engine = sync_engine(url)
    alembic_log = logging.getLogger("alembic")
    previous_level = alembic_log.level
    alembic_log.setLevel(logging.WARNING)
    try:
        from alembic import command  # here: its import logs each plugin it sets up

        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text(f"SELECT pg_advisory_lock({_PG_MIGRATION_LOCK})"))
                connection.commit()
            command.upgrade(_alembic_config(connection), "head")
            connection.commit()
            revision = connection.execute(
                sa.text("SELECT version_num FROM alembic_version")
            ).scalar()
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text(f"SELECT pg_advisory_unlock({_PG_MIGRATION_LOCK})"))
                connection.commit()
    finally:
        alembic_log.setLevel(previous_level)
        engine.dispose()
    log.debug("database schema at revision %s", revision)
    return revision


def sync_engine(url: str) -> sa.Engine:
    """A sync engine without a pool (what migrations, and the check that none is due,
    run on); SQLite connections get the same pragmas as the service's."""
    parsed = sync_url(url)
    _ensure_sqlite_dir(parsed)
    engine = sa.create_engine(parsed, poolclass=sa.NullPool)
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", sqlite_pragmas)
    return engine


async def ping(engine: AsyncEngine) -> float:
    """Milliseconds for a ``SELECT 1`` round trip (connection from the pool)."""
    async with engine.connect() as conn:
        started = time.perf_counter()
        await conn.execute(sa.text("SELECT 1"))
        return (time.perf_counter() - started) * 1000
