"""The in-process quota store's parts: the SQLite epoch watch and concurrent rebuilds."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

from drafter.services.accounts.db.engine import run_migrations
from drafter.services.accounts.quota.memory import MemoryQuotaStore, SqliteEpoch

DAY = dt.date(2025, 3, 14)


def _bump(path: Path) -> None:
    """What ``credential_cache.invalidate`` does, from another connection (the admin CLI)."""
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE credentials_epoch SET value = value + 1 WHERE id = 1")


async def test_the_epoch_follows_commits_of_other_connections(tmp_path: Path) -> None:
    path = tmp_path / "drafter.db"
    run_migrations(f"sqlite:///{path}")
    epoch = SqliteEpoch(path)
    try:
        first = await epoch.current()
        assert await epoch.current() == first
        _bump(path)
        assert await epoch.current() == first + 1
        _bump(path)
        _bump(path)
        assert await epoch.current() == first + 3
    finally:
        await epoch.close()


class _Epoch:
    async def current(self) -> int:
        return 7

    async def close(self) -> None:
        return None


async def test_concurrent_first_reservations_rebuild_once_and_stop_at_the_limit() -> None:
    calls = []

    async def counted(user_id: str, kind: str, day: dt.date) -> int:
        calls.append((user_id, kind, day))
        await asyncio.sleep(0.01)  # every first reservation waits here together
        return 15

    store = MemoryQuotaStore(counted, _Epoch())  # type: ignore[arg-type]
    results = await asyncio.gather(
        *(store.reserve(user_id="u", kind="chat", day=DAY, units=1, limit=20) for _ in range(10))
    )
    assert sum(r.admitted for r in results) == 5  # 15 already used: 5 left of 20
    assert {r.epoch for r in results} == {7}
    assert await store.used(user_id="u", kinds=["chat"], day=DAY) == {"chat": 20}
    await store.refund(user_id="u", kind="chat", day=DAY, units=30)
    assert await store.used(user_id="u", kinds=["chat"], day=DAY) == {"chat": 0}


async def test_counters_of_days_before_yesterday_are_forgotten() -> None:
    rebuilt: list[dt.date] = []

    async def counted(user_id: str, kind: str, day: dt.date) -> int:
        rebuilt.append(day)
        return 0

    store = MemoryQuotaStore(counted, _Epoch())  # type: ignore[arg-type]
    days = [DAY + dt.timedelta(days=offset) for offset in range(4)]
    for day in days:
        await store.reserve(user_id="u", kind="chat", day=day, units=1, limit=20)
    assert rebuilt == days
    await store.used(user_id="u", kinds=["chat"], day=days[2])  # yesterday: still counted
    await store.used(user_id="u", kinds=["chat"], day=days[0])  # forgotten: rebuilt
    assert rebuilt == [*days, days[0]]
