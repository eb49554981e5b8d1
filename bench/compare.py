"""Drafter against the LiteLLM proxy, side by side, through the same fake Anthropic.

    bench/compare [--requests 1000] [--rounds 2] [--skip-growth]

One fake upstream (20 chunks per stream, no delay) serves both gateways. Each scenario
(JSON and streaming, concurrency 1, 32 and 128) is measured in turns, A B A B, so drift of
this shared machine cancels out, after a warm-up and against the bare upstream. Then
Drafter alone: cost per stream chunk (20, 200, 2,000 chunks) and per open stream (32, 128,
512 concurrent slow streams: memory and event-loop lag). Only 127.0.0.1 is used. The
table is printed and written to bench/results/compare.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import platform
import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.gateways import Gateway, start_drafter, start_litellm
from bench.growth import growth_report
from bench.loadgen import Result, Target, percentile, run_load
from bench.long_streams import add_long_stream_arguments, long_streams_from_args
from bench.procs import (
    ROOT,
    machine_speed_s,
    start_fake_anthropic,
    stop,
    tree_cpu_seconds,
    tree_rss_mb,
)
from tests.fakes.tiny_rembg_model import write_tiny_rembg_model
from tests.support.stack import free_port

PROMPT = [{"role": "user", "content": "Hello there, how are you today?"}]
CONCURRENCY = (1, 32, 128)
MAX_SECONDS = 15.0


def gateway_target(gateway: Gateway, stream: bool) -> Target:
    body = {"model": "claude-haiku-4-5", "messages": PROMPT, "max_tokens": 64, "stream": stream}
    return Target(
        gateway.chat_url,
        orjson.dumps(body),
        {"Authorization": f"Bearer {gateway.api_key}"},
        b'"content":"',
    )


def upstream_target(upstream: str, stream: bool) -> Target:
    body = {
        "model": "claude-haiku-4-5-20251001",
        "messages": PROMPT,
        "max_tokens": 64,
        "stream": stream,
    }
    return Target(
        f"{upstream}/v1/messages",
        orjson.dumps(body),
        {"x-api-key": "sk-ant-bench", "anthropic-version": "2023-06-01"},
        b"text_delta",
    )


@dataclass
class Measured:
    result: Result
    cpu_s: float = 0.0

    def add(self, other: Result, cpu_s: float) -> None:
        self.result.latencies += other.latencies
        self.result.first_tokens += other.first_tokens
        self.result.errors += other.errors
        self.result.elapsed += other.elapsed
        self.cpu_s += cpu_s

    @property
    def cpu_ms_per_request(self) -> float:
        return self.cpu_s * 1000 / max(1, len(self.result.latencies))


async def measure(gateway: Gateway, stream: bool, concurrency: int, requests: int) -> Measured:
    before = tree_cpu_seconds(gateway.process.pid)
    result = await run_load(
        gateway_target(gateway, stream),
        concurrency=concurrency,
        requests=requests,
        max_seconds=MAX_SECONDS,
    )
    return Measured(result, tree_cpu_seconds(gateway.process.pid) - before)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def scenario_rows(label: str, upstream: Result, runs: dict[str, Measured]) -> list[list[str]]:
    rows = []
    base_p50 = percentile(upstream.latencies, 50)
    base_ttft = percentile(upstream.first_tokens, 50) if upstream.first_tokens else 0.0
    for name, m in runs.items():
        r = m.result
        ttft = (
            f"{ms(percentile(r.first_tokens, 50))} / {ms(percentile(r.first_tokens, 99))}"
            if r.first_tokens and "stream" in label
            else "-"
        )
        added_ttft = (
            ms(percentile(r.first_tokens, 50) - base_ttft)
            if r.first_tokens and "stream" in label
            else "-"
        )
        rows.append(
            [
                label,
                name,
                f"{r.rps:.0f}",
                ms(percentile(r.latencies, 50)),
                ms(percentile(r.latencies, 99)),
                ttft,
                ms(percentile(r.latencies, 50) - base_p50),
                added_ttft,
                f"{m.cpu_ms_per_request:.2f}",
                str(r.errors),
            ]
        )
    d, lite = runs["drafter"], runs["litellm"]
    added_ttft_ratio = ""
    if "stream" in label and d.result.first_tokens and lite.result.first_tokens:
        added_ttft_ratio = ratio(
            percentile(d.result.first_tokens, 50) - base_ttft,
            percentile(lite.result.first_tokens, 50) - base_ttft,
        )
    rows.append(
        [
            label,
            "**Drafter/LiteLLM**",
            ratio(d.result.rps, lite.result.rps),
            "",
            "",
            "",
            ratio(
                percentile(d.result.latencies, 50) - base_p50,
                percentile(lite.result.latencies, 50) - base_p50,
            ),
            added_ttft_ratio,
            ratio(d.cpu_ms_per_request, lite.cpu_ms_per_request),
            "",
        ]
    )
    return rows


async def compare(args: argparse.Namespace, workdir: Path) -> list[str]:
    upstream_port = free_port()
    fake = start_fake_anthropic(upstream_port, 20)
    upstream = f"http://127.0.0.1:{upstream_port}"
    gateways = [
        start_drafter(workdir / "drafter", upstream),
        start_litellm(workdir / "litellm", upstream),
    ]
    rows: list[list[str]] = []
    try:
        for gateway in gateways:
            for stream in (False, True):
                await run_load(gateway_target(gateway, stream), concurrency=8, requests=100)
        for stream in (False, True):
            for concurrency in CONCURRENCY:
                requests = args.requests if concurrency > 1 else max(50, args.requests // 5)
                bare = await run_load(
                    upstream_target(upstream, stream), concurrency=concurrency, requests=requests
                )
                runs = {g.name: Measured(Result()) for g in gateways}
                for _ in range(args.rounds):
                    for gateway in gateways:
                        m = await measure(gateway, stream, concurrency, requests)
                        runs[gateway.name].add(m.result, m.cpu_s)
                label = f"{'stream' if stream else 'JSON'} c={concurrency}"
                rows += scenario_rows(label, bare, runs)
                print(f"done: {label}", flush=True)
        rss = {g.name: tree_rss_mb(g.process.pid) for g in gateways}
        for gateway in gateways:
            gateway.stop()
        rss["with rembg"] = await rembg_loaded_rss(workdir / "rembg", upstream, args.requests)
    finally:
        for gateway in gateways:
            gateway.stop()
        stop(fake)
    header = [
        "scenario",
        "gateway",
        "req/s",
        "p50 ms",
        "p99 ms",
        "TTFT p50/p99 ms",
        "added p50 ms",
        "added TTFT ms",
        "CPU ms/req",
        "errors",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    lines.append(
        f"Peak RSS: Drafter {rss['drafter']:.0f} MB, LiteLLM {rss['litellm']:.0f} MB "
        f"(Drafter/LiteLLM {ratio(rss['drafter'], rss['litellm'])}); Drafter with background "
        f"removal loaded (rembg imported, a session on the test suite's tiny model) "
        f"{rss['with rembg']:.0f} MB ({ratio(rss['with rembg'], rss['litellm'])})."
    )
    return lines


async def rembg_loaded_rss(workdir: Path, upstream: str, requests: int) -> float:
    """Peak RSS of ``drafter up`` with a rembg session loaded at start-up (the test suite's
    tiny model: a real U²-Net model file adds its own size), after the same loads."""
    model = write_tiny_rembg_model(workdir / "tiny-u2net.onnx")
    gateway = start_drafter(workdir, upstream, DRAFTER_REMBG_MODEL_PATH=str(model))
    try:
        for stream in (False, True):
            await run_load(gateway_target(gateway, stream), concurrency=32, requests=requests)
        return tree_rss_mb(gateway.process.pid)
    finally:
        gateway.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-growth", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "compare.md")
    add_long_stream_arguments(parser)
    args = parser.parse_args()
    if args.long_streams:
        args.out = args.out.with_name("long-streams.md")
    with tempfile.TemporaryDirectory() as tmp:
        if args.long_streams:
            lines = asyncio.run(long_streams_from_args(args, Path(tmp)))
        else:
            lines = asyncio.run(compare(args, Path(tmp)))
        if not args.skip_growth and not args.long_streams:
            lines += ["", *asyncio.run(growth_report(Path(tmp) / "growth"))]
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    lines += [
        "",
        f"{when}, {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, 1 worker each"
        f"{'' if args.long_streams else ', fake upstream without delay'}; "
        f"machine speed {machine_speed_s():.2f} CPU s per 10M Python loop iterations "
        f"(lower is faster).",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
