"""Chat benchmark: ``drafter up`` against the fake Anthropic upstream, and the same load
straight at the upstream, so the difference is what Drafter adds.

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
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

from bench.loadgen import Result, Target, percentile, run_load
from bench.procs import ROOT, cpu_seconds, peak_rss_mb, start_fake_anthropic, stop, wait_http
from tests.stack_process import base_env, drafter_command, free_port

PLANS = """
default = "bench"
[plans.bench]
name = "Bench"
price_eur_per_week = 0
models = ["claude-haiku-4-5"]
max_api_keys = 5
max_apps = 3
[plans.bench.limits]
chat = 100000000
imageGen = 10
imageEdit = 10
"""
PROMPT = [{"role": "user", "content": "Hello there, how are you today?"}]


def drafter_target(base: str, key: str, stream: bool) -> Target:
    body = {"model": "claude-haiku-4-5", "messages": PROMPT, "max_tokens": 64, "stream": stream}
    return Target(
        f"{base}/api/v1/chat/completions",
        orjson.dumps(body),
        {"Authorization": f"Bearer {key}"},
        b'"content":"',
    )


def upstream_target(base: str, stream: bool) -> Target:
    body = {
        "model": "claude-haiku-4-5-20250506",
        "messages": PROMPT,
        "max_tokens": 64,
        "stream": stream,
    }
    return Target(
        f"{base}/v1/messages",
        orjson.dumps(body),
        {"x-api-key": "sk-ant-bench", "anthropic-version": "2023-06-01"},
        b"text_delta",
    )


def start_drafter(data_dir: Path, upstream: str) -> tuple[subprocess.Popen, str, str]:
    plans = data_dir / "plans.toml"
    plans.write_text(PLANS)
    env = base_env(
        data_dir,
        ANTHROPIC_BASE_URL=upstream,
        ANTHROPIC_API_KEY="sk-ant-bench",
        DRAFTER_PLANS_FILE=str(plans),
        DRAFTER_LOG_LEVEL="WARNING",
    )
    port = free_port()
    log = (data_dir / "drafter.log").open("wb")
    process = subprocess.Popen(
        drafter_command("up", "--port", str(port)),
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/api/v1/status")
    admin = [
        *drafter_command("admin"),
    ]
    subprocess.run(
        [*admin, "user", "create", "bench@example.com", "--password", "bench-pass-1"],
        env=env,
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [*admin, "key", "create", "bench@example.com"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return process, base, out.strip().splitlines()[-1]


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
    drafter: tuple[subprocess.Popen, str, str],
    upstream: str,
    stream: bool,
    concurrency: int,
    requests: int,
) -> list[list[str]]:
    process, base, key = drafter
    direct = await run_load(
        upstream_target(upstream, stream), concurrency=concurrency, requests=requests
    )
    before = cpu_seconds(process.pid)
    through = await run_load(
        drafter_target(base, key, stream), concurrency=concurrency, requests=requests
    )
    cpu_ms = (cpu_seconds(process.pid) - before) * 1000 / max(1, len(through.latencies))
    label = f"{'stream' if stream else 'json'} c={concurrency}"
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
            for stream in (False, True):  # warm-up
                await run_load(
                    drafter_target(drafter[1], drafter[2], stream), concurrency=4, requests=100
                )
            rows = []
            for stream in (False, True):
                for concurrency in (1, 32):
                    n = args.requests if concurrency > 1 else max(100, args.requests // 4)
                    rows += await scenario(drafter, upstream, stream, concurrency, n)
            rss = peak_rss_mb(drafter[0].pid)
        finally:
            stop(drafter[0])
            stop(fake)
    header = ["scenario", "req/s", "p50 ms", "p99 ms", "TTFT p50 ms", "CPU ms/req", "errors"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    lines.append(
        f"\nDrafter peak RSS: {rss:.0f} MB. {when}, {platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{args.chunks} chunks per stream."
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
    sys.exit(main())
