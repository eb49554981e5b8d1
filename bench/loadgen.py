"""A small, cheap HTTP/1.1 load generator on raw asyncio streams.

It keeps one keep-alive connection per concurrent worker and understands just enough
HTTP (Content-Length and chunked bodies) to time whole responses and the first token of
a stream, so that its own CPU cost stays far below the servers' under test.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Target:
    url: str
    body: bytes
    headers: dict[str, str]
    first_token_marker: bytes  # bytes that show the first token arrived

    def request_bytes(self) -> bytes:
        parts = urlsplit(self.url)
        head = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
        head += [f"{k}: {v}" for k, v in self.headers.items()]
        head += ["Content-Type: application/json", f"Content-Length: {len(self.body)}"]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + self.body


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    first_tokens: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def _read_headers(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


async def _read_body(
    reader: asyncio.StreamReader, headers: dict[str, str], marker: bytes, t0: float
) -> float | None:
    """Reads the body; returns when the marker was first seen (seconds since t0)."""
    first: float | None = None
    if "content-length" in headers:
        data = await reader.readexactly(int(headers["content-length"]))
        return time.perf_counter() - t0 if marker in data else None
    while True:  # chunked
        size = int((await reader.readline()).split(b";")[0], 16)
        if size == 0:
            await reader.readline()
            return first
        data = await reader.readexactly(size + 2)
        if first is None and marker in data:
            first = time.perf_counter() - t0


async def _worker(target: Target, count: list[int], result: Result, deadline: float) -> None:
    parts = urlsplit(target.url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    payload = target.request_bytes()
    try:
        while count[0] > 0 and time.perf_counter() < deadline:
            count[0] -= 1
            t0 = time.perf_counter()
            writer.write(payload)
            status, headers = await _read_headers(reader)
            first = await _read_body(reader, headers, target.first_token_marker, t0)
            if status != 200:
                result.errors += 1
                continue
            result.latencies.append(time.perf_counter() - t0)
            if first is not None:
                result.first_tokens.append(first)
    finally:
        writer.close()


async def run_load(
    target: Target, *, concurrency: int, requests: int, max_seconds: float = 60.0
) -> Result:
    """Sends ``requests`` requests over ``concurrency`` connections (bounded in time)."""
    result = Result()
    count = [requests]
    started = time.perf_counter()
    deadline = started + max_seconds
    outcomes = await asyncio.gather(
        *(_worker(target, count, result, deadline) for _ in range(concurrency)),
        return_exceptions=True,
    )
    result.errors += sum(1 for o in outcomes if isinstance(o, BaseException))
    result.elapsed = time.perf_counter() - started
    return result
