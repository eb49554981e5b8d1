"""The least a Python gateway can do per relayed event: the long-stream table's floor.

    python -m bench.floor_relay --upstream http://127.0.0.1:PORT --port N < request

One uvloop process, asyncio protocols and nothing else: each request read with httptools
(its content ignored), one upstream connection per stream sending the fake upstream the
request read from standard input (the benchmark's own, ``long_streams.upstream_target``),
and each upstream read relayed at once, in the same callback. On ``/v1/chat/completions``
each text delta becomes an OpenAI chunk (httptools for the chunked answer, an SSE split,
one ``orjson.loads`` and one ``orjson.dumps`` per event); on ``/v1/messages`` the
upstream's bytes pass through untouched. No accounting, timeouts, keep-alives, flow
control or errors: what is left of a gateway's CPU per event after those is the system
calls' and the event loop's, which this row shows on the machine at hand.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, cast
from urllib.parse import urlsplit

import httptools
import orjson
import uvloop

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
CHUNK_START = (
    b'data: {"id":"chatcmpl-floor","object":"chat.completion.chunk","created":0,'
    b'"model":"claude-haiku-4-5","choices":[{"index":0,"delta":{"content":'
)
CHUNK_END = b'},"logprobs":null,"finish_reason":null}]}\n\n'
DONE = b"data: [DONE]\n\n"


class Upstream(asyncio.Protocol):
    """One stream's upstream connection: what arrives goes to ``client`` at once."""

    def __init__(self, client: asyncio.Transport, translate: bool, request: bytes) -> None:
        self._client = client
        self._request = request
        self._translate = translate
        self._parser = httptools.HttpResponseParser(self)
        self._rest = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's, not a subclass
        self._transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        if self._translate:
            self._parser.feed_data(data)
        else:
            self._client.write(data)

    def on_body(self, body: bytes) -> None:
        *events, self._rest = (self._rest + body).split(b"\n\n")
        frames = []
        for event in events:
            for line in event.split(b"\n"):
                if line.startswith(b"data: "):
                    payload = orjson.loads(line[6:])
                    delta = payload.get("delta") or {}
                    if delta.get("type") == "text_delta":
                        frame = CHUNK_START + orjson.dumps(delta["text"]) + CHUNK_END
                        frames.append(b"%x\r\n%b\r\n" % (len(frame), frame))
        if frames:
            self._client.write(b"".join(frames))

    def on_message_complete(self) -> None:
        self._client.write(b"%x\r\n%b\r\n0\r\n\r\n" % (len(DONE), DONE))
        self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._translate:
            self._client.close()


class Client(asyncio.Protocol):
    """A client's connection: its request read, then its answer relayed."""

    def __init__(self, upstream: tuple[str, int], request: bytes) -> None:
        self._upstream = upstream
        self._request = request
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._opening: asyncio.Task[Any] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._parser.feed_data(data)

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_message_complete(self) -> None:
        translate = not self._url.startswith(b"/v1/messages")
        if translate:
            self._transport.write(HEAD)
        loop = asyncio.get_running_loop()
        host, port = self._upstream
        self._opening = loop.create_task(
            loop.create_connection(
                lambda: Upstream(self._transport, translate, self._request), host, port
            )
        )


async def serve(upstream: str, port: int, request: bytes) -> None:
    parts = urlsplit(upstream)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: Client(address, request), "127.0.0.1", port, backlog=4096
    )
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvloop.run(serve(args.upstream, args.port, sys.stdin.buffer.read()))


if __name__ == "__main__":
    main()
