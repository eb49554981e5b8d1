"""uvicorn's httptools protocol, with the writes of one event-loop turn sent as one.

uvicorn writes the status line and headers, then every body message, each with its own
socket write: a system call that also wakes the reader, the most expensive thing the
edge does per message on loopback and in virtual machines. A JSON answer took two
writes; a stream, one for the headers, one per frame and one for its end. Here the
writes a connection makes within one turn of the event loop are joined and handed to the
socket when the turn ends, as Node's HTTP server corks a socket until the next tick: a
JSON answer is one write, and the frames of events that arrived together leave together.
Nothing waits longer than the rest of the turn, and flow control is the socket's own.

It also puts a writer of the response's body in the scope (``BODY_WRITER``), for a
stream whose frames need not pass through every middleware, nor through an ASGI message
and a coroutine each, and a way to be told when the client goes away (``ON_DISCONNECT``),
for a stream that need not keep a task waiting for ``http.disconnect``.

It also keeps less per connection than uvicorn does: its events (a request's, the flow
control's) are :class:`SlimEvent` s and its queue of pipelined requests a list, not an
``asyncio.Event`` and a ``collections.deque`` that each hold a 64-slot block even when
empty (2.3 KB of a connection's objects, about a tenth of what an open stream holds).

It also closes a connection whose request head (request line and headers) is not
complete ``header_timeout_s`` after its first byte, or after the connection opened: a
slowloris client that sends its headers a byte at a time, or nothing at all, holds a
connection for seconds, not for ever. (uvicorn's keep-alive timeout is cancelled by
any byte, and its limit on an incomplete head is a size, not a time.)
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from drafter.edge.server.slim_event import SlimEvent


class TurnBufferedTransport(asyncio.Transport):
    """A transport whose writes are joined until the end of the event loop's turn."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()


DEFAULT_HEADER_TIMEOUT_S = 10.0
# The ASGI scope extension that holds the connection's :class:`BodyWriter`, below every
# middleware: a long response's frames can go straight to the socket's buffer
# (``EventStreamResponse``), while its start still passes through the middleware, which
# looks at nothing else.
BODY_WRITER = "drafter.body_writer"
# The scope extension that takes a callback to call if the client goes away before the
# response is complete (None takes it back): what a stream needs to stop, without a task
# of its own waiting on ``receive()`` for ``http.disconnect``.
ON_DISCONNECT = "drafter.on_disconnect"
Callback = Callable[[], None]
DisconnectWatch = Callable[[Callback | None], None]


class TurnBufferedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a :class:`TurnBufferedTransport`, with a
    deadline on each request head (see :func:`with_header_timeout`)."""

    header_timeout_s: ClassVar[float] = DEFAULT_HEADER_TIMEOUT_S
    # Slots, not attributes: uvicorn's own fill 28 of the 30 keys an instance's
    # attributes may share with its class; past them each connection gets a dict of its
    # own (1.6 KB instead of the 0.3 KB its attributes take inline).
    __slots__ = ("_head_deadline", "_on_disconnect", "_self_ref")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pipeline = _Pipeline()  # type: ignore[assignment]
        self._self_ref = weakref.ref(self)  # one per connection, for each request's watch
        self._head_deadline: asyncio.TimerHandle | None = None
        self._on_disconnect: Callback | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(TurnBufferedTransport(transport, self.loop))
        _slim(self.flow, "_is_writable_event")
        self._arm_head_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_deadline is None:
            self._arm_head_deadline()

    def on_headers_complete(self) -> None:
        self._disarm_head_deadline()
        super().on_headers_complete()
        self._on_disconnect = None
        cycle = self.cycle
        if cycle is not None and cycle.scope is self.scope:
            _slim(cycle, "message_event")
            scope: dict[str, Any] = self.scope  # type: ignore[assignment]
            extensions = scope.setdefault("extensions", {})
            cycle_ref = weakref.ref(cycle)
            extensions[BODY_WRITER] = BodyWriter(cycle_ref)
            extensions[ON_DISCONNECT] = _disconnect_watch(self._self_ref, cycle_ref)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)
        callback, self._on_disconnect = self._on_disconnect, None
        if callback is not None and self.cycle is not None and self.cycle.disconnected:
            callback()

    def _arm_head_deadline(self) -> None:
        self._head_deadline = self.loop.call_later(self.header_timeout_s, self._head_too_slow)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


class _Pipeline(list[Any]):
    """uvicorn's queue of pipelined requests (``appendleft``, ``pop``, truth), as a list:
    almost always empty, and a deque holds 760 bytes even then."""

    def appendleft(self, item: Any) -> None:
        self.insert(0, item)


def _slim(owner: object, name: str) -> None:
    """Swaps the ``asyncio.Event`` uvicorn made at ``owner.name`` for a :class:`SlimEvent`
    in the same state (nothing waits on it yet); left as it is if uvicorn has none there."""
    event = getattr(owner, name, None)
    if isinstance(event, asyncio.Event):
        setattr(owner, name, SlimEvent(event.is_set()))


class BodyWriter:
    """Writes a response's body after its start, as uvicorn's ``send`` would for
    ``http.response.body`` messages (chunked framing, nothing after the client left or
    for a HEAD request), but as a plain call: a stream's frame costs no ASGI message and
    no coroutine. :meth:`end` ends the response through uvicorn's ``send``, which does
    what follows an answer (keep-alive, the next request).

    The cycle is held through a weak reference: it holds the scope, which holds this
    writer, so a strong one would make every request's scope and cycle a reference cycle,
    freed only by the garbage collector instead of at once."""

    __slots__ = ("_cycle", "wrote")

    def __init__(self, cycle: weakref.ref[RequestResponseCycle]) -> None:
        self._cycle = cycle
        # Set by every write, for whoever looks whether anything was written meanwhile
        # (a keep-alive's timer) to clear.
        self.wrote = False

    def write(self, body: bytes) -> None:
        """Writes ``body`` as the response's next piece (dropped if the client left)."""
        cycle = self._cycle()
        if cycle is None or cycle.disconnected or not body:
            return
        if not cycle.response_started or cycle.response_complete:
            raise RuntimeError("A body is written between the response's start and end.")
        self.wrote = True
        if cycle.chunked_encoding:
            cycle.transport.write(b"%x\r\n%b\r\n" % (len(body), body))
        elif cycle.scope["method"] != "HEAD":
            if len(body) > cycle.expected_content_length:
                raise RuntimeError("Response content longer than Content-Length")
            cycle.expected_content_length -= len(body)
            cycle.transport.write(body)

    @property
    def writable(self) -> bool:
        """A piece written now goes out with the turn: the response is under way, the
        client is there and the socket's buffer is under its high-water mark."""
        cycle = self._cycle()
        return (
            cycle is not None
            and not cycle.disconnected
            and not cycle.flow.write_paused
            and cycle.response_started
            and not cycle.response_complete
        )

    @property
    def paused(self) -> bool:
        """The socket's buffer is over its high-water mark: :meth:`drain` before more."""
        cycle = self._cycle()
        return cycle is not None and cycle.flow.write_paused and not cycle.disconnected

    async def drain(self) -> None:
        """Returns when the socket takes writes again (or the client left)."""
        cycle = self._cycle()
        if cycle is not None and cycle.flow.write_paused and not cycle.disconnected:
            await cycle.flow.drain()

    async def end(self) -> None:
        """Ends the response."""
        cycle = self._cycle()
        if cycle is not None:
            await cycle.send({"type": "http.response.body", "body": b"", "more_body": False})


def _disconnect_watch(
    protocol: weakref.ref[TurnBufferedHttpToolsProtocol],
    cycle: weakref.ref[RequestResponseCycle],
) -> DisconnectWatch:
    """Registers the callback for the client going away during this request's response
    (called at once if it already has); weak references, as for :class:`BodyWriter`."""

    def watch(callback: Callback | None) -> None:
        live, current = protocol(), cycle()
        if current is None:
            return
        if current.disconnected:
            if callback is not None:
                callback()
        elif live is not None and live.cycle is current:
            live._on_disconnect = callback

    return watch


def with_header_timeout(timeout_s: float) -> type[TurnBufferedHttpToolsProtocol]:
    """The protocol class uvicorn instantiates, with its request-head deadline."""
    return type(
        "TurnBufferedHttpToolsProtocol",
        (TurnBufferedHttpToolsProtocol,),
        {"header_timeout_s": timeout_s},
    )
