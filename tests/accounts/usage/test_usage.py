"""The usage API and history, key lifecycle, and usage that survives a Redis flush and
a restart, over real gRPC."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.common.v1 import errors_pb2
from drafter.common.v1 import usage_pb2 as usage_pb
from drafter.rpc.channels import open_channel
from drafter.rpc.errors import error_from_rpc
from drafter.services.accounts.db.engine import create_engine
from drafter.services.accounts.db.tables import usage_records_t
from drafter.services.accounts.main import start
from drafter.services.accounts.settings import AccountsSettings
from tests.support.accounts import Account, make_account
from tests.support.clock import FakeClock

Stub = accounts_grpc.AccountsServiceStub
CHAT = accounts_pb.USAGE_KIND_CHAT


async def spend(stub: Stub, account: Account, n: int, outcome: int, **usage: int) -> None:
    for _ in range(n):
        reply = await stub.Authorize(
            accounts_pb.AuthorizeRequest(credential=account.key, kind=CHAT, model="claude-haiku")
        )
        await stub.Settle(
            accounts_pb.SettleRequest(
                reservation_id=reply.reservation_id,
                outcome=outcome,
                usage=usage_pb.TokenUsage(**usage),
            )
        )


async def usage_of(stub: Stub, account: Account) -> accounts_pb.GetUsageResponse:
    return await stub.GetUsage(accounts_pb.GetUsageRequest(credential=account.key))


async def test_usage_report(stub: Stub, account: Account, clock: FakeClock) -> None:
    await spend(stub, account, 3, accounts_pb.OUTCOME_SUCCEEDED, input_tokens=10, output_tokens=5)
    await spend(stub, account, 1, accounts_pb.OUTCOME_FAILED, input_tokens=99)
    image = accounts_pb.AuthorizeRequest(
        credential=account.key, kind=accounts_pb.USAGE_KIND_IMAGE_GEN, units=2
    )
    await stub.Authorize(image)  # reserved, not settled yet: counts against the quota
    first = await usage_of(stub, account)
    assert first.plan == "free"
    assert (first.today.chat, first.today.image_gen, first.today.image_edit) == (3, 2, 0)
    assert (first.limits.chat, first.limits.image_gen, first.limits.image_edit) == (20, 3, 5)
    assert (first.remaining.chat, first.remaining.image_gen) == (17, 1)
    assert first.tokens == 3 * 15 + 99
    assert first.api_calls == 4
    second = await usage_of(stub, account)
    assert second.api_calls == 5  # the first usage call counted
    assert second.reset_in_s == 86_400 - (9 * 3600 + 30 * 60)


async def test_usage_history(stub: Stub, account: Account, clock: FakeClock) -> None:
    await spend(stub, account, 2, accounts_pb.OUTCOME_SUCCEEDED, input_tokens=3, output_tokens=4)
    clock.advance(days=1)
    await spend(
        stub,
        account,
        1,
        accounts_pb.OUTCOME_SUCCEEDED,
        input_tokens=1,
        output_tokens=10,
        reasoning_tokens=6,
    )
    reply = await stub.GetUsageHistory(accounts_pb.GetUsageHistoryRequest(user_id=account.user_id))
    rows = [(d.day, d.kind, d.requests, d.input_tokens, d.output_tokens) for d in reply.days]
    assert rows == [("2025-03-14", CHAT, 2, 6, 8), ("2025-03-15", CHAT, 1, 1, 4)]
    clock.advance(days=30)
    reply = await stub.GetUsageHistory(accounts_pb.GetUsageHistoryRequest(user_id=account.user_id))
    assert [d.day for d in reply.days] == []


async def test_key_lifecycle(stub: Stub) -> None:
    account = await make_account(stub, plan="pro")
    user = account.user_id
    for name in ("two", "three", "four", "five"):
        await stub.CreateApiKey(accounts_pb.CreateApiKeyRequest(user_id=user, name=name))
    with pytest.raises(grpc.RpcError) as caught:
        await stub.CreateApiKey(accounts_pb.CreateApiKeyRequest(user_id=user, name="six"))
    assert error_from_rpc(caught.value).reason == errors_pb2.ERROR_REASON_PLAN_LIMIT
    listed = await stub.ListApiKeys(accounts_pb.ListApiKeysRequest(user_id=user))
    assert sorted(k.name for k in listed.keys) == ["five", "four", "test", "three", "two"]
    first = next(k for k in listed.keys if k.name == "test")
    assert first.prefix.startswith("dp_") and len(first.prefix) == 7
    assert account.key.startswith(first.prefix) and account.key not in str(listed)
    await stub.RenameApiKey(
        accounts_pb.RenameApiKeyRequest(user_id=user, key_id=first.key_id, name="renamed")
    )
    await spend(stub, account, 1, accounts_pb.OUTCOME_SUCCEEDED)
    await stub.RevokeApiKey(accounts_pb.RevokeApiKeyRequest(user_id=user, key_id=first.key_id))
    with pytest.raises(grpc.RpcError) as caught:
        await spend(stub, account, 1, accounts_pb.OUTCOME_SUCCEEDED)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    listed = await stub.ListApiKeys(accounts_pb.ListApiKeysRequest(user_id=user))
    assert "renamed" not in [k.name for k in listed.keys] and len(listed.keys) == 4
    other = await make_account(stub)
    with pytest.raises(grpc.RpcError) as caught:  # not someone else's key
        await stub.RevokeApiKey(
            accounts_pb.RevokeApiKeyRequest(user_id=other.user_id, key_id=listed.keys[0].key_id),
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("quota_store", ["redis"], indirect=True)  # the Redis store only
async def test_redis_flush_gives_no_extra_quota(
    stub: Stub, account: Account, redis_url: str | None
) -> None:
    assert redis_url is not None
    await spend(stub, account, 12, accounts_pb.OUTCOME_SUCCEEDED)
    await spend(stub, account, 3, accounts_pb.OUTCOME_FAILED)
    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()
    assert (await usage_of(stub, account)).today.chat == 12
    await spend(stub, account, 8, accounts_pb.OUTCOME_SUCCEEDED)
    with pytest.raises(grpc.RpcError) as caught:
        await spend(stub, account, 1, accounts_pb.OUTCOME_SUCCEEDED)
    message = error_from_rpc(caught.value).message
    assert message.startswith("Rate limit exceeded. Daily quota: 20/20 used. The daily chat quota")


async def test_usage_and_quota_survive_a_restart(
    settings: AccountsSettings, clock: FakeClock, quota_store: str
) -> None:
    in_process = quota_store == "memory"
    running = await start(settings, "127.0.0.1:0", clock=clock, in_process_quotas=in_process)
    channel = open_channel(f"127.0.0.1:{running.port}", running.auth)
    account = await make_account(Stub(channel))
    await spend(Stub(channel), account, 5, accounts_pb.OUTCOME_SUCCEEDED, output_tokens=7)
    await channel.close()
    await running.stop(0)
    engine: AsyncEngine = create_engine(settings.database_url)
    async with engine.connect() as conn:
        stmt = sa.select(sa.func.count(), sa.func.sum(usage_records_t.c.output_tokens)).where(
            usage_records_t.c.user_id == account.user_id
        )
        assert tuple((await conn.execute(stmt)).one()) == (5, 35)
    await engine.dispose()
    running = await start(settings, "127.0.0.1:0", clock=clock, in_process_quotas=in_process)
    channel = open_channel(f"127.0.0.1:{running.port}", running.auth)
    try:
        usage = await usage_of(Stub(channel), account)
        assert (usage.today.chat, usage.api_calls, usage.tokens) == (5, 5, 35)
        await spend(Stub(channel), account, 15, accounts_pb.OUTCOME_SUCCEEDED)  # 20 of 20
        with pytest.raises(grpc.RpcError) as caught:
            await spend(Stub(channel), account, 1, accounts_pb.OUTCOME_SUCCEEDED)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        await channel.close()
        await running.stop(0)


def test_clock_is_a_morning() -> None:
    assert FakeClock().now.time() == dt.time(9, 30)
