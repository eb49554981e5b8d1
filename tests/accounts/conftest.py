"""Fixtures: every database test runs on SQLite (a tmp file) and on PostgreSQL (a
throwaway database), with the SQL quota store and with the Redis one (a dedicated Redis
database, emptied before each test), and the service runs as a real grpc.aio server on
loopback."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis
import sqlalchemy as sa
from grpc import aio
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from services.accounts.db import create_engine, sync_url
from services.accounts.main import start
from services.accounts.settings import AccountsSettings

POSTGRES_ADMIN_URL = os.environ.get(
    "DRAFTER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_TEST_URL = os.environ.get("DRAFTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
DATA_TABLES = ("usage_records", "quota_counters", "api_keys", "users")
# A fixed morning, so quota days and retry-after values are predictable.
START = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)


class FakeClock:
    """An injectable clock that only moves when told to."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass(frozen=True)
class Account:
    email: str
    user_id: str
    key: str
    key_id: str


def _postgres_reachable() -> bool:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


@contextlib.contextmanager
def throwaway_postgres_database() -> Iterator[str]:
    """A new, empty ``drafter_test_<random>`` database, dropped afterwards."""
    if not _postgres_reachable():
        pytest.fail(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: scripts/test.sh starts it")
    name = f"drafter_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = sa.make_url(POSTGRES_ADMIN_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


def _empty_tables(url: str) -> None:
    engine = sa.create_engine(sync_url(url), poolclass=sa.NullPool)
    with engine.begin() as conn:
        if sa.inspect(conn).has_table("users"):
            conn.execute(sa.text(f"TRUNCATE {', '.join(DATA_TABLES)} CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'drafter.db'}"
        return
    url = request.getfixturevalue("postgres_database")
    _empty_tables(url)
    yield url
    _empty_tables(url)


def empty_test_redis() -> None:
    """Empties the tests' own Redis database (never the default one)."""
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.flushdb()
    except redis.RedisError:
        pytest.fail(f"Redis not reachable at {REDIS_TEST_URL}: scripts/test.sh starts it")
    finally:
        client.close()


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
        channel = aio.insecure_channel(f"127.0.0.1:{running.port}")
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


async def make_account(
    stub: accounts_grpc.AccountsServiceStub, plan: str = "free", email: str | None = None
) -> Account:
    email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
    created = await stub.CreateUser(
        accounts_pb.CreateUserRequest(email=email, plan=plan, password="correct horse")
    )
    key = await stub.CreateApiKey(accounts_pb.CreateApiKeyRequest(email=email, name="test"))
    return Account(email=email, user_id=created.user_id, key=key.secret, key_id=key.key_id)


@pytest.fixture
async def account(stub: accounts_grpc.AccountsServiceStub) -> Account:
    """A user on the free plan with one API key."""
    return await make_account(stub)
