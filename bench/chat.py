"""Chat benchmark: ``drafter up`` against the fake Anthropic upstream, and the same load
straight at the upstream, so the difference is what Drafter adds; through each of
Drafter's chat surfaces: chat completions and the Responses API (translated) and the
Messages API (passed through).

    python -m bench.chat [--requests 2000] [--chunks 20]

Prints requests/s, p50/p99 latency, added latency, streaming time-to-first-token (and
what Drafter adds to it), CPU milliseconds per request summed over Drafter's process, and
Drafter's peak RSS. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import platform
import tempfile
from pathlib import Path

from bench.gateways import Gateway, start_drafter
from bench.loadgen import Result, percentile, run_load
from bench.procs import (
    ROOT,
    machine_speed_s,
    start_fake_anthropic,
    stop,
    tree_cpu_seconds,
    tree_rss_mb,
)
from bench.targets import APIS, api_target, upstream_target
from tests.support.stack import free_port


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def row(name: str, r: Result, cpu_ms: float | None = None) -> list[str]:
    ttft = percentile(r.first_tokens, 50) if r.first_tokens else float("nan")
    return [
        name,
        f"{r.rps:.0f}",
        ms(percentile(r.latencies, 50)),
        ms(percentile(r.latencies, 99)),
        ms(ttft) if r.first_tokens else "-",
        f"{cpu_ms:.2f}" if cpu_ms is not None else "-",
        str(r.errors),
    ]


async def scenario(
    drafter: Gateway, upstream: str, api: str, stream: bool, concurrency: int, requests: int
) -> list[list[str]]:
    direct = await run_load(
        upstream_target(upstream, stream), concurrency=concurrency, requests=requests
    )
    before = tree_cpu_seconds(drafter.process.pid)
    through = await run_load(
        api_target(drafter, api, stream), concurrency=concurrency, requests=requests
    )
    used_s = tree_cpu_seconds(drafter.process.pid) - before
    cpu_ms = used_s * 1000 / max(1, len(through.latencies))
    label = f"{api} {'stream' if stream else 'json'} c={concurrency}"
    added = percentile(through.latencies, 50) - percentile(direct.latencies, 50)
    rows = [row(f"{label} upstream", direct), row(f"{label} drafter", through, cpu_ms)]
    extra = f"added p50 {ms(added)} ms"
    if stream:
        added_ttft = percentile(through.first_tokens, 50) - percentile(direct.first_tokens, 50)
        extra += f", added TTFT p50 {ms(added_ttft)} ms"
    rows.append([f"{label} →", extra, "", "", "", "", ""])
    return rows


async def main_async(args: argparse.Namespace) -> str:
    upstream_port = free_port()
    fake = start_fake_anthropic(upstream_port, args.chunks)
    upstream = f"http://127.0.0.1:{upstream_port}"
    with tempfile.TemporaryDirectory() as tmp:
        drafter = start_drafter(Path(tmp), upstream)
        try:
            for api in APIS:  # warm-up
                for stream in (False, True):
                    target = api_target(drafter, api, stream)
                    await run_load(target, concurrency=4, requests=100)
            rows = []
            for stream in (False, True):
                for concurrency in (1, 32):
                    n = args.requests if concurrency > 1 else max(100, args.requests // 4)
                    for api in APIS:
                        rows += await scenario(drafter, upstream, api, stream, concurrency, n)
            rss = tree_rss_mb(drafter.process.pid)
        finally:
            drafter.stop()
            stop(fake)
    header = ["scenario", "req/s", "p50 ms", "p99 ms", "TTFT p50 ms", "CPU ms/req", "errors"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    lines.append(
        f"\nDrafter peak RSS: {rss:.0f} MB. {when}, {platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{args.chunks} chunks per stream; machine speed {machine_speed_s():.2f} CPU s per "
        f"10M Python loop iterations (lower is faster)."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "chat.md")
    args = parser.parse_args()
    table = asyncio.run(main_async(args))
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table + "\n")


if __name__ == "__main__":
    main()
