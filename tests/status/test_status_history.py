"""Aggregation of the recorded probes into 24 hourly and 90 daily buckets, on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.db.engine import create_engine, run_migrations
from drafter.services.accounts.db.tables import status_probe_hours_t
from drafter.services.accounts.status import history as status_history
from drafter.services.accounts.status.history import Check
from tests.support.clock import START
from tests.support.databases import throwaway_postgres_database


@pytest.fixture(scope="module")
def status_postgres_database() -> Iterator[str]:
    with throwaway_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'status.db'}"
    else:
        url = request.getfixturevalue("status_postgres_database")
    await asyncio.to_thread(run_migrations, url)
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(status_probe_hours_t.delete())
    try:
        yield engine
    finally:
        await engine.dispose()


async def _round(engine: AsyncEngine, at: dt.datetime, chat_up: bool) -> None:
    checks = [Check("accounts", True, 1.0), Check("chat", chat_up, 10.0 if chat_up else 2000.0)]
    await status_history.record(engine, checks, at)


async def test_last_24_hours_per_hour(engine: AsyncEngine) -> None:
    await _round(engine, START, True)
    await _round(engine, START + dt.timedelta(minutes=5), False)
    await _round(engine, START - dt.timedelta(hours=3), True)
    await _round(engine, START - dt.timedelta(hours=30), False)  # outside the 24 hours
    found = await status_history.history(engine, START, daily=False)
    chat = found.components["chat"]
    assert len(found.starts) == 24 and found.starts[-1] == START.replace(minute=0)
    assert [b.probes for b in chat].count(0) == 22
    assert (chat[-1].probes, chat[-1].successes) == (2, 1)
    assert chat[-1].mean_latency_ms == pytest.approx(1005.0)
    assert (chat[-4].probes, chat[-4].successes) == (1, 1)
    assert status_history.uptime_percent(chat) == pytest.approx(66.67)
    assert status_history.uptime_percent(found.components["accounts"]) == 100.0


async def test_last_90_days_per_day(engine: AsyncEngine) -> None:
    await _round(engine, START, True)
    await _round(engine, START - dt.timedelta(hours=3), False)  # same UTC day
    await _round(engine, START - dt.timedelta(days=10), False)
    await _round(engine, START - dt.timedelta(days=89), True)
    await _round(engine, START - dt.timedelta(days=95), False)  # outside the 90 days
    found = await status_history.history(engine, START, daily=True)
    chat = found.components["chat"]
    assert len(chat) == 90
    assert chat[-1].start == dt.datetime(2025, 3, 14, tzinfo=dt.UTC)
    assert (chat[-1].probes, chat[-1].successes) == (2, 1)
    assert (chat[-11].probes, chat[-11].successes) == (1, 0)
    assert (chat[0].probes, chat[0].successes) == (1, 1)
    assert sum(b.probes for b in chat) == 4
    assert status_history.uptime_percent(chat) == 50.0


async def test_rows_older_than_the_retention_are_dropped(engine: AsyncEngine) -> None:
    await _round(engine, START - dt.timedelta(days=120), True)
    await _round(engine, START, True)
    async with engine.connect() as conn:
        rows = (await conn.execute(status_probe_hours_t.select())).all()
    assert {row.component for row in rows} == {"accounts", "chat"} and len(rows) == 2


async def test_no_probes_means_no_components_and_full_uptime(engine: AsyncEngine) -> None:
    found = await status_history.history(engine, START, daily=False)
    assert found.components == {} and status_history.uptime_percent([]) == 100.0
