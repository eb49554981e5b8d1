"""A local HTTP server speaking Anthropic's Messages API wire format (JSON and SSE).

Tests run it in-process (:class:`FakeAnthropic`, a real uvicorn server on a background
thread); benchmarks run it as a process::

    python -m tests.fakes.anthropic_server --port 8900 --chunks 20 --delay-ms 0

Each ``POST /v1/messages`` is recorded in ``requests`` and answered with the next
scripted :class:`Reply` from ``enqueue(...)``, or by default with an echo of the last
user text split into ``chunks`` text deltas. Token counts are deterministic: input
tokens are the words of the request's text, output tokens the chunks streamed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Frame = tuple[str, dict[str, Any]]

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


@dataclass(frozen=True)
class ToolUse:
    """A ``tool_use`` block the fake answers with; ``id`` is generated when empty."""

    name: str
    input: Mapping[str, Any]
    id: str = ""


@dataclass(frozen=True)
class Reply:
    """One scripted answer. ``text=None`` echoes the last user text; ``status`` other
    than 200 answers with Anthropic's error body; ``error_after=k`` sends an
    ``event: error`` after k stream events; ``delay_s`` sleeps before every event (a
    whole answer waits as long as its stream would have taken)."""

    text: str | None = None
    thinking: str | None = None
    signature: str = "fake-signature"
    tool_uses: Sequence[ToolUse] = ()
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: Mapping[str, int] | None = None
    chunks: int | None = None
    delay_s: float | None = None
    status: int = 200
    error_type: str | None = None
    error_message: str = "scripted error from the fake Anthropic server"
    headers: Mapping[str, str] = field(default_factory=dict)
    error_after: int | None = None


@dataclass(frozen=True)
class ReceivedRequest:
    """A request as the fake received it; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def _split(text: str, n: int) -> list[str]:
    n = max(1, min(n, len(text)))
    size, extra = divmod(len(text), n)
    pieces, pos = [], 0
    for i in range(n):
        end = pos + size + (1 if i < extra else 0)
        pieces.append(text[pos:end])
        pos = end
    return pieces


def _words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_words(v) for v in value)
    if isinstance(value, dict):
        return sum(_words(value.get(k)) for k in ("text", "content"))
    return 0


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        texts = [b.get("text", "") for b in content or [] if b.get("type") == "text"]
        if texts:
            return " ".join(texts)
    return ""


def _error_body(error_type: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}}


def _validation_error(body: dict[str, Any]) -> str | None:
    if not isinstance(body.get("model"), str):
        return "model: Field required"
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        return "max_tokens: Field required (an integer >= 1)"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    if any(m.get("role") not in ("user", "assistant") for m in messages):
        return "messages: roles must be 'user' or 'assistant'"
    thinking = body.get("thinking") or {}
    if thinking.get("type") == "enabled" and thinking.get("budget_tokens", 0) >= body["max_tokens"]:
        return "max_tokens must be greater than thinking.budget_tokens"
    return None


class _Script:
    """Turns a request and a :class:`Reply` into a Message and its stream frames."""

    def __init__(self, body: dict[str, Any], reply: Reply, chunks: int, msg_id: str) -> None:
        self.body, self.reply, self.chunks = body, reply, reply.chunks or chunks
        text = reply.text if reply.text is not None else self._echo()
        self.stop_reason, self.stop_sequence = reply.stop_reason, reply.stop_sequence
        for stop in body.get("stop_sequences") or []:
            if stop and stop in text:
                text = text[: text.index(stop)]
                self.stop_reason = self.stop_reason or "stop_sequence"
                self.stop_sequence = self.stop_sequence or stop
        self.text_pieces = _split(text, self.chunks) if text else []
        if len(self.text_pieces) > body.get("max_tokens", 1 << 30):
            self.text_pieces = self.text_pieces[: body["max_tokens"]]
            self.stop_reason = self.stop_reason or "max_tokens"
        self.thinking_pieces = _split(reply.thinking, self.chunks) if reply.thinking else []
        self.tools = [
            ToolUse(t.name, t.input, t.id or f"toolu_fake_{msg_id}_{i}")
            for i, t in enumerate(reply.tool_uses)
        ]
        self.stop_reason = self.stop_reason or ("tool_use" if self.tools else "end_turn")
        self.msg_id = msg_id

    def _echo(self) -> str:
        last = _last_user_text(self.body)
        return f"Echo: {last}" if last else "Hello from the fake Anthropic server."

    def usage(self) -> dict[str, Any]:
        output = len(self.text_pieces) + len(self.thinking_pieces) + len(self.tools)
        usage: dict[str, Any] = {
            "input_tokens": max(1, _words(self.body.get("system")) + _words(self.body["messages"])),
            "output_tokens": max(1, output),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        usage |= dict(self.reply.usage or {})
        if "thinking_tokens" in usage:
            usage["output_tokens_details"] = {"thinking_tokens": usage.pop("thinking_tokens")}
        return usage

    def blocks(self) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if self.thinking_pieces:
            thinking = "".join(self.thinking_pieces)
            blocks.append(
                {"type": "thinking", "thinking": thinking, "signature": self.reply.signature}
            )
        if self.text_pieces:
            blocks.append({"type": "text", "text": "".join(self.text_pieces)})
        for tool in self.tools:
            blocks.append(
                {"type": "tool_use", "id": tool.id, "name": tool.name, "input": tool.input}
            )
        return blocks

    def message(self, *, streaming: bool) -> dict[str, Any]:
        usage = self.usage()
        if streaming:
            usage = {k: v for k, v in usage.items() if k != "output_tokens_details"}
            usage["output_tokens"] = 1
        return {
            "id": self.msg_id,
            "type": "message",
            "role": "assistant",
            "model": self.body["model"],
            "content": [] if streaming else self.blocks(),
            "stop_reason": None if streaming else self.stop_reason,
            "stop_sequence": None if streaming else self.stop_sequence,
            "usage": usage,
        }

    def frames(self) -> list[Frame]:
        frames: list[Frame] = [
            ("message_start", {"type": "message_start", "message": self.message(streaming=True)}),
            ("ping", {"type": "ping"}),
        ]
        for index, block in enumerate(self.blocks()):
            frames.extend(self._block_frames(index, block))
        usage = self.usage()
        delta = {"stop_reason": self.stop_reason, "stop_sequence": self.stop_sequence}
        frames.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
        frames.append(("message_stop", {"type": "message_stop"}))
        return frames

    def _block_frames(self, index: int, block: dict[str, Any]) -> list[Frame]:
        kind = block["type"]
        start: dict[str, Any]
        if kind == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": t} for t in self.thinking_pieces]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif kind == "text":
            start = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": t} for t in self.text_pieces]
        else:
            start = {**block, "input": {}}
            # Like the real API, a call without arguments streams one empty fragment.
            args = orjson.dumps(block["input"]).decode() if block["input"] else ""
            pieces = _split(args, 3) if args else [""]
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
        frames: list[Frame] = [
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
        ]
        frames += [
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
            for d in deltas
        ]
        frames.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        return frames


def _sse(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class FakeAnthropic:
    """The fake server: ``start()`` / ``stop()`` or a ``with`` block; ``base_url`` for
    ``AsyncAnthropic(base_url=...)``. Counts streams the client abandoned in
    ``disconnects`` and streams sent to the end in ``completed_streams``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        chunks: int = 4,
        delay_s: float = 0.0,
        api_key: str | None = None,
    ) -> None:
        self.host, self.port, self.chunks, self.delay_s = host, port, chunks, delay_s
        self.api_key = api_key
        self.requests: list[ReceivedRequest] = []
        self.disconnects = 0
        self.completed_streams = 0
        self._replies: collections.deque[Reply] = collections.deque()
        self._disconnected = threading.Event()
        self._ids = itertools.count(1)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def last_request(self) -> ReceivedRequest:
        return self.requests[-1]

    def enqueue(self, *replies: Reply, **reply_fields: Any) -> None:
        """Scripts the next answers, in order: ``enqueue(Reply(...), ...)`` or
        ``enqueue(text="hi", stop_reason="max_tokens")`` for one reply."""
        self._replies.extend(replies or (Reply(**reply_fields),))

    def reset(self) -> None:
        """Forgets requests, scripted replies and counters (between tests)."""
        self.requests.clear()
        self._replies.clear()
        self.disconnects = self.completed_streams = 0
        self._disconnected.clear()

    async def wait_for_disconnect(self, wait_s: float = 5.0) -> bool:
        """Waits, off the caller's event loop, until a client abandoned a stream."""
        return await asyncio.to_thread(self._disconnected.wait, wait_s)

    def wait_for_disconnect_blocking(self, wait_s: float = 5.0) -> bool:
        """``wait_for_disconnect`` for synchronous tests (it blocks the calling thread)."""
        return self._disconnected.wait(wait_s)

    def start(self) -> FakeAnthropic:
        config = uvicorn.Config(
            self._app,
            host=self.host,
            port=self.port,
            http="httptools",
            interface="asgi3",
            lifespan="off",
            proxy_headers=False,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-anthropic", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Anthropic server did not start")
            time.sleep(0.005)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/healthz":
            await self._json(send, 200, {"ok": True})
            return
        if scope["method"] != "POST" or scope["path"] != "/v1/messages":
            await self._json(send, 404, _error_body("not_found_error", "Not found"))
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        try:
            body = orjson.loads(b"".join(chunks))
        except orjson.JSONDecodeError:
            body = {}
        self.requests.append(ReceivedRequest("POST", scope["path"], headers, body))
        await self._messages(headers, body, receive, send)

    async def _messages(
        self, headers: dict[str, str], body: dict[str, Any], receive: Receive, send: Send
    ) -> None:
        if not self._authorized(headers):
            error = _error_body("authentication_error", "invalid x-api-key")
            await self._json(send, 401, error)
            return
        reply = self._replies.popleft() if self._replies else Reply()
        if reply.status != 200:
            error_type = reply.error_type or ERROR_TYPES.get(reply.status, "api_error")
            error = _error_body(error_type, reply.error_message)
            await self._json(send, reply.status, error, reply.headers)
            return
        invalid = _validation_error(body)
        if invalid is not None:
            await self._json(send, 400, _error_body("invalid_request_error", invalid))
            return
        script = _Script(body, reply, self.chunks, f"msg_fake_{next(self._ids):08d}")
        delay = self.delay_s if reply.delay_s is None else reply.delay_s
        if body.get("stream"):
            await self._stream(send, receive, script.frames(), reply, delay)
            return
        # A whole answer takes as long as its stream would have: one delay per event.
        if delay and not await self._generate(receive, delay * len(script.frames())):
            return
        await self._json(send, 200, script.message(streaming=False), reply.headers)

    async def _generate(self, receive: Receive, seconds: float) -> bool:
        """Waits ``seconds``; False (a disconnect counted) when the client left meanwhile."""
        watch = asyncio.ensure_future(_wait_disconnect(receive))
        try:
            await asyncio.wait((watch,), timeout=seconds)
            if watch.done():
                self.disconnects += 1
                self._disconnected.set()
                return False
            return True
        finally:
            watch.cancel()

    def _authorized(self, headers: dict[str, str]) -> bool:
        key = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer")
        key = key.strip()
        return bool(key) and (self.api_key is None or key == self.api_key)

    async def _json(
        self, send: Send, status: int, data: dict[str, Any], extra: Mapping[str, str] = {}
    ) -> None:
        payload = orjson.dumps(data)
        headers = [(b"content-type", b"application/json"), (b"request-id", b"req_fake")]
        headers += [(k.encode(), v.encode()) for k, v in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _stream(
        self, send: Send, receive: Receive, frames: list[Frame], reply: Reply, delay_s: float
    ) -> None:
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        headers += [(k.encode(), v.encode()) for k, v in reply.headers.items()]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if reply.error_after is not None:
            error_type = reply.error_type or "overloaded_error"
            frames = [
                *frames[: reply.error_after],
                ("error", _error_body(error_type, reply.error_message)),
            ]
        watch = asyncio.ensure_future(_wait_disconnect(receive))
        try:
            for name, data in frames:
                if delay_s:
                    await asyncio.wait((watch,), timeout=delay_s)
                if watch.done():
                    self.disconnects += 1
                    self._disconnected.set()
                    return
                await send(
                    {"type": "http.response.body", "body": _sse(name, data), "more_body": True}
                )
            await send({"type": "http.response.body", "body": b""})
            self.completed_streams += 1
        finally:
            watch.cancel()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake Anthropic Messages API server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--chunks", type=int, default=20, help="text deltas per answer")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="delay before each event")
    args = parser.parse_args(argv)
    fake = FakeAnthropic(
        host=args.host, port=args.port, chunks=args.chunks, delay_s=args.delay_ms / 1000
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with fake:
        print(fake.base_url, flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
