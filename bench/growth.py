"""How Drafter's cost grows: per stream chunk, and per open stream."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson

from bench.gateways import Gateway, start_drafter
from bench.loadgen import Target, percentile, run_load
from bench.procs import ROOT, stop, tree_cpu_seconds, tree_rss_mb
from tests.support.stack import free_port

# The fake upstream streams its echo of the prompt split into N chunks, so the prompt must
# be longer than the most chunks asked for; the same prompt for every N keeps the input
# cost constant, and the slope between N gives the cost of one chunk.
CHUNKS = (20, 200, 2000)
PROMPT = [{"role": "user", "content": "Tell me a long story. " * 100}]


def stream_target(gateway: Gateway) -> Target:
    body = {"model": "claude-haiku-4-5", "messages": PROMPT, "max_tokens": 4096, "stream": True}
    return Target(
        gateway.chat_url,
        orjson.dumps(body),
        {"Authorization": f"Bearer {gateway.api_key}"},
        b'"content":"',
    )


def start_fake(chunks: int, delay_ms: int) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.anthropic_server",
            "--port",
            str(port),
            "--chunks",
            str(chunks),
            "--delay-ms",
            str(delay_ms),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.readline()
    return process, f"http://127.0.0.1:{port}"


async def per_chunk(workdir: Path) -> list[str]:
    """CPU per stream at each chunk count; the slope between the ends is one chunk's cost.
    The fake upstream sends its chunks back to back, so some arrive together and are
    coalesced: this is the cost under a burst, the worst case for per-chunk work."""
    lines = ["| chunks per stream | streams/s | CPU ms per stream |", "|---|---|---|"]
    per_stream: dict[int, float] = {}
    for chunks in CHUNKS:
        fake, upstream = start_fake(chunks, 0)
        gateway = start_drafter(workdir / f"chunks-{chunks}", upstream)
        try:
            target = stream_target(gateway)
            await run_load(target, concurrency=4, requests=20)
            requests = max(40, 4000 // chunks * 10)
            before = tree_cpu_seconds(gateway.process.pid)
            result = await run_load(target, concurrency=8, requests=requests, max_seconds=20)
            cpu_ms = (tree_cpu_seconds(gateway.process.pid) - before) * 1000
            per_stream[chunks] = cpu_ms / max(1, len(result.latencies))
            lines.append(f"| {chunks} | {result.rps:.1f} | {per_stream[chunks]:.2f} |")
        finally:
            gateway.stop()
            stop(fake)
    first, last = CHUNKS[0], CHUNKS[-1]
    slope_us = (per_stream[last] - per_stream[first]) * 1000 / (last - first)
    fixed_ms = per_stream[first] - slope_us * first / 1000
    lines += [
        "",
        f"Marginal CPU per chunk: {slope_us:.1f} µs; fixed CPU per stream: {fixed_ms:.2f} ms.",
    ]
    return lines


async def _probe_lag(url: str, stop_at: float) -> list[float]:
    samples = []
    async with httpx.AsyncClient() as client:
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            try:
                await client.get(url, timeout=5)
                samples.append(time.perf_counter() - t0)
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.02)
    return samples


async def _sample_rss(pid: int, stop_at: float) -> float:
    peak = 0.0
    while time.perf_counter() < stop_at:
        peak = max(peak, tree_rss_mb(pid, "VmRSS:"))
        await asyncio.sleep(0.05)
    return peak


async def open_streams(workdir: Path) -> list[str]:
    lines = [
        "| open streams | RSS idle MB | RSS peak MB | KB per open stream | "
        "/healthz p50 / p99 ms while streaming | errors |",
        "|---|---|---|---|---|---|",
    ]
    fake, upstream = start_fake(100, 30)  # each stream lasts about 3 s
    gateway = start_drafter(workdir / "streams", upstream)
    try:
        target = stream_target(gateway)
        await run_load(target, concurrency=8, requests=16)
        for streams in (32, 128, 512):
            idle = tree_rss_mb(gateway.process.pid, "VmRSS:")
            stop_at = time.perf_counter() + 2.5
            load = asyncio.create_task(
                run_load(target, concurrency=streams, requests=streams, max_seconds=30)
            )
            lag, peak = await asyncio.gather(
                _probe_lag(f"{gateway.base_url}/healthz", stop_at),
                _sample_rss(gateway.process.pid, stop_at),
            )
            result = await load
            per_stream_kb = max(0.0, peak - idle) * 1024 / streams
            lines.append(
                f"| {streams} | {idle:.0f} | {peak:.0f} | {per_stream_kb:.0f} | "
                f"{percentile(lag, 50) * 1000:.1f} / {percentile(lag, 99) * 1000:.1f} | "
                f"{result.errors} |"
            )
    finally:
        gateway.stop()
        stop(fake)
    return lines


async def growth_report(workdir: Path) -> list[str]:
    return [
        "Drafter alone, cost per chunk (streams at concurrency 8):",
        "",
        *await per_chunk(workdir),
        "",
        "Drafter alone, open streams (100 chunks 30 ms apart, about 3 s each):",
        "",
        *await open_streams(workdir),
    ]


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print("\n".join(asyncio.run(growth_report(Path(tmp)))))
