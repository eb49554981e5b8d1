"""``SlimEvent`` behaves as ``asyncio.Event`` does, and the edge's HTTP protocol keeps it
(and a list for pipelined requests) per connection where uvicorn keeps an
``asyncio.Event`` and a deque, and its attributes inline rather than in a dict of its own:
checked on a real server, through the waits uvicorn makes on them (a request body that
arrives in pieces, a client that reads slowly)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from drafter.edge.server.http_protocol import TurnBufferedHttpToolsProtocol
from drafter.edge.server.slim_event import SlimEvent
from drafter.edge.server.uvicorn import edge_server
from tests.support.stack import free_port


@pytest.mark.parametrize("make", [asyncio.Event, SlimEvent])
async def test_set_wakes_every_waiter_and_clear_only_later_waits(make: type) -> None:
    event = make()
    assert not event.is_set()
    waiters = [asyncio.ensure_future(event.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    event.set()
    event.clear()  # the waiters were woken by the set: they still return True
    assert await asyncio.gather(*waiters) == [True, True, True]
    late = asyncio.ensure_future(event.wait())
    await asyncio.sleep(0.01)
    assert not late.done()
    event.set()
    assert await late is True
    assert await event.wait() is True  # set: no wait at all


@pytest.mark.parametrize("make", [asyncio.Event, SlimEvent])
async def test_a_cancelled_waiter_leaves_the_others_waiting(make: type) -> None:
    event = make()
    first, second = (asyncio.ensure_future(event.wait()) for _ in range(2))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    assert first.cancelled()
    assert not second.done()
    event.set()
    assert await second is True


async def _piece_by_piece() -> AsyncIterator[bytes]:
    for piece in (b"a" * 1000, b"b" * 1000):
        yield piece
        await asyncio.sleep(0.05)  # the app's receive() waits for the next piece


async def _big_body() -> AsyncIterator[bytes]:
    for _ in range(64):
        yield b"x" * 131_072  # 8 MB in all: more than the socket buffers take unread


def _connection_state() -> list[tuple[str, str, str, bool]]:
    """What each open connection of the edge's protocol holds for its events and queue,
    and whether its attributes are in a dict of its own (read without making one)."""
    return [
        (
            type(protocol.pipeline).__name__,
            type(protocol.flow._is_writable_event).__name__,
            type(protocol.cycle.message_event).__name__,
            any(type(r) is dict and "transport" in r for r in gc.get_referents(protocol)),
        )
        for protocol in gc.get_objects()
        if isinstance(protocol, TurnBufferedHttpToolsProtocol) and protocol.cycle is not None
    ]


async def test_the_edge_protocol_waits_on_slim_events_under_real_traffic() -> None:
    seen: list[tuple[str, str, str, bool]] = []

    async def echo(request: Request) -> JSONResponse:
        body = await request.body()
        seen.extend(_connection_state())
        return JSONResponse({"length": len(body)})

    async def big(request: Request) -> StreamingResponse:
        return StreamingResponse(_big_body(), media_type="application/octet-stream")

    app = Starlette(routes=[Route("/echo", echo, methods=["POST"]), Route("/big", big)])
    port = free_port()
    server = edge_server(app, "127.0.0.1", port)
    serving = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            answer = await client.post("/echo", content=_piece_by_piece())
            assert answer.json() == {"length": 2000}
            assert seen and set(seen) == {("_Pipeline", "SlimEvent", "SlimEvent", False)}
            async with client.stream("GET", "/big") as response:
                await asyncio.sleep(0.3)  # unread: the server's writes pause, then drain
                received = 0
                async for chunk in response.aiter_bytes():
                    received += len(chunk)
            assert received == 64 * 131_072
    finally:
        server.should_exit = True
        await serving
