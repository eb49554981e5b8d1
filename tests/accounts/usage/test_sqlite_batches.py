"""The usage log's batches on a SQLite file (``usage.sqlite_batch``): stored as SQLAlchemy
stores them, one transaction each, retried after a failure, touches included, and the WAL
checkpointed off the event loop. Real SQLite files throughout."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.reservations import Reservation, new_record_id
from drafter.services.accounts.db.engine import create_engine, run_migrations
from drafter.services.accounts.db.outage import connection_failure
from drafter.services.accounts.db.tables import (
    api_keys_t,
    oauth_apps_t,
    oauth_tokens_t,
    usage_records_t,
    users_t,
)
from drafter.services.accounts.quota.store import Row
from drafter.services.accounts.usage.log import TokenCounts, UsageLog, journal_row, usage_row
from drafter.services.accounts.usage.sqlite_batch import CHECKPOINT_ROWS, SqliteBatches
from drafter.services.accounts.vocab import Outcome

NOW = dt.datetime(2025, 3, 14, 9, 30, 0, 123456, tzinfo=dt.UTC)
USER = "usr_batches"


@dataclass
class Database:
    path: Path
    url: str
    engine: AsyncEngine


async def _add_user(engine: AsyncEngine, user_id: str = USER) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(users_t).values(
                id=user_id,
                email=f"{user_id}@example.com",
                password_hash="x",
                plan="free",
                created_at=NOW,
            )
        )


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite file with one user, and the hot path's engine on it."""
    path = tmp_path / "db" / "drafter.db"
    url = f"sqlite:///{path}"
    run_migrations(url)
    engine = create_engine(url, autocommit=True)
    await _add_user(engine)
    yield Database(path, url, engine)
    await engine.dispose()


def _reservation(user_id: str = USER, credential_id: str = "key_1") -> Reservation:
    return Reservation(
        new_record_id(), user_id, credential_id, "chat", "claude-haiku-4-5", 2, NOW.date(), NOW
    )


def _settled(res: Reservation, outcome: str = Outcome.SUCCEEDED, units: int = 2) -> Row:
    tokens = TokenCounts(input_tokens=11, output_tokens=7, reasoning_tokens=3)
    return usage_row(res, outcome, units, tokens, 42, NOW + dt.timedelta(seconds=3))


def _raw_rows(path: Path) -> list[tuple[object, ...]]:
    """Every usage record as SQLite holds it (text timestamps and all), id first."""
    with sqlite3.connect(path) as db:
        return db.execute("SELECT * FROM usage_records ORDER BY id").fetchall()


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        stmt = sa.select(sa.func.count()).select_from(usage_records_t)
        return int((await conn.execute(stmt)).scalar_one())


async def test_a_batch_stores_rows_as_sqlalchemy_does(database: Database) -> None:
    usage = UsageLog(database.engine)
    by_sqlalchemy, by_batch = _reservation(), _reservation()
    async with database.engine.begin() as conn:  # SQLAlchemy's own statement
        assert await usage.write_once(conn, journal_row(by_sqlalchemy, NOW))
    usage.enqueue(journal_row(by_batch, NOW))
    await usage.flush()
    journals = _raw_rows(database.path)
    assert len(journals) == 2
    assert journals[0][1:] == journals[1][1:]  # all but the id, byte for byte
    async with database.engine.begin() as conn:
        assert await usage.write_once(conn, _settled(by_sqlalchemy))
    usage.enqueue(_settled(by_batch))
    await usage.stop()
    settled = _raw_rows(database.path)
    assert settled[0][1:] == settled[1][1:]
    assert settled[0][1:] != journals[0][1:]
    stored = await usage.stored(by_batch.record_id)
    assert stored == {"status": "succeeded", "units": 2, "units_reserved": 2}


async def test_a_settled_row_is_never_changed_again(database: Database) -> None:
    usage = UsageLog(database.engine)
    res = _reservation()
    usage.enqueue(journal_row(res, NOW))
    await usage.flush()
    assert await usage.stored(res.record_id) == {
        "status": "reserved",
        "units": 2,
        "units_reserved": 2,
    }
    usage.enqueue(_settled(res, Outcome.FAILED, units=0))
    await usage.flush()
    usage.enqueue(_settled(res, Outcome.SUCCEEDED))  # a second settlement: no effect
    usage.enqueue(journal_row(res, NOW) | {"id": res.record_id})
    await usage.flush()
    async with database.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(usage_records_t).where(usage_records_t.c.id == res.record_id)
            )
        ).one()
    assert (row.status, row.units, row.input_tokens, row.latency_ms) == ("failed", 0, 11, 42)
    assert (row.created_at, row.settled_at) == (NOW, NOW + dt.timedelta(seconds=3))
    assert row.quota_day == NOW.date()
    await usage.stop()


async def test_a_failed_batch_writes_nothing_and_is_written_with_the_next(
    database: Database,
) -> None:
    usage = UsageLog(database.engine)
    known = [_reservation() for _ in range(3)]
    stranger = _reservation(user_id="usr_not_yet")
    for res in known:
        usage.enqueue(journal_row(res, NOW))
    usage.enqueue(_settled(stranger))
    with pytest.raises(sa.exc.IntegrityError) as caught:  # the unknown user's foreign key
        await usage.flush()
    assert connection_failure(caught.value) is None  # a bug's error, not an outage
    assert await _count(database.engine) == 0  # one transaction: none of the batch
    await _add_user(database.engine, "usr_not_yet")
    await usage.flush()  # the rows waited
    await usage.written()
    assert await _count(database.engine) == 4
    await usage.stop()


async def test_an_unreachable_database_is_an_outage_and_the_rows_wait(
    database: Database,
) -> None:
    usage = UsageLog(database.engine)
    res = _reservation()
    usage.enqueue(journal_row(res, NOW))
    shutil.rmtree(database.path.parent)  # before the batches' connection is opened
    with pytest.raises(sa.exc.OperationalError) as caught:
        await usage.flush()
    assert connection_failure(caught.value) is not None
    await database.engine.dispose()
    run_migrations(database.url)
    await _add_user(database.engine)
    await usage.flush()
    assert await usage.stored(res.record_id) is not None
    await usage.stop()


async def test_touches_are_written_with_the_batch(database: Database) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(
            sa.insert(api_keys_t).values(
                id="key_1", user_id=USER, name="k", prefix="dp_x", key_hash="h", created_at=NOW
            )
        )
        await conn.execute(
            sa.insert(oauth_apps_t).values(
                id="app_1",
                user_id=USER,
                client_id="c",
                secret_hash="s",
                name="App",
                redirect_uris="[]",
                created_at=NOW,
            )
        )
        await conn.execute(
            sa.insert(oauth_tokens_t).values(
                id="ct_1",
                token_hash="t",
                app_id="app_1",
                user_id=USER,
                scope="chat",
                created_at=NOW,
            )
        )
    usage = UsageLog(database.engine)
    later = NOW + dt.timedelta(minutes=5)
    usage.touch("key_1", later)
    usage.touch("ct_1", later + dt.timedelta(seconds=1))
    usage.enqueue(journal_row(_reservation(), NOW))
    await usage.flush()
    async with database.engine.connect() as conn:
        key = (await conn.execute(sa.select(api_keys_t.c.last_used_at))).scalar_one()
        token = (await conn.execute(sa.select(oauth_tokens_t.c.last_used_at))).scalar_one()
    assert (key, token) == (later, later + dt.timedelta(seconds=1))
    await usage.stop()


async def test_big_batches_are_written_whole(database: Database) -> None:
    usage = UsageLog(database.engine)
    first = [_reservation() for _ in range(300)]
    for res in first:
        usage.enqueue(journal_row(res, NOW))
    await usage.flush()
    for res in first[:150]:  # settled now, alongside new journal rows
        usage.enqueue(_settled(res))
    for _ in range(200):
        usage.enqueue(journal_row(_reservation(), NOW))
    await usage.stop()
    async with database.engine.connect() as conn:
        stmt = sa.select(usage_records_t.c.status, sa.func.count()).group_by(
            usage_records_t.c.status
        )
        counts = {status: n for status, n in (await conn.execute(stmt)).all()}
    assert counts == {"reserved": 350, "succeeded": 150}


def _frames_after_a_write(observer: sqlite3.Connection) -> int:
    """Pages in the WAL after the observer writes one row: few when that write found the
    whole WAL copied into the database and started it over."""
    observer.execute("UPDATE users SET blocked = 1 - blocked WHERE id = ?", (USER,))
    return int(observer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])


async def test_the_wal_is_checkpointed_on_its_own_thread_after_enough_rows(
    database: Database,
) -> None:
    await database.engine.dispose()
    observer = sqlite3.connect(database.path, isolation_level=None)  # keeps the WAL open
    dialect = database.engine.dialect
    try:
        observer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        batches = SqliteBatches(str(database.path), dialect)
        batches.write([journal_row(_reservation(), NOW) for _ in range(100)], {})  # not due
        batches.close(wait=True)
        assert _frames_after_a_write(observer) > 10  # the batch's pages still in the WAL

        observer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        batches = SqliteBatches(str(database.path), dialect)
        rows = [journal_row(_reservation(), NOW) for _ in range(CHECKPOINT_ROWS)]
        batches.write(rows, {})  # enough rows: a checkpoint starts on its thread
        batches.close(wait=True)  # and has ended
        assert _frames_after_a_write(observer) <= 3
    finally:
        observer.close()
