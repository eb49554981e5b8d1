"""A server-sent-events response on plain asyncio, with keep-alive comments.

Starlette's ``StreamingResponse`` watches for the client going away with an anyio task
group and cancel scopes, which cost about as much CPU per stream as the rest of the
edge's SSE work. :class:`EventStreamResponse` cancels its sending task when the client
goes away: told so by Drafter's HTTP server (``ON_DISCONNECT``), or under another server
by a task that waits for ``http.disconnect``. Either way the frames' generator is
closed, so whatever it reads from (a gRPC stream, and behind it the upstream request) is
cancelled with it.

Under Drafter's HTTP server the response can also hand its writer to whoever produces
the frames (``on_writer``): a frame that is ready while the generator waits for its next
one (the answer's text, taken as it arrives from upstream) is written there and then,
when the writer is ``writable``, rather than through the generator.

While the frames' generator is silent (a model thinking), a comment goes out every
``keepalive_s`` seconds (or the API's own keep-alive frame: Anthropic's ``event: ping``).
One timer per stream looks, when it fires, whether anything was written since it last
looked: a frame costs a flag set, not a timer of its own nor a clock read.

Per event, the cost is kept to the stream's own work: the frames are sent from a task of
their own (a wake-up resumes that short chain of coroutines, not the app's whole stack of
middleware and routing), and, under Drafter's HTTP server, written straight to the
connection (``BODY_WRITER``), a plain call per frame, with no ASGI message and no
coroutine: the middleware sees the response's start, which is all it looks at, not every
frame. There the task is also handed off to the server, so that while a stream flows
nothing of the request's middleware and routing is kept, not even the wrappers of
``send`` and ``receive``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Any, Protocol

from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from drafter.asgi_handoff import hand_off
from drafter.edge.server.http_protocol import (
    BODY_WRITER,
    ON_DISCONNECT,
    BodyWriter,
    DisconnectWatch,
)

KEEPALIVE = b": keep-alive\n\n"


class FrameWriter(Protocol):
    """Where a stream's frames are written straight to the connection."""

    @property
    def writable(self) -> bool:
        """A frame written now goes out (the client is there, the socket not full)."""
        ...

    def write(self, frame: bytes) -> None: ...


# A timer that fires this close to its time is taken as on time (the loop's clock is coarse).
_EARLY_S = 0.002


class EventStreamResponse(StreamingResponse):
    """``StreamingResponse`` whose disconnect watch is plain asyncio, and which sends
    ``keepalive`` (by default ``KEEPALIVE``) whenever nothing was written for
    ``keepalive_s`` seconds."""

    def __init__(
        self,
        content: AsyncIterable[bytes],
        *,
        keepalive_s: float | None = None,
        keepalive: bytes = KEEPALIVE,
        on_writer: Callable[[FrameWriter | None], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(content, **kwargs)
        self._keepalive_s = keepalive_s
        self._keepalive = keepalive
        # Told the writer while frames are written straight to the connection (then None).
        self._on_writer = on_writer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = scope.get("extensions") or {}
        writer: BodyWriter | None = extensions.get(BODY_WRITER)
        watch = extensions.get(ON_DISCONNECT)
        loop = asyncio.get_running_loop()
        # Each event wakes the task that sends the frames, and a task resumes its whole
        # chain of coroutines: the frames are sent from a short one, not from within the
        # app's stack of middleware and routing.
        if writer is not None and watch is not None and not scope.get("fastapi.telemetry"):
            # Under Drafter's HTTP server (and unless the request is traced: its span
            # must cover the whole stream) that stack is not even kept: the head goes
            # through the middleware, which looks at nothing else, and the rest, which
            # writes straight to the connection, is handed off to the server
            # (``drafter.asgi_handoff``): the app returns, the stack unwinds, and the
            # request's own task sends the rest.
            await send(self._head())
            # The rest is given no ``send``: the middleware's wrappers of it, and what
            # they hold, go with the stack.
            rest = self._relay(None, writer, watch=watch)
            if not hand_off(scope, rest):
                await loop.create_task(rest)
            return
        # Otherwise from a task of their own, awaited here: cancelling the request (the
        # server stopping) cancels it.
        await loop.create_task(self._relay(send, writer, receive=receive))

    def _head(self) -> Message:
        headers = self.raw_headers
        return {"type": "http.response.start", "status": self.status_code, "headers": headers}

    async def _relay(
        self,
        send: Send | None,
        writer: BodyWriter | None,
        *,
        receive: Receive | None = None,
        watch: DisconnectWatch | None = None,
    ) -> None:
        """The response (see :meth:`stream_response`); a client that goes away, told by
        ``watch`` or else by ``receive``, stops it (nothing failed)."""
        task = asyncio.current_task()
        assert task is not None
        gone = False

        def left() -> None:
            nonlocal gone
            gone = True
            task.cancel()

        watcher = None
        if watch is not None:
            watch(left)
        elif receive is not None:
            watcher = asyncio.get_running_loop().create_task(_wait_for_disconnect(receive, left))
        try:
            if send is not None:
                await self.stream_response(send, writer)
            else:  # handed off: the head went already; one coroutine less kept meanwhile
                assert writer is not None
                await self._write_frames(writer)
                await writer.end()
        except asyncio.CancelledError:
            if not gone:
                raise
            task.uncancel()  # the task may be the request's own, which goes on
        finally:
            if watch is not None:
                watch(None)
            elif watcher is not None:
                watcher.cancel()
            closing = getattr(self.body_iterator, "aclose", None)
            if closing is not None:
                with contextlib.suppress(Exception):
                    await closing()
        if self.background is not None:
            await self.background()

    async def stream_response(self, send: Send, writer: BodyWriter | None = None) -> None:
        """The head and the end through ``send``, the frames through ``writer`` when
        there is one, else through ``send`` too. (A stream handed off has no ``send``:
        :meth:`_relay` writes its frames and its end through ``writer``.)"""
        await send(self._head())
        if writer is not None:
            await self._write_frames(writer)
        else:
            await self._send_frames(send)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _write_frames(self, writer: BodyWriter) -> None:
        """Each frame a plain write; only a socket over its high-water mark is awaited."""
        keepalive = (
            _WrittenKeepAlive(writer, self._keepalive_s, self._keepalive)
            if self._keepalive_s
            else None
        )
        write = writer.write
        if self._on_writer is not None:
            self._on_writer(writer)
        try:
            async for chunk in self.body_iterator:
                write(chunk if isinstance(chunk, bytes) else _as_bytes(chunk, self.charset))
                if writer.paused:
                    await writer.drain()
        finally:
            if self._on_writer is not None:
                self._on_writer(None)
            if keepalive is not None:
                keepalive.stop()

    async def _send_frames(self, send: Send) -> None:
        keepalive = (
            _KeepAlive(send, self._keepalive_s, self._keepalive) if self._keepalive_s else None
        )
        try:
            async for chunk in self.body_iterator:
                body = chunk.encode(self.charset) if isinstance(chunk, str) else chunk
                if keepalive is None:
                    await send({"type": "http.response.body", "body": body, "more_body": True})
                else:
                    await keepalive.write(body)
        finally:
            if keepalive is not None:
                await keepalive.stop()


def _as_bytes(chunk: str | memoryview, charset: str) -> bytes:
    return chunk.encode(charset) if isinstance(chunk, str) else bytes(chunk)


async def _wait_for_disconnect(receive: Receive, left: Callable[[], None]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    left()


class _WrittenKeepAlive:
    """Writes ``frame`` through a :class:`BodyWriter` when nothing was written for
    ``interval`` seconds, without standing between the frames and the writer: the
    writer marks each write (``BodyWriter.wrote``), which the timer looks at only when it
    fires, every half interval. A write seen there was at most half an interval ago, so
    the keep-alive goes half an interval later: between half an interval and an interval
    after the write (a comment more than strictly needed costs a client nothing). After a
    keep-alive, silence gets the next one an interval later."""

    def __init__(self, writer: BodyWriter, interval: float, frame: bytes = KEEPALIVE) -> None:
        self._writer = writer
        self._interval = interval
        self._frame = frame
        self._loop = asyncio.get_running_loop()
        writer.wrote = False
        self._due_at = self._loop.time() + interval
        self._timer = self._loop.call_at(self._due_at - interval / 2, self._look)

    def _look(self) -> None:
        now = self._loop.time()
        writer = self._writer
        if writer.wrote:
            writer.wrote = False
            self._due_at = now + self._interval / 2
        elif self._due_at - now <= _EARLY_S:
            if not writer.paused:  # a socket still full needs no comment to stay open
                writer.write(self._frame)
                writer.wrote = False
            self._due_at = now + self._interval
        self._timer = self._loop.call_at(min(now + self._interval / 2, self._due_at), self._look)

    def stop(self) -> None:
        self._timer.cancel()


class _KeepAlive:
    """Writes frames as ASGI messages, and ``frame`` after ``interval`` seconds without
    one (from a task, as a message's ``send`` is a coroutine)."""

    def __init__(
        self, send: Callable[[Message], Awaitable[None]], interval: float, frame: bytes = KEEPALIVE
    ) -> None:
        self._send = send
        self._interval = interval
        self._frame = frame
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()
        self._writing = False
        self._comment: asyncio.Task[None] | None = None
        self._timer = self._loop.call_at(self._last + interval, self._due)

    async def write(self, body: bytes | memoryview) -> None:
        if self._comment is not None:  # one write at a time
            await asyncio.shield(self._comment)
        self._writing = True
        try:
            await self._send({"type": "http.response.body", "body": body, "more_body": True})
        finally:
            self._writing = False
            self._last = self._loop.time()

    def _due(self) -> None:
        due_at = self._last + self._interval
        if self._writing or due_at - self._loop.time() > _EARLY_S:
            self._timer = self._loop.call_at(max(due_at, self._loop.time() + _EARLY_S), self._due)
            return
        self._comment = self._loop.create_task(self._write_comment())

    async def _write_comment(self) -> None:
        try:
            await self._send({"type": "http.response.body", "body": self._frame, "more_body": True})
        finally:
            self._comment = None
            self._last = self._loop.time()
            self._timer = self._loop.call_at(self._last + self._interval, self._due)

    async def stop(self) -> None:
        self._timer.cancel()
        comment = self._comment
        if comment is not None:
            comment.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await comment
            self._timer.cancel()  # the cancelled comment set the next timer as it ended
