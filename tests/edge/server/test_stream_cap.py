"""StreamCap on a small Starlette app served by uvicorn (plain, and as the edge runs it,
where a stream is handed off by its response): streaming requests past the cap are
answered 503 at once in the path's API shape, the rest reach the app with their body
unchanged, and a stream's slot is free again when its answer ends."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from drafter.edge.server.event_stream import EventStreamResponse
from drafter.edge.server.stream_cap import StreamCap, asks_to_stream, listen_backlog
from drafter.edge.server.uvicorn import edge_server
from tests.support.stack import free_port


class Held:
    """Streams stay open until ``release`` is set; bodies the app received are kept."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.bodies: list[bytes] = []

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        self.bodies.append(body)
        if not orjson.loads(body).get("stream"):
            return Response(b"whole")

        async def frames() -> AsyncIterator[bytes]:
            yield b"data: first\n\n"
            await self.release.wait()
            yield b"data: [DONE]\n\n"

        return EventStreamResponse(frames(), media_type="text/event-stream")


@pytest.fixture(params=["uvicorn", "edge"])
def server_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextlib.asynccontextmanager
async def _serving(
    held: Held, cap: int, kind: str = "edge"
) -> AsyncIterator[tuple[httpx.AsyncClient, StreamCap]]:
    """The capped app on a real uvicorn server (streams must really stay open): uvicorn's
    own, or the edge's (``edge_server``)."""
    routes = [
        Route(path, held.endpoint, methods=["POST"])
        for path in ("/v1/chat/completions", "/v1/messages", "/v1/other")
    ]
    capped = StreamCap(Starlette(routes=routes), max_streams=cap)
    port = free_port()
    server: uvicorn.Server
    if kind == "edge":
        server = edge_server(capped, "127.0.0.1", port)
    else:
        config = uvicorn.Config(capped, host="127.0.0.1", port=port, log_config=None)
        server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn offers no event for it
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield client, capped
    finally:
        server.should_exit = True
        await serving


STREAM = orjson.dumps({"model": "m", "stream": True, "messages": []})
WHOLE = orjson.dumps({"model": "m", "stream": False, "messages": []})


async def _open(client: httpx.AsyncClient, path: str = "/v1/chat/completions") -> httpx.Response:
    request = client.build_request("POST", path, content=STREAM)
    response = await client.send(request, stream=True)
    assert response.status_code == 200
    return response


async def test_past_the_cap_a_stream_is_refused_and_the_open_ones_finish(server_kind: str) -> None:
    held = Held()
    async with _serving(held, cap=2, kind=server_kind) as (client, capped):
        opened = [await _open(client) for _ in range(2)]
        assert capped.open == 2

        refused = await client.post("/v1/chat/completions", content=STREAM)
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "2"
        error = refused.json()["error"]
        assert (error["type"], error["code"]) == ("overloaded_error", "too_many_streams")

        anthropic = await client.post("/v1/messages", content=STREAM)
        assert anthropic.status_code == 503 and anthropic.headers["retry-after"] == "2"
        body = anthropic.json()
        assert body["type"] == "error" and body["error"]["type"] == "overloaded_error"
        assert body["request_id"].startswith("req_")

        whole = await client.post("/v1/chat/completions", content=WHOLE)
        assert whole.status_code == 200 and whole.content == b"whole"
        other = await client.send(  # a path that cannot stream is not capped
            client.build_request("POST", "/v1/other", content=STREAM), stream=True
        )
        assert other.status_code == 200
        assert capped.open == 2

        held.release.set()
        await other.aread()
        await other.aclose()
        for response in opened:
            assert (await response.aread()).endswith(b"data: [DONE]\n\n")
            await response.aclose()
        assert capped.open == 0
        again = await _open(client)
        await again.aread()
        await again.aclose()


async def test_the_app_reads_the_body_it_was_sent_even_in_pieces() -> None:
    held = Held()

    async def pieces() -> AsyncIterator[bytes]:
        yield STREAM[:10]
        yield STREAM[10:]

    held.release.set()
    async with _serving(held, cap=5) as (client, _):
        answer = await client.post("/v1/chat/completions", content=pieces())
        assert answer.status_code == 200
    assert held.bodies == [STREAM]


def test_only_a_json_object_with_stream_true_asks_to_stream() -> None:
    assert asks_to_stream(b'{"stream": true}')
    assert not asks_to_stream(b'{"stream": false}')
    assert not asks_to_stream(b'{"stream": "true"}')
    assert not asks_to_stream(b'{"messages": [{"content": "\\"stream\\": true"}]}')
    assert not asks_to_stream(b'{"stream": true')  # malformed: the route answers it
    assert not asks_to_stream(b'["stream", true]')


def test_the_listen_backlog_follows_the_cap() -> None:
    assert listen_backlog(600) == 2400
    assert listen_backlog(10) == 2048


async def test_a_client_that_leaves_frees_its_slot(server_kind: str) -> None:
    held = Held()
    async with _serving(held, cap=1, kind=server_kind) as (client, capped):
        response = await _open(client)
        assert capped.open == 1
        await response.aclose()  # gone before the answer ends
        for _ in range(300):
            if capped.open == 0:
                break
            await asyncio.sleep(0.01)
        assert capped.open == 0
        held.release.set()
        again = await _open(client)
        assert (await again.aread()).endswith(b"data: [DONE]\n\n")
        await again.aclose()
