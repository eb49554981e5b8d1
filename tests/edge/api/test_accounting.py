"""``Accounting.reserved``: one reservation per request, settled however the work ends —
success with what it recorded, a failed call with the outcome of its status (after the
refund is in), a cancellation in the background — and delivered output always counts."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.common.v1 import usage_pb2 as usage_pb
from drafter.edge.api.accounting import Accounting, Settlement
from tests.edge.fakes import FakeAccounts, RpcFailure

CHAT = accounts_pb.USAGE_KIND_CHAT


@pytest.fixture
def accounts() -> FakeAccounts:
    return FakeAccounts()


@pytest.fixture
def accounting(accounts: FakeAccounts) -> Accounting:
    return Accounting(accounts, timeout_s=1)  # type: ignore[arg-type]


async def test_success_settles_what_the_work_recorded(
    accounts: FakeAccounts, accounting: Accounting
) -> None:
    usage = usage_pb.TokenUsage(input_tokens=3, output_tokens=2)
    async with accounting.reserved("dp_key", CHAT, "claude-haiku-4-5", 2) as settlement:
        settlement.units_used, settlement.usage = 2, usage
    assert accounts.settled == []  # a full success waits for the batch window
    await accounting.drain()
    [settled] = accounts.settled
    assert (settled.reservation_id, settled.outcome) == ("rsv_1", accounts_pb.OUTCOME_SUCCEEDED)
    assert (settled.units_used, settled.usage) == (2, usage)


async def test_a_partial_success_is_refunded_before_the_answer(
    accounts: FakeAccounts, accounting: Accounting
) -> None:
    async with accounting.reserved("dp_key", CHAT, "m", 3) as settlement:
        settlement.units_used = 1
    [settled] = accounts.settled
    assert (settled.outcome, settled.units_used) == (accounts_pb.OUTCOME_SUCCEEDED, 1)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, accounts_pb.OUTCOME_REJECTED),
        (grpc.StatusCode.FAILED_PRECONDITION, accounts_pb.OUTCOME_REJECTED),
        (grpc.StatusCode.UNAVAILABLE, accounts_pb.OUTCOME_FAILED),
        (grpc.StatusCode.INTERNAL, accounts_pb.OUTCOME_FAILED),
        (grpc.StatusCode.CANCELLED, accounts_pb.OUTCOME_CANCELLED),
    ],
)
async def test_a_failed_call_is_settled_by_its_status_then_raised(
    accounts: FakeAccounts, accounting: Accounting, code: grpc.StatusCode, outcome: int
) -> None:
    failure = RpcFailure(code)
    with pytest.raises(grpc.RpcError) as raised:
        async with accounting.reserved("dp_key", CHAT, "m"):
            raise failure
    assert raised.value is failure  # the app's handler maps it, unchanged
    if outcome != accounts_pb.OUTCOME_CANCELLED:  # the refund is in before the answer
        assert [s.outcome for s in accounts.settled] == [outcome]
    await accounting.drain()
    assert [s.outcome for s in accounts.settled] == [outcome]


async def test_a_cancelled_request_is_settled_without_waiting(
    accounts: FakeAccounts, accounting: Accounting
) -> None:
    accounts.settle_delay_s = 0.5
    entered = asyncio.Event()

    async def request() -> None:
        async with accounting.reserved("dp_key", CHAT, "m"):
            entered.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(request())
    await entered.wait()
    task.cancel()
    started = asyncio.get_running_loop().time()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert asyncio.get_running_loop().time() - started < 0.25
    await accounting.drain()
    assert [s.outcome for s in accounts.settled] == [accounts_pb.OUTCOME_CANCELLED]


async def test_a_refusal_reserves_nothing_and_settles_nothing(
    accounts: FakeAccounts, accounting: Accounting
) -> None:
    accounts.refusal = RpcFailure(grpc.StatusCode.RESOURCE_EXHAUSTED)
    with pytest.raises(grpc.RpcError):
        async with accounting.reserved("dp_key", CHAT, "m"):
            pytest.fail("the block runs only after Authorize granted the request")
    await accounting.drain()
    assert accounts.settled == []


async def test_delivered_output_counts_even_when_the_work_then_fails(
    accounts: FakeAccounts, accounting: Accounting
) -> None:
    reservation = await accounting.authorize("dp_key", CHAT, "m", 2)
    await accounting.conclude(Settlement(reservation, units_used=1), accounts_pb.OUTCOME_FAILED)
    [settled] = accounts.settled
    assert (settled.outcome, settled.units_used) == (accounts_pb.OUTCOME_SUCCEEDED, 1)
