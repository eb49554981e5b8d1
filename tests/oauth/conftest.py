"""Fixtures: a real accounts service (AccountsService, OAuthService, IdentityService) on
loopback, on SQLite and PostgreSQL, with an injectable clock; users and apps made through
the RPCs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.accounts.v1 import identity_service_pb2_grpc as identity_grpc
from drafter.accounts.v1 import oauth_service_pb2_grpc as oauth_grpc
from drafter.config import CommonSettings
from drafter.edge.app import create_app
from drafter.edge.settings import EdgeSettings
from drafter.rpc.channels import open_channel
from drafter.rpc.internal_auth import load_internal_auth
from drafter.services.accounts.main import start
from drafter.services.accounts.settings import AccountsSettings
from tests.support.accounts import Account, Stubs, make_account
from tests.support.clock import FakeClock
from tests.support.databases import empty_tables, throwaway_postgres_database
from tests.support.oauth import REDIRECT_URI, RegisteredApp, register_app

# tests/oauth/test_web.py still imports these three from here; their home is tests.support.
__all__ = ["REDIRECT_URI", "RegisteredApp", "Stubs"]


@pytest.fixture(scope="session")
def oauth_postgres_database() -> Iterator[str]:
    with throwaway_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh SQLite file, or the session's PostgreSQL database with its rows removed."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'drafter.db'}"
    url: str = request.getfixturevalue("oauth_postgres_database")
    empty_tables(url, ("users", "usage_records", "quota_counters"))
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> AccountsSettings:
    return AccountsSettings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
async def accounts_port(settings: AccountsSettings, clock: FakeClock) -> AsyncIterator[int]:
    """A real accounts service (every accounts RPC service) on 127.0.0.1:<free port>."""
    running = await start(settings, "127.0.0.1:0", clock=clock)
    try:
        yield running.port
    finally:
        await running.stop(0)


@pytest.fixture
async def stubs(accounts_port: int) -> AsyncIterator[Stubs]:
    channel = open_channel(f"127.0.0.1:{accounts_port}", load_internal_auth(CommonSettings()))
    try:
        yield Stubs(
            accounts_grpc.AccountsServiceStub(channel),
            oauth_grpc.OAuthServiceStub(channel),
            identity_grpc.IdentityServiceStub(channel),
        )
    finally:
        await channel.close()


@pytest.fixture
def edge_settings(accounts_port: int, tmp_path: Path) -> EdgeSettings:
    return EdgeSettings(
        data_dir=tmp_path / "edge-data",
        accounts_addr=f"127.0.0.1:{accounts_port}",
        chat_addr="127.0.0.1:9",
        images_addr="127.0.0.1:9",
        public_url="http://testserver",
    )


@pytest.fixture
async def browser(edge_settings: EdgeSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The edge app in process (lifespan run), driven like a browser: cookies kept,
    redirects not followed."""
    app = create_app(edge_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
async def app(stubs: Stubs) -> RegisteredApp:
    return await register_app(stubs)


@pytest.fixture
async def user(stubs: Stubs) -> Account:
    """The user who authorises apps (free plan, with an API key)."""
    return await make_account(stubs.accounts)
