"""EventStreamResponse on a real uvicorn server (uvicorn's own protocol, and Drafter's,
whose scope carries a writer for the body and whose app hands a stream's rest off to the
server): frames as they come, a keep-alive comment whenever the stream has been silent
for the interval, a client that leaves closing the frames' generator, a client that
reads slowly holding the frames back (none lost), and under Drafter's server the
middleware unwound while the stream still flows, and the writer handed to the frames'
producer (``on_writer``): frames written through it, in order with the rest, only while
it is writable."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from drafter.asgi_handoff import HandingOff, at_response_end
from drafter.edge.server.event_stream import KEEPALIVE, EventStreamResponse, FrameWriter
from drafter.edge.server.http_protocol import with_header_timeout
from tests.support.stack import free_port

INTERVAL_S = 0.2


class Script:
    """The frames of one stream: (seconds of silence before, frame) pairs."""

    def __init__(self) -> None:
        self.steps: list[tuple[float, bytes]] = []
        self.closed = asyncio.Event()
        self.middleware_saw: list[tuple[str, bool]] = []  # (type, more_body)
        self.server = ""  # "uvicorn" or "drafter"
        self.frames_sent = 0
        self.middleware_returned_after: int | None = None  # frames sent by then
        self.response_ended_after: int | None = None
        # The writer ``on_writer`` gave (None: none now), and what was done with it.
        self.output: FrameWriter | None = None
        self.told: list[bool] = []  # each time on_writer was called: given a writer?
        self.written = 0  # frames written through the writer
        self.not_writable = 0  # frames yielded because the writer was not writable

    def on_writer(self, output: FrameWriter | None) -> None:
        self.output = output
        self.told.append(output is not None)

    async def frames(self) -> AsyncIterator[bytes]:
        """Each frame through the writer when there is one and it is writable, as a
        stream's text taken as it arrives is; else yielded."""
        try:
            for pause, frame in self.steps:
                await asyncio.sleep(pause)
                if self.output is not None and self.output.writable:
                    self.output.write(frame)
                    self.written += 1
                else:
                    self.not_writable += self.output is not None
                    yield frame
                self.frames_sent += 1
        finally:
            self.closed.set()


@pytest.fixture(params=["uvicorn", "drafter"])
async def server(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, Script]]:
    script = Script()
    script.server = request.param

    async def stream(request: Request) -> EventStreamResponse:
        return EventStreamResponse(
            script.frames(),
            keepalive_s=INTERVAL_S,
            media_type="text/event-stream",
            on_writer=script.on_writer,
        )

    def watched(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            async def watched_send(message: Message) -> None:
                script.middleware_saw.append((message["type"], message.get("more_body", False)))
                await send(message)

            def ended() -> None:
                script.response_ended_after = script.frames_sent

            await app(scope, receive, watched_send)
            script.middleware_returned_after = script.frames_sent
            if not at_response_end(scope, ended):
                ended()

        return middleware

    app = Starlette(routes=[Route("/stream", stream)], middleware=[Middleware(watched)])
    port = free_port()
    http: Any = with_header_timeout(10) if request.param == "drafter" else "auto"
    served: ASGIApp = HandingOff(app) if request.param == "drafter" else app
    config = uvicorn.Config(
        served, host="127.0.0.1", port=port, log_config=None, lifespan="off", http=http
    )
    uv = uvicorn.Server(config)
    serving = asyncio.create_task(uv.serve())
    for _ in range(500):
        if uv.started:
            break
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}/stream", script
    uv.should_exit = True
    await serving


async def _timed_lines(url: str) -> list[tuple[float, str]]:
    """Each non-empty line of the body, with the seconds since the request started."""
    started = time.monotonic()
    lines = []
    async with httpx.AsyncClient() as client, client.stream("GET", url, timeout=10) as response:
        async for line in response.aiter_lines():
            if line:
                lines.append((time.monotonic() - started, line))
    return lines


def _gaps(lines: list[tuple[float, str]]) -> list[float]:
    times = [0.0] + [t for t, _ in lines]
    return [b - a for a, b in itertools.pairwise(times)]


async def test_frames_that_flow_need_no_keepalive(server: tuple[str, Script]) -> None:
    url, script = server
    script.steps = [(0.05, b"data: %d\n\n" % i) for i in range(8)]

    lines = await _timed_lines(url)

    assert [line for _, line in lines] == [f"data: {i}" for i in range(8)]
    # Under Drafter's server the frames' producer was given the connection's writer
    # while they flowed, and wrote them there; under uvicorn's own there is none.
    if script.server == "drafter":
        assert (script.told, script.written, script.not_writable) == ([True, False], 8, 0)
    else:
        assert (script.told, script.written) == ([], 0)
    start, end = ("http.response.start", False), ("http.response.body", False)
    frames = [("http.response.body", True)] * 8
    # Under Drafter's server the frames and the end go straight to the server: the
    # middleware sees the start; under uvicorn's own, everything.
    expected = [start] if script.server == "drafter" else [start, *frames, end]
    assert script.middleware_saw == expected


async def test_the_middleware_unwinds_while_the_stream_flows_under_drafters_server(
    server: tuple[str, Script],
) -> None:
    url, script = server
    script.steps = [(0.05, b"data: %d\n\n" % i) for i in range(4)]

    lines = await _timed_lines(url)

    assert len(lines) == 4
    for _ in range(100):
        if script.response_ended_after is not None:
            break
        await asyncio.sleep(0.01)
    assert script.response_ended_after == 4  # what runs at the end still runs at the end
    if script.server == "drafter":
        assert script.middleware_returned_after == 0  # handed off: nothing held meanwhile
    else:
        assert script.middleware_returned_after == 4


async def test_silence_is_filled_with_a_keepalive_every_interval(
    server: tuple[str, Script],
) -> None:
    url, script = server
    script.steps = [(0.05, b"data: a\n\n"), (1.0, b"data: b\n\n"), (0.05, b"data: c\n\n")]

    lines = await _timed_lines(url)

    texts = [line for _, line in lines]
    assert texts[0] == "data: a" and texts[-2:] == ["data: b", "data: c"]
    comments = texts[1:-2]
    assert set(comments) == {KEEPALIVE.decode().strip()}
    assert 3 <= len(comments) <= 5  # one per 0.2 s of the 1 s of silence
    assert max(_gaps(lines)) < INTERVAL_S + 0.1  # never silent much longer than that


async def test_a_client_that_leaves_closes_the_frames(server: tuple[str, Script]) -> None:
    url, script = server
    script.steps = [(0.01, b"data: a\n\n"), (30, b"data: never\n\n")]

    async with httpx.AsyncClient() as client, client.stream("GET", url, timeout=10) as response:
        async for line in response.aiter_lines():
            if line:
                break

    await asyncio.wait_for(script.closed.wait(), 5)
    assert script.closed.is_set()


async def test_a_client_that_reads_slowly_holds_the_frames_back_and_loses_none(
    server: tuple[str, Script],
) -> None:
    url, script = server
    frame = b"data: " + b"x" * 65_536 + b"\n\n"
    count = 600  # ~39 MB: more than loopback's socket buffers hold
    script.steps = [(0, frame)] * count
    port = int(url.split(":")[2].split("/")[0])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /stream HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")

    await asyncio.sleep(0.5)  # not reading: the socket fills and the writes must wait
    held_back_at = script.frames_sent
    received = await asyncio.wait_for(reader.read(-1), 30)
    writer.close()

    assert held_back_at < count
    if script.server == "drafter":  # the full socket made the writer unwritable
        assert script.written > 0 and script.not_writable > 0
    head, _, body = received.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert _unchunked(body) == frame * count


def _unchunked(body: bytes) -> bytes:
    pieces, at = [], 0
    while True:
        end = body.index(b"\r\n", at)
        size = int(body[at:end], 16)
        if size == 0:
            return b"".join(pieces)
        pieces.append(body[end + 2 : end + 2 + size])
        at = end + 2 + size + 2
