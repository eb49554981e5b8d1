"""UTCDateTime: every timestamp comes back aware in UTC, on SQLite and PostgreSQL, and
compares as the instant it is, whatever offset (or none) it was written with."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.db.engine import create_engine
from drafter.services.accounts.db.types import UTCDateTime

NOON = dt.datetime(2025, 3, 14, 12, 0, tzinfo=dt.UTC)
PLUS_TWO = dt.timezone(dt.timedelta(hours=2))

events = sa.Table(
    "utc_datetime_check",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime(), nullable=True),
)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(events.metadata.drop_all)
        await conn.run_sync(events.metadata.create_all)
    try:
        yield engine
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(events.metadata.drop_all)
        await engine.dispose()


async def test_values_come_back_aware_in_utc(engine: AsyncEngine) -> None:
    written = {
        1: NOON,
        2: NOON.replace(tzinfo=None),  # naive: taken as UTC
        3: NOON.astimezone(PLUS_TWO),  # 14:00+02:00, the same instant
        4: None,
    }
    async with engine.begin() as conn:
        await conn.execute(sa.insert(events), [{"id": k, "at": v} for k, v in written.items()])
        rows = dict((await conn.execute(sa.select(events.c.id, events.c.at))).all())
    assert rows == {1: NOON, 2: NOON, 3: NOON, 4: None}
    assert all(value.tzinfo == dt.UTC for value in rows.values() if value is not None)


async def test_comparisons_use_the_instant(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.insert(events), [{"id": 1, "at": NOON}])
        just_before = (NOON - dt.timedelta(minutes=1)).astimezone(PLUS_TWO)
        later = sa.select(events.c.id).where(events.c.at > just_before)
        assert (await conn.execute(later)).scalars().all() == [1]
        after = sa.select(events.c.id).where(events.c.at > NOON.astimezone(PLUS_TWO))
        assert (await conn.execute(after)).scalars().all() == []
