"""Fixtures of the upstream transport's tests: plain HTTP servers on loopback, scripted
per test."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

Reader, Writer = asyncio.StreamReader, asyncio.StreamWriter
# (request body, the connection's reader and writer) -> keep the connection?
Answer = Callable[[bytes, Reader, Writer], Awaitable[bool]]


async def _read_request(reader: Reader) -> bytes | None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return await reader.readexactly(length)


@dataclass
class ScriptedServer:
    """Answers each request with ``answer``; counts connections and requests."""

    answer: Answer
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: Reader, writer: Writer) -> None:
        self.connections += 1
        try:
            while True:
                body = await _read_request(reader)
                if body is None:
                    break
                self.requests.append(body)
                if not await self.answer(body, reader, writer):
                    break
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.disconnected.set()
            writer.close()


# serve(answer, tls=None) -> (the server, its base URL)
Serve = Callable[..., Awaitable[tuple["ScriptedServer", str]]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[asyncio.Server] = []

    async def start(
        answer: Answer, tls: ssl.SSLContext | None = None
    ) -> tuple[ScriptedServer, str]:
        scripted = ScriptedServer(answer)
        server = await asyncio.start_server(scripted.handle, "127.0.0.1", 0, ssl=tls)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return (
            scripted,
            f"{'https' if tls else 'http'}://{'localhost' if tls else '127.0.0.1'}:{port}",
        )

    yield start
    for server in servers:
        server.close()
