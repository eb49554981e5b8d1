"""The chat service's HTTP/1.1 transport to Anthropic: keep-alive connections on asyncio
with httptools' parser (the one uvicorn uses), under the upstream client
(``upstream.client``; for an SDK credential, the anthropic SDK's httpx2 client).

The client builds every request, authenticates, retries and raises its exceptions; this
transport only moves bytes, as the httpx transport interface defines it, for less CPU per
call than the SDK's own transports (the figures are bench/'s).

- Connections are kept per origin and reused when the previous answer was read to its end
  and allowed keep-alive; TCP keep-alive probes as the SDK's own client sets them.
- Timeouts come from the request (``connect``, ``read`` between two reads, ``write`` while
  the socket's buffer is full) and fail as httpx2's ``ConnectTimeout``, ``ReadTimeout``
  and ``WriteTimeout``, which the client retries as attempts that got no answer. The read
  timeout is one timer per connection, looked at only when it fires (and moved on to the
  current wait's deadline then), so a read costs a clock read rather than a timer of its
  own: a stream's reads are its events.
- A pooled connection the server closed while it sat idle is replaced once, when it fails
  before any byte of the answer arrived (the request cannot have been processed).
- Body bytes that arrived since the last read are handed over as one piece, so what
  arrived together is parsed together; ``Content-Encoding`` is decoded by httpx2's
  Response.
- A reader may also take the bytes as they arrive, while it waits for them
  (:func:`take_on_arrival`): within the callback that received them, with no wake-up of
  its task; it says when it wants its task woken after all.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httptools
import httpx2

IDLE_TIMEOUT_S = 30.0
# A timer that fires this close to its time is taken as on time (the loop's clock is coarse).
_EARLY_S = 0.002
MAX_IDLE_PER_ORIGIN = 100
_DEFAULT_PORTS = {"http": 80, "https": 443}
_KEEPALIVE_OPTIONS = tuple(
    (socket.IPPROTO_TCP, option, value)
    for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 60), ("TCP_KEEPCNT", 5))
    if (option := getattr(socket, name, None)) is not None
)

Origin = tuple[str, str, int]


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: writes a request, parses its answer as it arrives."""

    def __init__(self) -> None:
        # Made by the loop's create_connection. Its loop is kept: asyncio's implicit one
        # costs a system call (the process id's check), and a stream reads once per event.
        self._loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.lost: BaseException | None = None
        self.closed = False
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._headers: list[tuple[bytes, bytes]] = []
        self._chunks: list[bytes] = []  # a deque would hold 528 bytes even when empty
        self._head: asyncio.Future[None] | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self.received_any = False
        self.got_head = False
        self.status = 0
        self.complete = False
        self.keep_alive = False
        # The read-timeout watchdog: the wait in progress, its deadline, and one timer.
        self._waiting: asyncio.Future[None] | None = None
        self._wait_deadline = 0.0
        self._read_timeout: float | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._timed_out = False
        # Takes body bytes as they arrive while a read waits (``take_on_arrival``).
        self.on_arrival: OnArrival | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received_any = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx2.RemoteProtocolError(f"invalid HTTP answer: {exc}"))

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if not self.complete:
            self._fail(exc or httpx2.RemoteProtocolError("the server closed the connection"))

    def pause_writing(self) -> None:
        self._writable = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()  # valid only until the message ends
        self.got_head = True
        _wake(self._head)

    def on_body(self, body: bytes) -> None:
        take, waiter = self.on_arrival, self._wakeup
        if take is not None and waiter is not None and not self._chunks and not waiter.done():
            # A read waits with nothing before these bytes: they are taken here. The wait
            # goes on, so its read timeout counts from now.
            if self._read_timeout is not None:
                self._wait_deadline = self._loop.time() + self._read_timeout
            if not take(body):
                return
            body = b""  # taken, but the reader wants its task woken: an empty read
        self._chunks.append(body)
        _wake(waiter)

    def on_message_complete(self) -> None:
        self.keep_alive = self._parser.should_keep_alive()
        self.complete = True
        _wake(self._wakeup)

    def _fail(self, exc: BaseException) -> None:
        if self.lost is None:
            self.lost = exc
        for waiter in (self._head, self._wakeup, self._writable):
            _wake(waiter)
        if self.transport is not None:
            self.transport.close()

    # the exchange
    @property
    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.closed

    async def send(self, head: bytes, body: bytes, write_timeout: float | None) -> None:
        if self.closed or self.transport is None:
            raise httpx2.RemoteProtocolError("the connection is closed")
        self._parser = httptools.HttpResponseParser(self)
        self._headers, self.received_any, self.got_head = [], False, False
        self.complete = self.keep_alive = False
        self._chunks.clear()  # a previous answer closed before it was read leaves its body
        self.on_arrival = None
        self._head = self._loop.create_future()
        self.transport.writelines((head, body))
        if self._writable is not None:
            try:
                async with asyncio.timeout(write_timeout):
                    await self._writable
            except TimeoutError:
                self.transport.close()
                raise httpx2.WriteTimeout("timed out sending the request") from None

    async def head(self, read_timeout: float | None) -> tuple[int, list[tuple[bytes, bytes]]]:
        assert self._head is not None
        try:
            await self._watched(self._head, read_timeout)
        finally:
            self._waiting = None
        if self._timed_out:
            raise httpx2.ReadTimeout("timed out waiting for the answer")
        if not self.got_head:
            raise _transport_error(self.lost or httpx2.RemoteProtocolError("no answer"))
        headers, self._headers = self._headers, []  # handed over, not kept for the body
        return self.status, headers

    async def read(self, read_timeout: float | None) -> bytes | None:
        """The body bytes that arrived since the last read, as one piece (waiting for some
        when none did); None at the end of the body."""
        while True:
            chunks = self._chunks
            if chunks:
                # b"": bytes were taken on arrival, and the reader's task woken for them.
                return chunks.pop() if len(chunks) == 1 else _drain(chunks)
            if self.complete:
                return None
            if self.lost is not None:
                raise _transport_error(self.lost)
            self._wakeup = waiter = self._loop.create_future()
            try:
                # Awaited here, not in a coroutine of the watchdog's: a stream's read waits
                # for as long as the stream lasts, and a coroutine more would be kept.
                await self._watched(waiter, read_timeout)
            finally:
                self._wakeup = self._waiting = None
            if self._timed_out:
                raise httpx2.ReadTimeout("timed out reading the answer")

    def _watched(
        self, waiter: asyncio.Future[None], read_timeout: float | None
    ) -> asyncio.Future[None]:
        """``waiter``, watched by the read-timeout watchdog (``_watch``) unless
        ``read_timeout`` is None: past it the connection is closed and the waiter woken
        (``_timed_out``). The caller awaits it, then clears ``_waiting``."""
        self._read_timeout = read_timeout
        if read_timeout is not None:
            loop = self._loop
            self._wait_deadline = loop.time() + read_timeout
            self._waiting = waiter
            if self._watchdog is None:
                self._watchdog = loop.call_at(self._wait_deadline, self._watch)
        return waiter

    def _watch(self) -> None:
        """The watchdog fired: ends the wait in progress if its deadline has passed, else
        waits on for it; with no wait in progress it stops (the next wait restarts it)."""
        self._watchdog = None
        waiter = self._waiting
        if waiter is None or waiter.done() or self.closed:
            return
        loop = self._loop
        if loop.time() + _EARLY_S < self._wait_deadline:
            self._watchdog = loop.call_at(self._wait_deadline, self._watch)
            return
        self._timed_out = True
        self._close()
        waiter.set_result(None)

    def _close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _drain(chunks: list[bytes]) -> bytes:
    joined = b"".join(chunks)
    chunks.clear()
    return joined


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


def _transport_error(exc: BaseException) -> httpx2.TransportError:
    if isinstance(exc, httpx2.TransportError):
        return exc
    return httpx2.ReadError(f"the connection broke: {exc}")


class _Body(httpx2.AsyncByteStream):
    """The answer's body; closing it hands the connection back when it can be reused.
    Besides httpx2's iteration, :meth:`read` hands over the next piece as a plain
    coroutine (``body_reader``), which is what a stream's readers call once per event."""

    def __init__(self, pool: UpstreamTransport, origin: Origin, conn: _Connection, timeout: Any):
        self._pool, self._origin, self._conn, self._timeout = pool, origin, conn, timeout

    def read(self) -> Awaitable[bytes | None]:
        return self._conn.read(self._timeout)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._conn.read(self._timeout)) is not None:
            yield chunk

    async def aclose(self) -> None:
        self._conn.on_arrival = None  # nor is what it holds kept while the connection idles
        self._pool.release(self._origin, self._conn)


class UpstreamTransport(httpx2.AsyncBaseTransport):
    """HTTP/1.1 over keep-alive connections (TLS for ``https``), per origin."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl_context = ssl_context
        self._idle: dict[Origin, list[_Connection]] = {}

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = httpx2.create_ssl_context()
        return self._ssl_context

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        origin = (url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 80))
        timeouts = request.extensions.get("timeout", {})
        head, body = _request_bytes(request, await request.aread())
        while True:
            conn, pooled = self._take(origin), True
            if conn is None:
                conn, pooled = await self._connect(origin, timeouts.get("connect")), False
            try:
                await conn.send(head, body, timeouts.get("write"))
                status, headers = await conn.head(timeouts.get("read"))
            except httpx2.TransportError:
                conn._close()
                if pooled and not conn.received_any:
                    continue  # the server had closed it while idle: a fresh connection
                raise
            except BaseException:  # cancelled: the answer will never be read
                conn._close()
                raise
            break
        stream = _Body(self, origin, conn, timeouts.get("read"))
        return httpx2.Response(
            status, headers=headers, stream=stream, extensions={"http_version": b"HTTP/1.1"}
        )

    def _take(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < IDLE_TIMEOUT_S:
                return conn
            conn._close()
        return None

    async def _connect(self, origin: Origin, connect_timeout: float | None) -> _Connection:
        scheme, host, port = origin
        tls = self._tls() if scheme == "https" else None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(connect_timeout):
                _, conn = await loop.create_connection(
                    _Connection, host, port, ssl=tls, server_hostname=host if tls else None
                )
        except TimeoutError:
            raise httpx2.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx2.ConnectError(f"cannot connect to {host}:{port}: {exc}") from exc
        sock = conn.transport.get_extra_info("socket") if conn.transport else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                for level, option, value in _KEEPALIVE_OPTIONS:
                    sock.setsockopt(level, option, value)
        return conn

    def release(self, origin: Origin, conn: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if conn.reusable and len(idle) < MAX_IDLE_PER_ORIGIN:
            conn.idle_since = time.monotonic()
            idle.append(conn)
        else:
            conn._close()

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn._close()
        self._idle.clear()


def _request_bytes(request: httpx2.Request, body: bytes) -> tuple[bytes, bytes]:
    """The request line and headers, and the body (one chunk when it is sent chunked)."""
    target = request.url.raw_path
    lines = [request.method.encode() + b" " + target + b" HTTP/1.1\r\n"]
    chunked = False
    for name, value in request.headers.raw:
        if name.lower() == b"transfer-encoding" and value.lower() == b"chunked":
            chunked = True
        lines.append(name + b": " + value + b"\r\n")
    lines.append(b"\r\n")
    if chunked:
        body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    return b"".join(lines), body


# Given body bytes as they arrive; True when the reader's task is to be woken anyway
# (its read then returns b"").
OnArrival = Callable[[bytes], bool]


def take_on_arrival(response: httpx2.Response, take: OnArrival) -> bool:
    """Has ``take`` given ``response``'s body bytes as they arrive while its reader waits
    for them (never while bytes are waiting to be read: those are read first); False
    when the body is not read straight off one of this transport's connections (then
    ``take`` is never called)."""
    stream = getattr(response.stream, "wrapped_stream", response.stream)
    encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
    if not isinstance(stream, _Body) or encoded:
        return False
    stream._conn.on_arrival = take
    return True


def body_reader(response: httpx2.Response) -> Callable[[], Awaitable[bytes | None]]:
    """How to read ``response``'s body piece by piece: each call gives the bytes that
    arrived since the last (None at the end). An answer of this transport that is not
    content-encoded is read straight off its connection, one coroutine call per read (a
    stream's reads are its events); anything else through httpx2's ``aiter_bytes``,
    which decodes. A body wrapped by another stream (one that only adds to its closing)
    names what it wraps as ``wrapped_stream``."""
    stream = getattr(response.stream, "wrapped_stream", response.stream)  # e.g. a key's lease
    encoded = response.headers.get("content-encoding", "identity").lower() != "identity"
    if isinstance(stream, _Body) and not encoded:
        return stream.read
    chunks = aiter(response.aiter_bytes())

    async def read() -> bytes | None:
        return await anext(chunks, None)

    return read
