"""Retention (``DRAFTER_RESPONSES_RETENTION_DAYS``, SQLite and PostgreSQL): a response is
answered until its time is over, then NOT_FOUND at once, and the sweep deletes its row
while the rows still in time stay; the setting defaults to OpenAI's 30 days."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa

from drafter.services.accounts.db.engine import create_engine
from drafter.services.accounts.db.tables import stored_responses_t
from drafter.services.accounts.main import start
from drafter.services.accounts.responses.retention import RetentionSweep
from drafter.services.accounts.settings import AccountsSettings
from tests.accounts.responses.conftest import Service
from tests.accounts.responses.support import get_request, store_request
from tests.support.accounts import Account
from tests.support.clock import FakeClock


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> AccountsSettings:
    return AccountsSettings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        DRAFTER_RESPONSES_RETENTION_DAYS="2",
    )


def test_retention_defaults_to_thirty_days(tmp_path: Path) -> None:
    assert AccountsSettings(data_dir=tmp_path).responses_retention_days == 30


async def _stored_ids(settings: AccountsSettings) -> list[str]:
    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            stmt = sa.select(stored_responses_t.c.id).order_by(stored_responses_t.c.id)
            return list((await conn.execute(stmt)).scalars())
    finally:
        await engine.dispose()


async def test_an_expired_response_is_gone_and_swept(
    service: Service, alice: Account, settings: AccountsSettings, clock: FakeClock
) -> None:
    stored = await service.responses.StoreResponse(store_request(alice, "resp_old"))
    assert stored.expires_at.ToDatetime(dt.UTC) == clock() + dt.timedelta(days=2)
    clock.advance(days=1)
    await service.responses.StoreResponse(store_request(alice, "resp_new"))
    clock.advance(days=1, seconds=-1)
    assert (await service.responses.GetResponse(get_request(alice, "resp_old"))).response_json

    clock.advance(seconds=1)  # resp_old's two days are over

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.responses.GetResponse(get_request(alice, "resp_old"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert await _stored_ids(settings) == ["resp_new", "resp_old"]  # not swept yet

    engine = create_engine(settings.database_url)
    try:
        assert await RetentionSweep(engine, clock=clock).sweep_once() == 1
    finally:
        await engine.dispose()
    assert await _stored_ids(settings) == ["resp_new"]
    assert (await service.responses.GetResponse(get_request(alice, "resp_new"))).response_json


async def test_the_service_sweeps_at_start(
    service: Service, alice: Account, settings: AccountsSettings, clock: FakeClock
) -> None:
    """The sweep runs with the service: one started after the retention is over deletes
    the row without being called."""
    await service.responses.StoreResponse(store_request(alice, "resp_old"))
    clock.advance(days=3)
    running = await start(settings, "127.0.0.1:0", clock=clock)
    try:
        for _ in range(200):
            if not await _stored_ids(settings):
                break
            await asyncio.sleep(0.05)
        assert await _stored_ids(settings) == []
    finally:
        await running.stop(0)
