"""The Authorize crash window: ``kill -9`` of the accounts service in the middle of a burst
of Authorize calls whose caller (an edge) dies with it, so nothing is ever settled.

Every reservation that was counted must have its usage record: after the restart and
the abandoned sweep, every reservation id the caller got back names a record, every
record is ``abandoned``, and the day's counter equals the records' units. Before the
journal row was kept with the count, the rows of the last batch interval (counted,
answered, not yet written) were lost: the counter stayed above the records.

One real ``drafter serve accounts`` process per layout: SQLite with SQL counters (the
journal row in the counter's transaction), PostgreSQL with SQL counters (in the same
statement) and PostgreSQL with Redis counters (journaled in Redis with the count).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import redis

from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.config import CommonSettings
from drafter.rpc.channels import open_channel
from drafter.rpc.internal_auth import load_internal_auth
from tests.support.accounts import Account, chat_request, make_account
from tests.support.databases import throwaway_postgres_database
from tests.support.ledger import Ledger, record_id
from tests.support.stack import base_env, drafter_command, free_port, spawn

pytestmark = pytest.mark.slow

# A database of its own: the test reads (and empties) the Redis counters it made.
REDIS_URL = "redis://127.0.0.1:6379/14"
WORKERS = 8
# Answers before the kill: enough that the writer has written some batches already.
ANSWERED_BEFORE_KILL = 150
DEADLINE_S = "2"


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("postgresql+redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ]
)
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    if request.param == "sqlite":
        yield Ledger(f"sqlite:///{tmp_path / 'data' / 'drafter.db'}")
        return
    redis_url = REDIS_URL if request.param.endswith("redis") else None
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        with throwaway_postgres_database() as url:
            yield Ledger(url, redis_url)
    finally:
        client.flushdb()
        client.close()


class Accounts:
    """``drafter serve accounts`` on a fixed port, restartable on the same data."""

    def __init__(self, tmp_path: Path, ledger: Ledger) -> None:
        self.port = free_port()
        self.data_dir = tmp_path / "data"
        self.data_dir.mkdir(exist_ok=True)
        extra = {"REDIS_URL": ledger.redis_url} if ledger.redis_url else {}
        self.env = base_env(
            self.data_dir,
            DATABASE_URL=ledger.database_url,
            DRAFTER_INTERNAL_TOKEN=os.environ["DRAFTER_INTERNAL_TOKEN"],
            DRAFTER_RESERVATION_DEADLINE_S=DEADLINE_S,
            **extra,
        )
        self.starts = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.starts += 1
        command = drafter_command(
            "serve", "accounts", "--host", "127.0.0.1", "--port", str(self.port)
        )
        self.process = spawn(command, self.env, self.data_dir / f"accounts-{self.starts}.log")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)

    def output(self) -> str:
        logs = sorted(self.data_dir.glob("accounts-*.log"))
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in logs)


async def _ready(stub: accounts_grpc.AccountsServiceStub, accounts: Accounts) -> Account:
    deadline = time.monotonic() + 60
    while True:
        try:
            return await make_account(stub, plan="plus")
        except grpc.RpcError:
            assert time.monotonic() < deadline, accounts.output()
            await asyncio.sleep(0.2)


async def _authorize_until_killed(
    stub: accounts_grpc.AccountsServiceStub, account: Account, accounts: Accounts
) -> list[str]:
    """WORKERS callers Authorize in a loop; the service is killed once
    ANSWERED_BEFORE_KILL answered; returns every reservation id answered."""
    answered: list[str] = []
    killed = asyncio.Event()

    async def worker() -> None:
        while not killed.is_set():
            try:
                reply = await stub.Authorize(chat_request(account), timeout=5)
            except grpc.RpcError:
                return
            answered.append(reply.reservation_id)
            if len(answered) >= ANSWERED_BEFORE_KILL and not killed.is_set():
                killed.set()
                accounts.kill()  # synchronous: no answer is taken after this point

    await asyncio.gather(*(worker() for _ in range(WORKERS)))
    return answered


async def test_a_kill_between_counting_and_the_journal_row_loses_no_record(
    tmp_path: Path, ledger: Ledger
) -> None:
    accounts = Accounts(tmp_path, ledger)
    auth = load_internal_auth(CommonSettings())
    channel = open_channel(f"127.0.0.1:{accounts.port}", auth)
    stub = accounts_grpc.AccountsServiceStub(channel)
    accounts.start()
    try:
        account = await _ready(stub, accounts)
        answered = await _authorize_until_killed(stub, account, accounts)
        assert len(answered) >= ANSWERED_BEFORE_KILL
        accounts.start()  # the caller died too: nothing is ever settled

        deadline = time.monotonic() + 30
        while set(ledger.records()) != {"abandoned"} or not answered_recorded(ledger, answered):
            assert time.monotonic() < deadline, (ledger.records(), accounts.output())
            await asyncio.sleep(0.3)
        (count, units) = ledger.records()["abandoned"]
        assert count == units >= len(answered)
        assert ledger.counter(account.user_id) == units
    finally:
        await channel.close()
        accounts.stop()


def answered_recorded(ledger: Ledger, answered: list[str]) -> bool:
    return {record_id(rid) for rid in answered} <= ledger.record_ids()
