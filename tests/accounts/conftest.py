"""Fixtures: every database test runs on SQLite (a tmp file) and on PostgreSQL (a
throwaway database), with the SQL quota store and with the Redis one (a dedicated Redis
database, emptied before each test), and the service runs as a real grpc.aio server on
loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from grpc import aio
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.rpc.channels import open_channel
from drafter.services.accounts.db.engine import create_engine
from drafter.services.accounts.main import start
from drafter.services.accounts.settings import AccountsSettings
from tests.support.accounts import Account, make_account
from tests.support.clock import FakeClock
from tests.support.databases import (
    REDIS_TEST_URL,
    empty_tables,
    empty_test_redis,
    throwaway_postgres_database,
)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """One throwaway database for the session; tests empty its tables before and after."""
    with throwaway_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nothing has touched yet (not even migrations)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh' / 'drafter.db'}"
        return
    with throwaway_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'drafter.db'}"
        return
    url = request.getfixturevalue("postgres_database")
    empty_tables(url)
    yield url
    empty_tables(url)


@pytest.fixture(params=["sql", "memory", pytest.param("redis", marks=pytest.mark.redis)])
def quota_store(request: pytest.FixtureRequest) -> str:
    """The quota store under test: SQL (``drafter serve``), in memory (``drafter up``)
    or Redis (``REDIS_URL``)."""
    return str(request.param)


@pytest.fixture
def redis_url(quota_store: str) -> Iterator[str | None]:
    """The tests' Redis database when the Redis store is under test, else None."""
    if quota_store != "redis":
        yield None
        return
    empty_test_redis()
    yield REDIS_TEST_URL
    empty_test_redis()


@pytest.fixture
def settings(database_url: str, redis_url: str | None, tmp_path: Path) -> AccountsSettings:
    return AccountsSettings(
        data_dir=tmp_path / "data", database_url=database_url, redis_url=redis_url
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def stub(
    settings: AccountsSettings, clock: FakeClock, quota_store: str
) -> AsyncIterator[accounts_grpc.AccountsServiceStub]:
    """A real stub on a real AccountsService listening on 127.0.0.1:<free port>; with the
    memory quota store, calling it in process, as ``drafter up`` (which keeps its quotas
    in memory) does."""
    in_process = quota_store == "memory"
    running = await start(settings, "127.0.0.1:0", clock=clock, in_process_quotas=in_process)
    channel: aio.Channel
    if in_process:
        channel = running.local.channel()
    else:
        channel = open_channel(f"127.0.0.1:{running.port}", running.auth)
    try:
        yield accounts_grpc.AccountsServiceStub(channel)
    finally:
        await channel.close()
        await running.stop(0)


@pytest.fixture
async def engine(database_url: str, stub: object) -> AsyncIterator[AsyncEngine]:
    """A second engine on the service's database (migrated by ``stub``), for checks."""
    engine = create_engine(database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def account(stub: accounts_grpc.AccountsServiceStub) -> Account:
    """A user on the free plan with one API key."""
    return await make_account(stub)
