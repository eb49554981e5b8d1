"""``/api/v1/status`` shows the answering edge process's settlement queue: its depth
(``unsent``: queued, being sent or kept for a retry) and the ``dropped`` count, against a
real stack and against an accounts service that is not there."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.edge.api import accounting as accounting_module
from drafter.edge.api.accounting import Accounting, Reservation
from drafter.edge.app import create_app
from drafter.edge.settings import EdgeSettings
from tests.support.in_process_stack import in_process_stack


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _settlements(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/v1/status")
    settlements: dict[str, Any] = response.json()["settlements"]
    return settlements


def _queue_one(accounting: Accounting, name: str) -> None:
    reservation = Reservation(name, accounts_pb.Caller(), "m", time.monotonic())
    accounting.settle_soon(reservation, accounts_pb.OUTCOME_SUCCEEDED)


@pytest.fixture
async def edge_without_accounts(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    port = _closed_port()
    settings = EdgeSettings(
        data_dir=tmp_path / "edge",
        accounts_addr=f"127.0.0.1:{port}",
        chat_addr=f"127.0.0.1:{port}",
        images_addr=f"127.0.0.1:{port}",
        public_url="http://testserver",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client
            # Nothing to drain into: give the queue up rather than wait DRAIN_LIMIT_S.
            app.state.accounting._unsent.clear()


async def test_an_idle_edge_shows_an_empty_queue_and_its_pid(
    tmp_path: Path, tiny_rembg_model_path: Path
) -> None:
    async with in_process_stack(tmp_path, tiny_rembg_model_path, probe_interval_s=60) as stack:
        assert await _settlements(stack.client) == {
            "edge_pid": os.getpid(),
            "unsent": 0,
            "dropped": 0,
        }


async def test_settlements_the_accounts_service_has_not_taken_are_counted(
    edge_without_accounts: tuple[FastAPI, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounting_module, "SETTLE_RETRY_DELAYS_S", (0.01, 0.01, 0.05))
    app, client = edge_without_accounts
    accounting: Accounting = app.state.accounting
    _queue_one(accounting, "rsv_a")
    _queue_one(accounting, "rsv_b")
    assert (await _settlements(client))["unsent"] == 2  # queued, or being sent
    await asyncio.sleep(0.5)  # the quick retries are over: kept for later
    body = await _settlements(client)
    assert (body["unsent"], body["dropped"]) == (2, 0)


async def test_a_full_queue_drops_the_oldest_and_counts_them(
    edge_without_accounts: tuple[FastAPI, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounting_module, "SETTLE_RETRY_DELAYS_S", (0.01, 0.01, 0.05))
    monkeypatch.setattr(accounting_module, "MAX_UNSENT", 2)
    app, client = edge_without_accounts
    accounting: Accounting = app.state.accounting
    for name in ("rsv_a", "rsv_b", "rsv_c"):
        _queue_one(accounting, name)
        await asyncio.sleep(0.3)  # each its own batch, kept after its retries
    body = await _settlements(client)
    assert (body["unsent"], body["dropped"]) == (2, 1)
    assert [s.reservation_id for s in accounting._unsent] == ["rsv_b", "rsv_c"]
