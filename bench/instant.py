"""The instant-answer phases: Drafter, Portkey and LiteLLM through one fake Anthropic
upstream that answers at once (20 chunks per stream, no delay), so what is measured is
what each gateway itself costs.

Each scenario (JSON and streaming, concurrency 1, 32 and 128) runs against the bare
upstream first, then against every gateway in turns (A B C A B C), so drift of a shared
machine spreads over all of them. CPU is each gateway's process tree, read from /proc.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.gateways import Gateway, start_drafter, start_litellm
from bench.loadgen import Result, Target, percentile, run_load
from bench.portkey_env import install_portkey, start_portkey
from bench.procs import (
    CLOCK_TICKS,
    start_fake_anthropic,
    stop,
    tree_cpu_seconds,
    tree_rss_mb,
)
from bench.targets import gateway_target, upstream_target
from tests.fakes.tiny_rembg_model import write_tiny_rembg_model
from tests.support.stack import free_port

CONCURRENCY = (1, 32, 128)
MAX_SECONDS = 15.0
NAMES = {"drafter": "Drafter", "litellm": "LiteLLM", "portkey": "Portkey"}


@dataclass
class Lineup:
    """The gateways started for the instant-answer phases, on one fake upstream; the
    ones that could not start are named in ``skipped`` with the reason."""

    upstream: str
    fake: subprocess.Popen[str]
    gateways: list[Gateway] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def stop(self) -> None:
        for gateway in self.gateways:
            gateway.stop()
        stop(self.fake)


def start_lineup(workdir: Path, only: tuple[str, ...]) -> Lineup:
    """Drafter, LiteLLM and Portkey (or those in ``only``) behind an instant upstream.
    Portkey needs node/npm: without them it is skipped, never a failure of the run."""
    port = free_port()
    lineup = Lineup(f"http://127.0.0.1:{port}", start_fake_anthropic(port, 20))
    wanted = only or tuple(NAMES)
    try:
        if "drafter" in wanted:
            lineup.gateways.append(start_drafter(workdir / "drafter", lineup.upstream))
        if "litellm" in wanted:
            lineup.gateways.append(start_litellm(workdir / "litellm", lineup.upstream))
        if "portkey" in wanted:
            why = install_portkey()
            portkey = None if why else start_portkey(workdir / "portkey", lineup.upstream)
            if portkey is None:
                lineup.skipped.append(f"Portkey skipped: {why or 'it did not start'}.")
            else:
                lineup.gateways.append(portkey)
    except BaseException:
        lineup.stop()
        raise
    return lineup


@dataclass
class Measured:
    result: Result = field(default_factory=Result)
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


async def measure(gateway: Gateway, target: Target, concurrency: int, requests: int) -> Measured:
    before = tree_cpu_seconds(gateway.process.pid)
    result = await run_load(
        target, concurrency=concurrency, requests=requests, max_seconds=MAX_SECONDS
    )
    return Measured(result, tree_cpu_seconds(gateway.process.pid) - before)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def p50(values: list[float]) -> float:
    return percentile(values, 50) if values else 0.0


def scenario_rows(label: str, upstream: Result, runs: dict[str, Measured]) -> list[list[str]]:
    """One row per gateway, then Drafter's ratio to each other gateway."""
    rows = []
    streaming = "stream" in label
    base_p50, base_ttft = p50(upstream.latencies), p50(upstream.first_tokens)
    for name, m in runs.items():
        r = m.result
        has_ttft = streaming and bool(r.first_tokens)
        rows.append(
            [
                label,
                NAMES.get(name, name),
                f"{r.rps:.0f}",
                ms(percentile(r.latencies, 50)),
                ms(percentile(r.latencies, 99)),
                f"{ms(percentile(r.first_tokens, 50))} / {ms(percentile(r.first_tokens, 99))}"
                if has_ttft
                else "-",
                ms(percentile(r.latencies, 50) - base_p50),
                ms(p50(r.first_tokens) - base_ttft) if has_ttft else "-",
                f"{m.cpu_ms_per_request:.2f}",
                str(r.errors),
            ]
        )
    d = runs.get("drafter")
    for name, other in runs.items():
        if d is None or name == "drafter":
            continue
        added_ttft = ""
        if streaming and d.result.first_tokens and other.result.first_tokens:
            added_ttft = ratio(
                p50(d.result.first_tokens) - base_ttft, p50(other.result.first_tokens) - base_ttft
            )
        rows.append(
            [
                label,
                f"**Drafter/{NAMES.get(name, name)}**",
                ratio(d.result.rps, other.result.rps),
                "",
                "",
                "",
                ratio(p50(d.result.latencies) - base_p50, p50(other.result.latencies) - base_p50),
                added_ttft,
                ratio(d.cpu_ms_per_request, other.cpu_ms_per_request),
                "",
            ]
        )
    return rows


HEADER = [
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


def tick_note(requests_per_row: int) -> str:
    """How exact a CPU-per-request figure is: /proc counts CPU time in clock ticks."""
    tick_ms = 1000 / CLOCK_TICKS
    return (
        f"CPU time is counted in {tick_ms:.0f} ms clock ticks: over n requests, CPU ms/req "
        f"is exact to {tick_ms:.0f}/n ms ({tick_ms / max(1, requests_per_row):.3f} at the "
        f"{requests_per_row} requests the smallest row asks for; a turn stops after "
        f"{MAX_SECONDS:.0f} s, which slow gateways reach with fewer)."
    )


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


async def warm_up(target: Target) -> None:
    """First requests pay imports, connection pools and caches: not measured."""
    await run_load(target, concurrency=8, requests=100)


async def instant_phases(
    lineup: Lineup, requests: int, rounds: int
) -> tuple[list[str], dict[str, float]]:
    """The side-by-side table, and each gateway's peak RSS (MB) after it."""
    gateways = lineup.gateways
    for gateway in gateways:
        for stream in (False, True):
            await warm_up(gateway_target(gateway, stream))
    rows: list[list[str]] = []
    for stream in (False, True):
        for concurrency in CONCURRENCY:
            n = requests if concurrency > 1 else max(50, requests // 5)
            bare = await run_load(
                upstream_target(lineup.upstream, stream), concurrency=concurrency, requests=n
            )
            runs = {g.name: Measured() for g in gateways}
            for _ in range(rounds):
                for gateway in gateways:
                    m = await measure(gateway, gateway_target(gateway, stream), concurrency, n)
                    runs[gateway.name].add(m.result, m.cpu_s)
            label = f"{'stream' if stream else 'JSON'} c={concurrency}"
            rows += scenario_rows(label, bare, runs)
            print(f"done: {label}", flush=True)
    rss = {g.name: tree_rss_mb(g.process.pid) for g in gateways}
    lines = markdown_table(HEADER, rows)
    lines += ["", *lineup.skipped, tick_note(max(50, requests // 5) * rounds)]
    peaks = ", ".join(f"{NAMES.get(name, name)} {mb:.0f} MB" for name, mb in rss.items())
    ratios = ", ".join(
        f"Drafter/{NAMES.get(name, name)} {ratio(rss['drafter'], mb)}"
        for name, mb in rss.items()
        if name != "drafter" and "drafter" in rss
    )
    lines.append(
        f"Peak RSS after these phases: {peaks}{f' ({ratios})' if ratios else ''}; Drafter "
        f"as it starts without a background-removal model (rembg never imported)."
    )
    return lines, rss


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


def rembg_line(drafter_mb: float, with_rembg_mb: float, others: dict[str, float]) -> str:
    """The figure beside the plain one: Drafter with background removal loaded."""
    compared = ", ".join(
        f"{ratio(with_rembg_mb, mb)} of {NAMES.get(name, name)}'s" for name, mb in others.items()
    )
    return (
        f"Drafter with background removal loaded (rembg imported, a session on the test "
        f"suite's tiny model; a real U²-Net model file adds its own size): peak RSS "
        f"{with_rembg_mb:.0f} MB (without it {drafter_mb:.0f} MB)"
        f"{f'; {compared}' if compared else ''}."
    )


async def probe(target: Target) -> str | None:
    """Why ``target`` is not served (``None`` when it answers 200 with content)."""
    async with httpx.AsyncClient(timeout=30) as client:
        try:
            response = await client.post(
                target.url,
                content=target.body,
                headers={**target.headers, "Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text.strip()[:160]}"
    if target.first_token_marker not in response.content:
        return f"HTTP 200 without {target.first_token_marker.decode()!r}"
    return None
