"""A real accounts service sending notification mail to a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from grpc import aio

from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.accounts.v1 import identity_service_pb2_grpc as identity_grpc
from drafter.accounts.v1 import notifications_service_pb2_grpc as notifications_grpc
from drafter.accounts.v1 import oauth_service_pb2_grpc as oauth_grpc
from drafter.config import CommonSettings
from drafter.edge.app import create_app
from drafter.edge.settings import EdgeSettings
from drafter.rpc.channels import open_channel
from drafter.rpc.internal_auth import load_internal_auth
from drafter.services.accounts.main import start
from drafter.services.accounts.notifications import notifier
from drafter.services.accounts.settings import AccountsSettings
from tests.notifications.smtp_server import FakeSmtp
from tests.support.accounts import Stubs
from tests.support.clock import FakeClock


@pytest.fixture
def smtp() -> Iterator[FakeSmtp]:
    with FakeSmtp() as server:
        yield server


@pytest.fixture
def smtp_url(smtp: FakeSmtp) -> str | None:
    """Where the accounts service sends mail; tests override it (None: not configured)."""
    return smtp.url


@pytest.fixture
async def accounts_port(
    tmp_path: Path, smtp_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[int]:
    monkeypatch.setattr(notifier, "RETRY_BACKOFF_S", 0.01)
    settings = AccountsSettings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'db' / 'drafter.db'}",
        smtp_url=smtp_url,
        mail_from="Drafter <noreply@drafter.test>",
        chat_addr="127.0.0.1:9",
        images_addr="127.0.0.1:9",
        status_probe_interval_s=3600,
    )
    running = await start(settings, "127.0.0.1:0", clock=FakeClock())
    try:
        yield running.port
    finally:
        await running.stop(0)


@pytest.fixture
async def channel(accounts_port: int) -> AsyncIterator[aio.Channel]:
    channel = open_channel(f"127.0.0.1:{accounts_port}", load_internal_auth(CommonSettings()))
    try:
        yield channel
    finally:
        await channel.close()


@pytest.fixture
def stubs(channel: aio.Channel) -> Stubs:
    return Stubs(
        accounts_grpc.AccountsServiceStub(channel),
        oauth_grpc.OAuthServiceStub(channel),
        identity_grpc.IdentityServiceStub(channel),
    )


@pytest.fixture
def prefs_stub(channel: aio.Channel) -> notifications_grpc.NotificationsServiceStub:
    return notifications_grpc.NotificationsServiceStub(channel)


@pytest.fixture
async def edge_app(accounts_port: int, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """The edge in process, its lifespan running."""
    app = create_app(
        EdgeSettings(
            data_dir=tmp_path / "edge",
            accounts_addr=f"127.0.0.1:{accounts_port}",
            chat_addr="127.0.0.1:9",
            images_addr="127.0.0.1:9",
            public_url="http://testserver",
        )
    )
    async with app.router.lifespan_context(app):
        yield app


def _browser(app: FastAPI) -> httpx.AsyncClient:
    """Driven like a browser: its own cookies, redirects not followed."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def browser(edge_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _browser(edge_app) as client:
        yield client


@pytest.fixture
async def other_browser(edge_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _browser(edge_app) as client:
        yield client
