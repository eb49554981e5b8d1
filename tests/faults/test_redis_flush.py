"""Redis is an accelerator that can be lost at any moment: a FLUSHDB in the middle of a
burst of concurrent Authorize calls (a real accounts service on loopback, a real Redis
on its standard port, in a database of this test's own) admits exactly the limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import redis.asyncio as aioredis

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.config import CommonSettings
from drafter.rpc.channels import open_channel
from drafter.rpc.internal_auth import load_internal_auth
from drafter.services.accounts.main import start
from drafter.services.accounts.settings import AccountsSettings
from tests.support.accounts import Account, chat_request, make_account, used_today

pytestmark = pytest.mark.redis

# Not the tests' shared database (11): this test flushes its own.
FLUSHED_REDIS_URL = "redis://127.0.0.1:6379/13"
LIMIT = 20  # the free plan's daily chat quota
BURST = 100


@pytest.fixture
async def flushable_redis() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(FLUSHED_REDIS_URL)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def stub(
    tmp_path: Path, flushable_redis: aioredis.Redis
) -> AsyncIterator[accounts_grpc.AccountsServiceStub]:
    settings = AccountsSettings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'drafter.db'}",
        redis_url=FLUSHED_REDIS_URL,
    )
    running = await start(settings, "127.0.0.1:0")
    channel = open_channel(f"127.0.0.1:{running.port}", load_internal_auth(CommonSettings()))
    try:
        yield accounts_grpc.AccountsServiceStub(channel)
    finally:
        await channel.close()
        await running.stop(0)


async def _authorize(stub: accounts_grpc.AccountsServiceStub, account: Account) -> str | None:
    """The reservation id, or None when the quota refused it."""
    try:
        return (await stub.Authorize(chat_request(account))).reservation_id
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, exc.details()
        return None


async def _burst_with_flush(
    stub: accounts_grpc.AccountsServiceStub,
    account: Account,
    redis: aioredis.Redis,
    *,
    flush_after: int,
) -> list[str]:
    """BURST concurrent Authorize calls; FLUSHDB as soon as ``flush_after`` answered."""
    answered = 0
    flushed = asyncio.Event()

    async def one() -> str | None:
        nonlocal answered
        result = await _authorize(stub, account)
        answered += 1
        if answered == flush_after:
            await redis.flushdb()
            flushed.set()
        return result

    results = await asyncio.gather(*(one() for _ in range(BURST)))
    assert flushed.is_set()
    return [r for r in results if r is not None]


@pytest.mark.parametrize("flush_after", [1, 7, 15])
async def test_flush_during_a_burst_admits_exactly_the_limit(
    stub: accounts_grpc.AccountsServiceStub, flushable_redis: aioredis.Redis, flush_after: int
) -> None:
    account = await make_account(stub)
    admitted = await _burst_with_flush(stub, account, flushable_redis, flush_after=flush_after)
    assert len(admitted) == LIMIT
    assert await used_today(stub, account) == LIMIT


async def test_flush_with_settled_and_open_reservations_admits_exactly_the_limit(
    stub: accounts_grpc.AccountsServiceStub, flushable_redis: aioredis.Redis
) -> None:
    """Some reservations committed, some refunded, some still open when Redis is lost:
    the rebuilt counter counts the committed and the open ones, not the refunded."""
    account = await make_account(stub)
    first = [r for r in await asyncio.gather(*(_authorize(stub, account) for _ in range(12)))]
    assert all(first)
    committed, refunded, still_open = first[:5], first[5:8], first[8:]
    for rid in committed:
        await stub.Settle(
            accounts_pb.SettleRequest(reservation_id=rid, outcome=accounts_pb.OUTCOME_SUCCEEDED)
        )
    for rid in refunded:
        await stub.Settle(
            accounts_pb.SettleRequest(reservation_id=rid, outcome=accounts_pb.OUTCOME_FAILED)
        )
    await flushable_redis.flushdb()
    admitted = await _burst_with_flush(stub, account, flushable_redis, flush_after=3)
    assert len(committed) + len(still_open) + len(admitted) == LIMIT
    assert await used_today(stub, account) == LIMIT
