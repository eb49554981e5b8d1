"""Daily quotas over real gRPC: limits, concurrency, settle/refund, UTC-day rollover."""

from __future__ import annotations

import asyncio
import datetime as dt

import grpc
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.common.v1 import errors_pb2
from drafter.common.v1 import usage_pb2 as usage_pb
from drafter.rpc.errors import error_from_rpc
from drafter.services.accounts.db.tables import usage_records_t
from drafter.services.accounts.quota.store import seconds_until_reset
from tests.support.accounts import Account
from tests.support.clock import FakeClock

CHAT = accounts_pb.USAGE_KIND_CHAT
Stub = accounts_grpc.AccountsServiceStub


def chat_request(account: Account, units: int = 0) -> accounts_pb.AuthorizeRequest:
    return accounts_pb.AuthorizeRequest(
        credential=account.key, kind=CHAT, model="claude-haiku-4-5", units=units
    )


async def used_today(stub: Stub, account: Account, kind: str = "chat") -> int:
    """Units counted today, as the usage API reports them (from the quota store)."""
    reply = await stub.GetUsage(accounts_pb.GetUsageRequest(credential=account.key))
    return {"chat": reply.today.chat, "imageGen": reply.today.image_gen}[kind]


async def exhaust(stub: Stub, account: Account, limit: int = 20) -> list[str]:
    return [(await stub.Authorize(chat_request(account))).reservation_id for _ in range(limit)]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (dt.datetime(2025, 3, 14, 23, 59, 30, tzinfo=dt.UTC), 30),
        (dt.datetime(2025, 3, 14, 0, 0, 0, tzinfo=dt.UTC), 86_400),
        (dt.datetime(2025, 3, 14, 23, 59, 59, 500_000, tzinfo=dt.UTC), 1),
        (dt.datetime(2025, 3, 14, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))), 3_600),
    ],
)
def test_seconds_until_reset(now: dt.datetime, expected: int) -> None:
    assert seconds_until_reset(now) == expected


async def test_limit_reached_is_resource_exhausted(
    stub: Stub, account: Account, clock: FakeClock
) -> None:
    clock.now = dt.datetime(2025, 3, 14, 23, 0, 0, tzinfo=dt.UTC)
    await exhaust(stub, account)
    with pytest.raises(grpc.RpcError) as caught:
        await stub.Authorize(chat_request(account))
    error = error_from_rpc(caught.value)
    assert error.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.reason == errors_pb2.ERROR_REASON_QUOTA_EXCEEDED
    assert error.message == (
        "Rate limit exceeded. Daily quota: 20/20 used."
        " The daily chat quota resets at 00:00 UTC (in 1 h 0 min)."
    )
    assert error.metadata["retry_after_s"] == "3600"
    assert error.metadata["limit"] == "20" and error.metadata["used"] == "20"


async def test_image_quota_is_separate(stub: Stub, account: Account) -> None:
    image = accounts_pb.AuthorizeRequest(
        credential=account.key, kind=accounts_pb.USAGE_KIND_IMAGE_GEN, units=3
    )
    await stub.Authorize(image)
    with pytest.raises(grpc.RpcError) as caught:
        await stub.Authorize(image)
    assert error_from_rpc(caught.value).metadata["limit"] == "3"
    await stub.Authorize(chat_request(account))


async def test_units_larger_than_left_are_refused_whole(stub: Stub, account: Account) -> None:
    await stub.Authorize(chat_request(account, units=18))
    with pytest.raises(grpc.RpcError):
        await stub.Authorize(chat_request(account, units=3))
    assert await used_today(stub, account) == 18
    await stub.Authorize(chat_request(account, units=2))


async def test_concurrent_reservations_never_pass_the_limit(stub: Stub, account: Account) -> None:
    results = await asyncio.gather(
        *(stub.Authorize(chat_request(account)) for _ in range(100)), return_exceptions=True
    )
    admitted = [r for r in results if isinstance(r, accounts_pb.AuthorizeResponse)]
    refused = [r for r in results if isinstance(r, grpc.RpcError)]
    assert len(admitted) == 20
    assert len(refused) == 80
    assert {error_from_rpc(e).reason for e in refused} == {errors_pb2.ERROR_REASON_QUOTA_EXCEEDED}
    assert await used_today(stub, account) == 20


async def test_failed_request_is_refunded_exactly_once(stub: Stub, account: Account) -> None:
    reservations = await exhaust(stub, account)
    settle = accounts_pb.SettleRequest(
        reservation_id=reservations[0], outcome=accounts_pb.OUTCOME_FAILED
    )
    await stub.Settle(settle)
    await stub.Settle(settle)  # a second settle is a no-op
    await stub.Settle(
        accounts_pb.SettleRequest(
            reservation_id=reservations[0], outcome=accounts_pb.OUTCOME_CANCELLED
        )
    )
    assert await used_today(stub, account) == 19
    await stub.Authorize(chat_request(account))
    with pytest.raises(grpc.RpcError):
        await stub.Authorize(chat_request(account))


async def test_success_commits_and_records_usage(
    stub: Stub, account: Account, engine: AsyncEngine
) -> None:
    reply = await stub.Authorize(chat_request(account, units=3))
    await stub.Settle(
        accounts_pb.SettleRequest(
            reservation_id=reply.reservation_id,
            outcome=accounts_pb.OUTCOME_SUCCEEDED,
            units_used=2,
            usage=usage_pb.TokenUsage(
                input_tokens=11, output_tokens=22, reasoning_tokens=5, cache_read_input_tokens=7
            ),
            latency_ms=321,
        )
    )
    usage = await stub.GetUsage(accounts_pb.GetUsageRequest(credential=account.key))
    assert usage.today.chat == 2  # the unused unit was given back
    assert usage.tokens == 11 + 7 + 22 - 5  # thinking tokens do not count
    assert usage.api_calls == 1
    record_id = reply.reservation_id.partition(".")[0]
    async with engine.connect() as conn:
        row = (
            await conn.execute(sa.select(usage_records_t).where(usage_records_t.c.id == record_id))
        ).one()
    assert (row.status, row.units, row.units_reserved) == ("succeeded", 2, 3)
    assert (row.input_tokens, row.output_tokens, row.reasoning_tokens) == (11, 22, 5)
    assert (row.cache_read_input_tokens, row.latency_ms, row.model) == (7, 321, "claude-haiku-4-5")
    assert row.credential_id == reply.caller.credential_id
    # settling a committed reservation as failed afterwards changes nothing
    await stub.Settle(
        accounts_pb.SettleRequest(
            reservation_id=reply.reservation_id, outcome=accounts_pb.OUTCOME_FAILED
        )
    )
    assert await used_today(stub, account) == 2


async def test_success_without_units_used_keeps_every_unit(stub: Stub, account: Account) -> None:
    reply = await stub.Authorize(chat_request(account, units=2))
    await stub.Settle(
        accounts_pb.SettleRequest(
            reservation_id=reply.reservation_id, outcome=accounts_pb.OUTCOME_SUCCEEDED
        )
    )
    assert await used_today(stub, account) == 2


@pytest.mark.parametrize("reservation_id", ["rsv_doesnotexist", ""])
async def test_unknown_reservation_is_not_found(stub: Stub, reservation_id: str) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        await stub.Settle(
            accounts_pb.SettleRequest(
                reservation_id=reservation_id, outcome=accounts_pb.OUTCOME_FAILED
            )
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_settle_without_outcome_is_invalid(stub: Stub, account: Account) -> None:
    reply = await stub.Authorize(chat_request(account))
    with pytest.raises(grpc.RpcError) as caught:
        await stub.Settle(accounts_pb.SettleRequest(reservation_id=reply.reservation_id))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_quota_resets_at_midnight_utc(stub: Stub, account: Account, clock: FakeClock) -> None:
    clock.now = dt.datetime(2025, 3, 14, 23, 59, 30, tzinfo=dt.UTC)
    reservations = await exhaust(stub, account)
    with pytest.raises(grpc.RpcError) as caught:
        await stub.Authorize(chat_request(account))
    assert error_from_rpc(caught.value).metadata["retry_after_s"] == "30"
    clock.advance(seconds=31)
    await stub.Authorize(chat_request(account))
    # a refund after midnight goes back to the day the reservation was made
    await stub.Settle(
        accounts_pb.SettleRequest(
            reservation_id=reservations[0], outcome=accounts_pb.OUTCOME_FAILED
        )
    )
    assert await used_today(stub, account) == 1
    clock.advance(days=-1)
    assert await used_today(stub, account) == 19


async def test_api_calls_are_recorded_but_never_limited(stub: Stub, account: Account) -> None:
    request = accounts_pb.AuthorizeRequest(
        credential=account.key, kind=accounts_pb.USAGE_KIND_API_CALL
    )
    for _ in range(25):
        reply = await stub.Authorize(request)
        await stub.Settle(
            accounts_pb.SettleRequest(
                reservation_id=reply.reservation_id, outcome=accounts_pb.OUTCOME_SUCCEEDED
            )
        )
    usage = await stub.GetUsage(accounts_pb.GetUsageRequest(credential=account.key))
    assert usage.api_calls == 25
    assert usage.today.chat == 0
