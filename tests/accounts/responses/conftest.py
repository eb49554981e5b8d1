"""Fixtures: a real accounts service (SQLite and PostgreSQL, the SQL quota store: stored
responses do not depend on the quota store) on loopback, with the stubs its stored
responses are called through."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from grpc import aio

from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.accounts.v1 import dashboard_service_pb2_grpc as dashboard_grpc
from drafter.accounts.v1 import responses_service_pb2_grpc as responses_grpc
from drafter.rpc.channels import open_channel
from drafter.services.accounts.main import start
from drafter.services.accounts.settings import AccountsSettings
from tests.support.accounts import Account, make_account
from tests.support.clock import FakeClock


@pytest.fixture
def quota_store() -> str:
    return "sql"


@dataclass(frozen=True)
class Service:
    accounts: accounts_grpc.AccountsServiceStub
    responses: responses_grpc.ResponsesServiceStub
    dashboard: dashboard_grpc.DashboardServiceStub


@pytest.fixture
async def service(settings: AccountsSettings, clock: FakeClock) -> AsyncIterator[Service]:
    running = await start(settings, "127.0.0.1:0", clock=clock)
    channel: aio.Channel = open_channel(f"127.0.0.1:{running.port}", running.auth)
    try:
        yield Service(
            accounts_grpc.AccountsServiceStub(channel),
            responses_grpc.ResponsesServiceStub(channel),
            dashboard_grpc.DashboardServiceStub(channel),
        )
    finally:
        await channel.close()
        await running.stop(0)


@pytest.fixture
async def alice(service: Service) -> Account:
    return await make_account(service.accounts)


@pytest.fixture
async def bob(service: Service) -> Account:
    return await make_account(service.accounts)
