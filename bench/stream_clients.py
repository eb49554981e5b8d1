"""Many long SSE streams held open at once, each timed event by event.

A client is an ``asyncio.Protocol`` on one connection: it sends one streaming request,
stamps every arrival that carries text deltas and closes at ``[DONE]``. That keeps the
load generator's own cost per event to a clock read and two byte counts, so thousands of
streams fit in one process beside the gateway under test.
"""

from __future__ import annotations

import asyncio
import gc
import re
import resource
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.loadgen import Target

# A text delta as the OpenAI chunks (and the upstream's own events) carry it; an empty
# content (the role chunk) is not a token.
DELTA = b'"content":"'
EMPTY = b'"content":""'
UPSTREAM_DELTA = b'"text_delta"'


def raise_fd_limit() -> int:
    """Raises this process's open-file limit (inherited by the gateways it starts)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass
class StreamsResult:
    started: int = 0
    completed: int = 0
    refused: int = 0  # answered at once with a non-200 status (503 under a cap)
    errors: int = 0  # reset, refused connection, cut stream, timed out
    events: int = 0
    gaps: list[float] = field(default_factory=list)  # seconds between token arrivals
    first_tokens: list[float] = field(default_factory=list)
    peak_open: int = 0
    open_now: int = 0
    streaming_now: int = 0  # answered 200 and not ended yet
    peak_streaming: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    refusals: dict[bytes, int] = field(default_factory=dict)  # error codes of non-200s


class _Stream(asyncio.Protocol):
    def __init__(self, payload: bytes, result: StreamsResult, anthropic: bool) -> None:
        self.payload = payload
        self.result = result
        self.marker = UPSTREAM_DELTA if anthropic else DELTA
        self.empty = b"\x00" if anthropic else EMPTY
        self.done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.t0 = 0.0
        self.last = 0.0
        self.status = 0
        self.tail = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.t0 = time.perf_counter()
        transport.write(self.payload)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        if not self.status:
            self.status = int(data[9:12])
            self.result.statuses[self.status] = self.result.statuses.get(self.status, 0) + 1
            if self.status == 200:
                self.result.streaming_now += 1
                self.result.peak_streaming = max(
                    self.result.peak_streaming, self.result.streaming_now
                )
            else:
                code = re.search(rb'"code":"([a-z_]+)"', data)
                reason = code.group(1) if code else b"?"
                self.result.refusals[reason] = self.result.refusals.get(reason, 0) + 1
                self._finish(False)
                return
        count = data.count(self.marker) - data.count(self.empty)
        if count > 0:
            result = self.result
            if self.last:
                result.gaps.append(now - self.last)
            else:
                result.first_tokens.append(now - self.t0)
            result.gaps.extend([0.0] * (count - 1))
            result.events += count
            self.last = now
        window = self.tail + data[-32:]
        if b"[DONE]" in window or b"message_stop" in window:
            self._finish(True)
        self.tail = data[-16:]

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish(False)

    def _finish(self, ok: bool) -> None:
        if not self.done.done():
            self.done.set_result(ok)
            if self.status == 200:
                self.result.streaming_now -= 1
        if self.transport is not None:
            self.transport.close()


async def _one(target: Target, result: StreamsResult, anthropic: bool, limit_s: float) -> None:
    parts = urlsplit(target.url)
    loop = asyncio.get_running_loop()
    result.started += 1
    try:
        _, stream = await asyncio.wait_for(
            loop.create_connection(
                lambda: _Stream(target.request_bytes(), result, anthropic),
                parts.hostname or "127.0.0.1",
                parts.port or 80,
            ),
            limit_s,
        )
    except (OSError, TimeoutError):
        result.errors += 1
        return
    result.open_now += 1
    result.peak_open = max(result.peak_open, result.open_now)
    try:
        ok = await asyncio.wait_for(asyncio.shield(stream.done), limit_s)
    except TimeoutError:
        ok = False
    finally:
        result.open_now -= 1
        if stream.transport is not None:
            stream.transport.close()
    if ok:
        result.completed += 1
    elif stream.status not in (0, 200):
        result.refused += 1
    else:
        result.errors += 1


async def hold_streams(
    target: Target,
    streams: int,
    *,
    ramp_s: float,
    timeout_s: float = 90.0,
    anthropic: bool = False,
    into: StreamsResult | None = None,
) -> StreamsResult:
    """Opens ``streams`` streams evenly over ``ramp_s`` seconds and waits for all of them
    (``into`` lets a sampler read the number of open streams meanwhile); ``anthropic``:
    the answers are Anthropic's events (the upstream's own, or the Messages API's), not
    OpenAI's chunks. The load generator's own garbage collector is off meanwhile: its
    full collections (tens of milliseconds at 500 streams) would be counted as the
    gateway's inter-token latency."""
    result = into if into is not None else StreamsResult()
    tasks = []
    gc.disable()
    try:
        started = time.perf_counter()
        for i in range(streams):
            delay = started + ramp_s * i / streams - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(_one(target, result, anthropic, timeout_s)))
        await asyncio.gather(*tasks)
    finally:
        gc.enable()
    return result
