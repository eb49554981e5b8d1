"""Bounded input, through ``drafter up`` (a real process on loopback): a body over
``DRAFTER_MAX_BODY_BYTES`` (32 MB by default) is answered 413 in the API's shape before it
is read whole, ``max_tokens`` beyond the proto's 32-bit field is a 400 naming it, and
slowloris connections that never finish their headers are closed after
``DRAFTER_HEADER_TIMEOUT_S`` while normal requests are served."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.stack import DrafterStack, start_drafter_up

pytestmark = pytest.mark.slow

MAX_BODY_BYTES = 32 * 1024 * 1024  # the default, as Anthropic's API
HEADER_TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, fake_anthropic_server: FakeAnthropic
) -> Iterator[DrafterStack]:
    stack = start_drafter_up(
        tmp_path_factory.mktemp("input-limits"),
        anthropic_base_url=fake_anthropic_server.base_url,
        DRAFTER_HEADER_TIMEOUT_S=str(HEADER_TIMEOUT_S),
    )
    try:
        yield stack
    finally:
        assert stack.stop() == 0, stack.output()


@pytest.fixture(scope="module")
def key(stack: DrafterStack) -> str:
    return stack.create_user_with_key("limits@example.com")


def _address(stack: DrafterStack) -> tuple[str, int]:
    url = urlsplit(stack.base_url)
    assert url.hostname and url.port
    return url.hostname, url.port


def _read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def _status_and_json(response: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), orjson.loads(body)


def test_declared_oversized_body_is_refused_before_it_is_sent(
    stack: DrafterStack, key: str
) -> None:
    """A 33 MB chat body: the 413 comes back on the headers alone, before any of the body
    was sent, in OpenAI's shape. (Sending part of the body first races the server's
    close: the client's send then fails with a broken pipe.)"""
    size = 33 * 1024 * 1024
    with socket.create_connection(_address(stack), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n".encode()
            + f"Content-Length: {size}\r\n\r\n".encode()
        )
        status, body = _status_and_json(_read_response(sock))
    assert status == 413
    error = body["error"]
    assert isinstance(error, dict)
    assert error["type"] == "invalid_request_error"
    assert str(MAX_BODY_BYTES) in str(error["message"])


def test_streamed_oversized_body_is_refused_while_it_is_read(stack: DrafterStack, key: str) -> None:
    """Chunked, with no Content-Length: counted while read, refused once over the limit,
    long before the client has sent it all (64 MB)."""
    chunk = b" " * (1024 * 1024)
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with socket.create_connection(_address(stack), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n".encode()
            + b"Transfer-Encoding: chunked\r\n\r\n"
        )
        try:
            while sent < 64 * 1024 * 1024:
                sock.sendall(frame)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: the rest of the body was never read
        status, body = _status_and_json(_read_response(sock))
    assert status == 413
    assert sent < 64 * 1024 * 1024
    assert body["error"]["type"] == "invalid_request_error"  # type: ignore[index]


def test_oauth_token_oversized_body_answers_in_rfc6749_shape(stack: DrafterStack) -> None:
    response = httpx.post(
        f"{stack.base_url}/oauth/token",
        content=b"x" * (MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens", "top_k"])
def test_overflowing_integers_are_400_naming_the_parameter(
    stack: DrafterStack, key: str, param: str
) -> None:
    body = {
        "model": "claude-haiku-4-5",
        "messages": [{"role": "user", "content": "hi"}],
        param: 10**12,
    }
    response = httpx.post(
        f"{stack.api_url}/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param and param in error["message"]


def test_max_tokens_beyond_the_model_is_400_naming_max_tokens(
    stack: DrafterStack, key: str
) -> None:
    body = {
        "model": "claude-haiku-4-5",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 10**9,
    }
    response = httpx.post(
        f"{stack.api_url}/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "max_tokens"


async def _slowloris(host: str, port: int, until: float) -> float | None:
    """Sends a request head one byte a second; the seconds until the server closed the
    connection, or None when it was still open at ``until``."""
    reader, writer = await asyncio.open_connection(host, port)
    started = time.monotonic()
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 100
    try:
        for byte in head:
            if time.monotonic() > until:
                return None
            try:
                writer.write(bytes([byte]))
                await writer.drain()
                if await asyncio.wait_for(reader.read(1), timeout=1.0) == b"":
                    return time.monotonic() - started
            except TimeoutError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return time.monotonic() - started
        return None
    finally:
        writer.close()


async def test_slowloris_connections_are_closed_while_requests_are_served(
    stack: DrafterStack,
) -> None:
    host, port = _address(stack)
    until = time.monotonic() + HEADER_TIMEOUT_S + 8
    attackers = [asyncio.create_task(_slowloris(host, port, until)) for _ in range(50)]
    await asyncio.sleep(0.5)
    async with httpx.AsyncClient(base_url=stack.base_url) as client:
        for _ in range(5):
            assert (await client.get("/healthz")).status_code == 200
            await asyncio.sleep(0.2)
    closed_after = await asyncio.gather(*attackers)
    assert all(t is not None for t in closed_after), closed_after
    assert max(t for t in closed_after if t is not None) < HEADER_TIMEOUT_S + 2
