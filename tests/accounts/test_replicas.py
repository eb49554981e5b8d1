"""Two accounts processes (``drafter serve accounts``) on one PostgreSQL, with and
without Redis: quotas hold across them, and a change made through one reaches the other's
credential cache before its next request."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc import aio

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.common.v1 import errors_pb2
from drafter.rpc.channels import open_channel
from drafter.rpc.errors import error_from_rpc, reason_name
from drafter.rpc.internal_auth import InternalAuth
from tests.support.accounts import make_account
from tests.support.databases import empty_tables
from tests.support.stack import base_env, drafter_command, free_port, spawn

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
Stub = accounts_grpc.AccountsServiceStub
CHAT = accounts_pb.USAGE_KIND_CHAT


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def _wait_ready(channel: aio.Channel, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"accounts exited early:\n{_tail(log)}")
        try:
            await asyncio.wait_for(channel.channel_ready(), 0.2)
            return
        except TimeoutError:
            continue
    raise RuntimeError(f"accounts did not start:\n{_tail(log)}")


# Replicas share SQL or Redis counters; the in-memory store is for one process only.
@pytest.fixture(params=["sql", pytest.param("redis", marks=pytest.mark.redis)])
def quota_store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def replicas(
    postgres_database: str, redis_url: str | None, tmp_path: Path
) -> AsyncIterator[tuple[Stub, Stub]]:
    empty_tables(postgres_database)
    extra = {"DATABASE_URL": postgres_database}
    if redis_url:
        extra["REDIS_URL"] = redis_url
    auth = InternalAuth(token=secrets.token_urlsafe(48))
    env = base_env(tmp_path, DRAFTER_INTERNAL_TOKEN=str(auth.token), **extra)
    processes, channels = [], []
    try:
        for index in range(2):
            port = free_port()
            log = tmp_path / f"accounts-{index}.log"
            command = drafter_command("serve", "accounts", "--host", "127.0.0.1", "--port")
            processes.append(spawn([*command, str(port)], env, log))
            channels.append(open_channel(f"127.0.0.1:{port}", auth))
            await _wait_ready(channels[-1], processes[-1], log)
        yield Stub(channels[0]), Stub(channels[1])
    finally:
        for channel in channels:
            await channel.close()
        for process in processes:
            process.terminate()
        for process in processes:
            assert process.wait(30) == 0
        empty_tables(postgres_database)


async def reason(stub: Stub, key: str, model: str = "claude-haiku") -> str:
    request = accounts_pb.AuthorizeRequest(credential=key, kind=CHAT, model=model)
    try:
        return (await stub.Authorize(request)).caller.plan
    except grpc.RpcError as exc:
        return reason_name(error_from_rpc(exc).reason)


async def test_changes_reach_the_other_replica_at_once(replicas: tuple[Stub, Stub]) -> None:
    one, two = replicas
    account = await make_account(one)
    assert await reason(one, account.key) == "free"
    assert await reason(two, account.key) == "free"  # both caches hold it now
    await one.SetUserPlan(accounts_pb.SetUserPlanRequest(email=account.email, plan="plus"))
    assert await reason(two, account.key, "claude-opus") == "plus"
    await two.SetUserBlocked(accounts_pb.SetUserBlockedRequest(email=account.email, blocked=True))
    assert await reason(one, account.key) == "ACCOUNT_BLOCKED"
    await one.SetUserBlocked(accounts_pb.SetUserBlockedRequest(email=account.email, blocked=False))
    assert await reason(two, account.key) == "plus"
    await one.RevokeApiKey(
        accounts_pb.RevokeApiKeyRequest(user_id=account.user_id, key_id=account.key_id)
    )
    assert await reason(two, account.key) == "INVALID_CREDENTIAL"
    assert await reason(one, account.key) == "INVALID_CREDENTIAL"


async def test_reservations_across_replicas_admit_exactly_the_limit(
    replicas: tuple[Stub, Stub],
) -> None:
    one, two = replicas
    account = await make_account(one)
    request = accounts_pb.AuthorizeRequest(credential=account.key, kind=CHAT, model="claude-haiku")
    calls = [(one if i % 2 else two).Authorize(request) for i in range(100)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    admitted = [r for r in results if isinstance(r, accounts_pb.AuthorizeResponse)]
    refused = [r for r in results if isinstance(r, grpc.RpcError)]
    assert (len(admitted), len(refused)) == (20, 80)
    assert {error_from_rpc(e).reason for e in refused} == {errors_pb2.ERROR_REASON_QUOTA_EXCEEDED}
    # a reservation made on one replica is refunded once through the other
    settle = accounts_pb.SettleRequest(
        reservation_id=admitted[0].reservation_id, outcome=accounts_pb.OUTCOME_FAILED
    )
    await two.Settle(settle)
    await one.Settle(settle)
    usage = await one.GetUsage(accounts_pb.GetUsageRequest(credential=account.key))
    assert usage.today.chat == 19 and usage.remaining.chat == 1
