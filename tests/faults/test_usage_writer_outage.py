"""The usage writer across a database outage: its batches wait and are retried, no row
is lost, and the outage is logged once (a warning with the error's first line when it
starts, a line when the writes get through again), not a traceback per batch.

A real accounts service (grpc.aio on loopback) on a throwaway PostgreSQL database. The
outage, as ``test_database_outage`` makes it: the database refuses new connections
(``ALLOW_CONNECTIONS false``) and every open one is terminated. Settle with success is
what waits for the writer: its record is batched, and Settle answers once it is written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.config import CommonSettings
from drafter.rpc.channels import open_channel
from drafter.rpc.internal_auth import load_internal_auth
from drafter.services.accounts.main import start
from drafter.services.accounts.settings import AccountsSettings
from tests.support.accounts import chat_request, make_account
from tests.support.databases import POSTGRES_ADMIN_URL, throwaway_postgres_database
from tests.support.ledger import Ledger

pytestmark = pytest.mark.postgres

SETTLED = 12
OUTAGE_S = 3.0


@pytest.fixture
def database() -> Iterator[str]:
    with throwaway_postgres_database() as url:
        yield url


@pytest.fixture
async def stub(tmp_path: Path, database: str) -> AsyncIterator[accounts_grpc.AccountsServiceStub]:
    settings = AccountsSettings(data_dir=tmp_path / "data", database_url=database)
    running = await start(settings, "127.0.0.1:0")
    channel = open_channel(f"127.0.0.1:{running.port}", load_internal_auth(CommonSettings()))
    try:
        yield accounts_grpc.AccountsServiceStub(channel)
    finally:
        await channel.close()
        await running.stop(0)


def _set_connections(database: str, allowed: bool) -> None:
    name = database.rsplit("/", 1)[-1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )


async def test_batches_wait_out_an_outage_logged_once_and_lose_no_row(
    stub: accounts_grpc.AccountsServiceStub, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    account = await make_account(stub, plan="pro")
    rids = [(await stub.Authorize(chat_request(account))).reservation_id for _ in range(SETTLED)]
    caplog.set_level(logging.INFO, logger="drafter.accounts.usage")

    _set_connections(database, allowed=False)
    try:
        settles = [
            asyncio.ensure_future(
                stub.Settle(
                    accounts_pb.SettleRequest(
                        reservation_id=rid, outcome=accounts_pb.OUTCOME_SUCCEEDED
                    ),
                    timeout=60,
                )
            )
            for rid in rids
        ]
        await asyncio.sleep(OUTAGE_S)  # a batch is retried every second meanwhile
        assert not any(s.done() for s in settles)  # not acknowledged before written
    finally:
        _set_connections(database, allowed=True)
    await asyncio.wait_for(asyncio.gather(*settles), 30)

    assert Ledger(database).records() == {"succeeded": (SETTLED, SETTLED)}
    writer = [r for r in caplog.records if r.name == "drafter.accounts.usage"]
    started = [r for r in writer if "cannot be written" in r.getMessage()]
    ended = [r for r in writer if "written again" in r.getMessage()]
    assert len(started) == 1 and len(ended) == 1, [r.getMessage() for r in writer]
    assert started[0].levelno == logging.WARNING and ended[0].levelno == logging.INFO
    assert "\n" not in started[0].getMessage()
    assert "batches waited" in ended[0].getMessage()
    assert not any(r.exc_info for r in writer), "a traceback was logged"
