"""Settling in batches: SettleMany on the service, and the edge's Accounting that
gathers settlements into it, retries it across an accounts restart and drains it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from grpc import aio

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.edge.api import accounting as accounting_module
from drafter.edge.api.accounting import Accounting, Reservation
from drafter.rpc.channels import open_channel
from drafter.services.accounts.main import start
from drafter.services.accounts.settings import AccountsSettings
from tests.support.accounts import Account, chat_request, exhaust, make_account, used_today
from tests.support.clock import FakeClock
from tests.support.stack import free_port

Stub = accounts_grpc.AccountsServiceStub


def settlement(reservation_id: str, outcome: int) -> accounts_pb.SettleRequest:
    return accounts_pb.SettleRequest(reservation_id=reservation_id, outcome=outcome)


async def test_each_settlement_is_applied_and_the_bad_ones_are_reported(
    stub: Stub, account: Account
) -> None:
    reserved = await exhaust(stub, account)
    batch = accounts_pb.SettleManyRequest(
        settlements=[
            settlement(reserved[0], accounts_pb.OUTCOME_FAILED),
            settlement("rsv_doesnotexist", accounts_pb.OUTCOME_FAILED),
            settlement(reserved[1], accounts_pb.OUTCOME_UNSPECIFIED),
            settlement(reserved[2], accounts_pb.OUTCOME_CANCELLED),
            settlement(reserved[3], accounts_pb.OUTCOME_SUCCEEDED),
        ]
    )
    response = await stub.SettleMany(batch)
    assert [f.index for f in response.failures] == [1, 2]
    assert "reservation" in response.failures[0].message.lower()
    assert await used_today(stub, account) == 18  # two refunds

    again = await stub.SettleMany(batch)  # the same batch again refunds nothing more
    assert [f.index for f in again.failures] == [1, 2]
    assert await used_today(stub, account) == 18


class _CountCalls(aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Counts the calls of each method on a real channel."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    async def intercept_unary_unary(
        self,
        continuation: Callable[[Any, Any], Awaitable[Any]],
        client_call_details: aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        method = client_call_details.method
        name = method.decode() if isinstance(method, bytes) else method
        name = name.rsplit("/", 1)[-1]
        self.calls[name] = self.calls.get(name, 0) + 1
        return await continuation(client_call_details, request)


def _reservation(reservation_id: str) -> Reservation:
    return Reservation(reservation_id, accounts_pb.Caller(), "claude-haiku-4-5", 0.0)


async def test_the_edge_settles_a_burst_in_one_call_and_refunds_at_once(
    settings: AccountsSettings, clock: FakeClock, quota_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounting_module, "SETTLE_WINDOW_S", 30.0)  # only drain sends
    counter = _CountCalls()
    addr = f"127.0.0.1:{free_port()}"
    running = await start(settings, addr, clock=clock, in_process_quotas=quota_store == "memory")
    try:
        async with aio.insecure_channel(
            addr, interceptors=[*running.auth.client_interceptors(), counter]
        ) as channel:
            stub = Stub(channel)
            account = await make_account(stub)
            authorized = [await stub.Authorize(chat_request(account)) for _ in range(8)]
            counter.calls.clear()
            accounting = Accounting(stub, timeout_s=5)
            for reply in authorized[:6]:
                succeeded = accounts_pb.OUTCOME_SUCCEEDED
                accounting.settle_soon(_reservation(reply.reservation_id), succeeded)
            await asyncio.sleep(0.2)
            assert counter.calls == {}  # successes wait for the window
            for reply in authorized[6:]:
                failed = accounts_pb.OUTCOME_FAILED
                accounting.settle_soon(_reservation(reply.reservation_id), failed)
            for _ in range(100):  # a refund goes out at once, without waiting for drain
                if await used_today(stub, account) == 6:
                    break
                await asyncio.sleep(0.02)
            assert await used_today(stub, account) == 6
            await accounting.drain()
            assert counter.calls == {"SettleMany": 2, "GetUsage": counter.calls["GetUsage"]}
    finally:
        await running.stop(0)


# The in-memory store forgets reservations in flight at a restart (see quota_memory).
@pytest.mark.parametrize("quota_store", ["sql", "redis"], indirect=True)
async def test_a_batch_waits_out_an_accounts_restart(
    settings: AccountsSettings, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounting_module, "SETTLE_RETRY_DELAYS_S", (0.2, 0.5, 1.0, 2.0))
    addr = f"127.0.0.1:{free_port()}"
    running = await start(settings, addr, clock=clock)
    async with open_channel(addr, running.auth) as channel:
        stub = Stub(channel)
        account = await make_account(stub)
        first, second = [(await stub.Authorize(chat_request(account))).reservation_id for _ in "ab"]
        await running.stop(0)

        accounting = Accounting(stub, timeout_s=1)
        accounting.settle_soon(_reservation(first), accounts_pb.OUTCOME_FAILED)
        await asyncio.sleep(0.3)  # the first attempt found nobody listening
        running = await start(settings, addr, clock=clock)
        try:
            await accounting.drain()
            assert await used_today(stub, account) == 1  # refunded after all
            await stub.Settle(settlement(first, accounts_pb.OUTCOME_FAILED))
            assert await used_today(stub, account) == 1  # and only once
            await stub.Settle(settlement(second, accounts_pb.OUTCOME_FAILED))
            assert await used_today(stub, account) == 0
        finally:
            await running.stop(0)
