"""A real stack in one process: chat, images and accounts gRPC servers on loopback
(accounts probing the other two on an injected clock) and the edge app in front, driven
through an httpx client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from drafter.edge.app import create_app
from drafter.edge.settings import EdgeSettings
from drafter.rpc.server import RunningServer
from drafter.services.accounts.main import start as start_accounts
from drafter.services.accounts.settings import AccountsSettings
from drafter.services.chat.main import start as start_chat
from drafter.services.chat.settings import ChatSettings
from drafter.services.images.main import start as start_images
from drafter.services.images.settings import ImagesSettings
from tests.support.clock import FakeClock
from tests.support.reservations import TEST_RESERVATION_KEY


@dataclass
class Stack:
    accounts: RunningServer
    chat: RunningServer
    images: RunningServer
    clock: FakeClock
    client: httpx.AsyncClient


def _edge_settings(tmp_path: Path, accounts: int, chat: int, images: int) -> EdgeSettings:
    return EdgeSettings(
        data_dir=tmp_path / "edge",
        accounts_addr=f"127.0.0.1:{accounts}",
        chat_addr=f"127.0.0.1:{chat}",
        images_addr=f"127.0.0.1:{images}",
        public_url="http://testserver",
    )


@contextlib.asynccontextmanager
async def in_process_stack(
    tmp_path: Path, rembg_model_path: Path, *, probe_interval_s: float
) -> AsyncIterator[Stack]:
    chat = await start_chat(
        ChatSettings(anthropic_api_key="sk-ant-test", reservation_key=TEST_RESERVATION_KEY),
        "127.0.0.1:0",
    )
    images = await start_images(
        ImagesSettings(data_dir=tmp_path / "images", rembg_model_path=rembg_model_path),
        "127.0.0.1:0",
    )
    clock = FakeClock()
    settings = AccountsSettings(
        data_dir=tmp_path / "data",
        reservation_key=TEST_RESERVATION_KEY,
        database_url=f"sqlite:///{tmp_path / 'db' / 'drafter.db'}",
        chat_addr=f"127.0.0.1:{chat.port}",
        images_addr=f"127.0.0.1:{images.port}",
        status_probe_interval_s=probe_interval_s,
    )
    accounts = await start_accounts(settings, "127.0.0.1:0", clock=clock)
    app = create_app(_edge_settings(tmp_path, accounts.port, chat.port, images.port))
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield Stack(accounts, chat, images, clock, c)
    finally:
        for running in (accounts, images, chat):
            await running.stop(0)
