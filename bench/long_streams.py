"""Thousands of long streams held at once: what each gateway adds per event and per stream.

    bench/compare --long-streams [--levels 500,2000] [--rounds 2] [--edge-workers 1]
                  [--max-streams N] [--only drafter,litellm,portkey] [--api messages]
                  [--pin]

(``--levels 500,2000,5000`` adds the heaviest level; plain ``bench/compare`` runs this
scenario too, after all the others.)

The fake upstream streams each answer as 200 text deltas (``--deltas``) 50 ms apart (10 s a
stream). For each level the load generator opens that many streams over a few seconds and
holds them to the end, in interleaved rounds (gateway A, B, C, then again), after a run
against the bare upstream at the same level, and the floor relay (``bench/floor_relay.py``),
which does nothing of a gateway's but relay: what a gateway's CPU per event would be
without its own work, on the machine at hand. Per gateway: completed streams and errors;
added inter-token latency (client-observed gap minus the upstream's 50 ms); added time to
first token (minus the bare upstream's at the lowest level); CPU seconds per 1,000 relayed
events (the gateway's process tree, from /proc); peak RSS, RSS per open stream and open
fds (sampled while the streams are open). Every figure sits beside the load average of
this machine at the time, since other work shares its cores.

With ``--pin`` each gateway runs on a core of its own (the first), and the fake upstream
and the load generator on the others: what a gateway adds to the inter-token latency is
then its own, not the wait for a core that the instruments hold (on two cores they
share, the bare upstream and the load generator alone add 3-5 ms at p99).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from bench.gateways import Gateway, start_drafter, start_floor_relay, start_litellm
from bench.growth import start_fake
from bench.loadgen import Target, percentile
from bench.portkey_env import start_portkey
from bench.procs import process_tree, stop, tree_cpu_seconds
from bench.stream_clients import StreamsResult, hold_streams, raise_fd_limit

DELTAS = 200
DELAY_MS = 50
LEVELS = (500, 2000)  # 5000 on request: --levels 500,2000,5000
# The fake echoes the prompt split into DELTAS pieces, so it must be longer than DELTAS
# (or than ``--deltas``).
_ASK = "Tell me a long story. "
PROMPT = [{"role": "user", "content": _ASK * 20}]


def prompt_of(kb: int) -> list[dict[str, str]]:
    """The prompt, or one of about ``kb`` KB (``--prompt-kb``: what coding agents send,
    whose system prompt and tools alone are tens of KB)."""
    if not kb:
        return PROMPT
    return [{"role": "user", "content": _ASK * (kb * 1024 // len(_ASK) + 1)}]


# The APIs a long stream can be asked on (``--api``): OpenAI's chat completions, or
# Anthropic's Messages API (what Claude Code and Anthropic's SDKs call).
APIS = ("chat", "messages")


def stream_target(
    gateway: Gateway, api: str = "chat", prompt: list[dict[str, str]] = PROMPT
) -> Target:
    body = {"model": "claude-haiku-4-5", "messages": prompt, "max_tokens": 4096, "stream": True}
    if api == "messages":
        headers = {
            "x-api-key": gateway.api_key,
            "anthropic-version": "2023-06-01",
            **gateway.extra_headers,
        }
        return Target(f"{gateway.base_url}/v1/messages", orjson.dumps(body), headers, b"text_delta")
    headers = {"Authorization": f"Bearer {gateway.api_key}", **gateway.extra_headers}
    return Target(gateway.chat_url, orjson.dumps(body), headers, b'"content":"')


def upstream_target(upstream: str, prompt: list[dict[str, str]] = PROMPT) -> Target:
    body = {
        "model": "claude-haiku-4-5-20251001",
        "messages": prompt,
        "max_tokens": 4096,
        "stream": True,
    }
    headers = {"x-api-key": "sk-ant-bench", "anthropic-version": "2023-06-01"}
    return Target(f"{upstream}/v1/messages", orjson.dumps(body), headers, b"text_delta")


@contextlib.contextmanager
def on_cores(cores: set[int] | None) -> Iterator[None]:
    """Within it, this thread, and the processes and threads it starts, run on ``cores``
    (all of them when None); afterwards this thread runs where it did before."""
    if cores is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def pinned_cores(pin: bool) -> tuple[set[int] | None, set[int] | None]:
    """The gateways' core and the instruments' (fake upstream, load generator) with
    ``--pin``; None and None (anywhere) without it."""
    if not pin:
        return None, None
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        raise SystemExit("--pin needs two cores or more")
    return {cores[0]}, set(cores[1:])


def ramp_seconds(streams: int) -> float:
    return min(5.0, 1.0 + streams / 1000)


@dataclass
class Sampled:
    peak_rss_mb: float = 0.0
    peak_fds: int = 0


def _rss_and_fds(pids: list[int]) -> tuple[float, int]:
    rss, fds = 0.0, 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1]) / 1024
            fds += len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            pass
    return rss, fds


async def _sample(
    pids: list[int], result: StreamsResult, into: Sampled, stop_at: list[bool]
) -> None:
    while not stop_at[0]:
        rss, fds = _rss_and_fds(pids)
        into.peak_rss_mb = max(into.peak_rss_mb, rss)
        into.peak_fds = max(into.peak_fds, fds)
        await asyncio.sleep(0.25)


@dataclass
class Run:
    gateway: str
    streams: int
    result: StreamsResult
    cpu_s: float
    idle_rss_mb: float
    sampled: Sampled
    load: float
    seconds: float

    @property
    def cpu_per_1000_events(self) -> float:
        return self.cpu_s * 1000 / max(1, self.result.events)

    @property
    def kb_per_stream(self) -> float:
        grown = max(0.0, self.sampled.peak_rss_mb - self.idle_rss_mb)
        return grown * 1024 / max(1, self.result.peak_streaming)


async def run_level(
    pid: int | None, name: str, target: Target, streams: int, *, anthropic: bool
) -> Run:
    pids = process_tree(pid) if pid else []
    idle, _ = _rss_and_fds(pids)
    before = tree_cpu_seconds(pid) if pid else 0.0
    result = StreamsResult()
    sampled, done = Sampled(), [False]
    started = time.perf_counter()
    sampler = asyncio.create_task(_sample(pids, result, sampled, done))
    result = await hold_streams(
        target, streams, ramp_s=ramp_seconds(streams), anthropic=anthropic, into=result
    )
    done[0] = True
    await sampler
    cpu = tree_cpu_seconds(pid) - before if pid else 0.0
    load = os.getloadavg()[0]
    return Run(name, streams, result, cpu, idle, sampled, load, time.perf_counter() - started)


@dataclass
class Level:
    bare: Run
    runs: dict[str, list[Run]] = field(default_factory=dict)


def _ms(values: list[float], q: float, minus: float = 0.0) -> str:
    return f"{(percentile(values, q) - minus) * 1000:.1f}" if values else "-"


def level_rows(streams: int, level: Level, base: list[float]) -> list[str]:
    """``base``: the bare upstream's first-token times at the lowest level, before the
    fake upstream and the load generator themselves run short of CPU."""
    bare_first = level.bare.result.first_tokens
    rows = [
        f"| {streams} | upstream alone | {level.bare.result.completed}/{streams} | "
        f"{level.bare.result.errors} | {_ms(level.bare.result.gaps, 50, DELAY_MS / 1000)} / "
        f"{_ms(level.bare.result.gaps, 99, DELAY_MS / 1000)} | {_ms(bare_first, 50)} / "
        f"{_ms(bare_first, 99)} "
        f"(absolute) | - | - | - | - | {level.bare.load:.1f} |"
    ]
    for name, runs in level.runs.items():
        gaps = [g for r in runs for g in r.result.gaps]
        firsts = [f for r in runs for f in r.result.first_tokens]
        completed = sum(r.result.completed for r in runs)
        errors = sum(r.result.errors for r in runs)
        refused = sum(r.result.refused for r in runs)
        cpu = sum(r.cpu_s for r in runs) * 1000 / max(1, sum(r.result.events for r in runs))
        base50 = percentile(base, 50) if base else 0.0
        base99 = percentile(base, 99) if base else 0.0
        rows.append(
            f"| {streams} | {name} | {completed}/{streams * len(runs)} | {errors}"
            f"{f' (+{refused} 503)' if refused else ''} | "
            f"{_ms(gaps, 50, DELAY_MS / 1000)} / {_ms(gaps, 99, DELAY_MS / 1000)} | "
            f"{_ms(firsts, 50, base50)} / {_ms(firsts, 99, base99)} | {cpu:.3f} | "
            f"{max(r.sampled.peak_rss_mb for r in runs):.0f} | "
            f"{max(r.kb_per_stream for r in runs):.0f} | "
            f"{max(r.sampled.peak_fds for r in runs)} | "
            f"{', '.join(f'{r.load:.1f}' for r in runs)} |"
        )
    return rows


HEADER = [
    "| streams | gateway | completed | errors | added inter-token p50 / p99 ms | "
    "added TTFT p50 / p99 ms | CPU s per 1k events | peak RSS MB | KB per open stream | "
    "open fds | load avg (1 min) per round |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
]


async def long_streams_report(
    workdir: Path,
    *,
    levels: tuple[int, ...],
    rounds: int,
    edge_workers: int = 1,
    max_streams: int = 0,
    only: tuple[str, ...] = (),
    deltas: int = DELTAS,
    api: str = "chat",
    pin: bool = False,
    prompt_kb: int = 0,
) -> list[str]:
    limit = raise_fd_limit()
    prompt = prompt_of(prompt_kb)
    if pin and edge_workers > 1:
        raise SystemExit("--pin gives each gateway one core: it takes one edge worker")
    gateway_cores, instrument_cores = pinned_cores(pin)
    with on_cores(instrument_cores):
        fake, upstream = start_fake(deltas, DELAY_MS)
    wanted = set(only or ("drafter", "litellm", "portkey", "floor"))
    gateways: list[Gateway] = []
    portkey = None
    with on_cores(gateway_cores):
        if "drafter" in wanted:
            cap = {"DRAFTER_MAX_STREAMS": str(max_streams)} if max_streams else {}
            drafter = start_drafter(workdir / "drafter", upstream, edge_workers=edge_workers, **cap)
            gateways.append(drafter)
        if "litellm" in wanted:
            gateways.append(start_litellm(workdir / "litellm", upstream))
        if "portkey" in wanted:
            portkey = start_portkey(workdir / "portkey", upstream)
            if portkey is not None:
                gateways.append(portkey)
        if "floor" in wanted:
            floor_request = upstream_target(upstream, prompt).request_bytes()
            gateways.append(start_floor_relay(upstream, floor_request))
    lines = [*HEADER]
    base: list[float] = []
    try:
        with on_cores(instrument_cores):  # the load generator: this thread
            for gateway in gateways:  # warm-up: imports, pools, first-request paths
                await hold_streams(
                    stream_target(gateway, api, prompt),
                    20,
                    ramp_s=0.5,
                    anthropic=api == "messages",
                )
            for streams in levels:
                bare = await run_level(
                    None, "upstream", upstream_target(upstream, prompt), streams, anthropic=True
                )
                level = Level(bare)
                for _ in range(rounds):
                    for gateway in gateways:
                        await asyncio.sleep(2)  # let closed sockets and the load settle
                        run = await run_level(
                            gateway.process.pid,
                            gateway.name,
                            stream_target(gateway, api, prompt),
                            streams,
                            anthropic=api == "messages",
                        )
                        level.runs.setdefault(gateway.name, []).append(run)
                        print(
                            f"{streams} streams, {gateway.name}: {run.result.completed} done, "
                            f"{run.result.errors} errors, HTTP statuses {run.result.statuses} "
                            f"{run.result.refusals or ''}, "
                            f"{run.seconds:.0f} s, load {run.load:.1f}",
                            flush=True,
                        )
                base = base or bare.result.first_tokens
                lines += level_rows(streams, level, base)
    finally:
        for gateway in gateways:
            gateway.stop()
        stop(fake)
    names = ", ".join(g.name for g in gateways)
    lines += [
        "",
        f"Long streams on {'/v1/messages' if api == 'messages' else '/v1/chat/completions'}: "
        f"{deltas} deltas {DELAY_MS} ms apart"
        f"{f', prompts of {prompt_kb} KB' if prompt_kb else ''}, {rounds} interleaved round(s) of "
        f"{names}, one process each (Drafter with {edge_workers} edge worker(s)"
        f"{f', DRAFTER_MAX_STREAMS={max_streams}' if max_streams else ''}); "
        f"fd limit {limit}"
        f"{'; each gateway on a core of its own, the instruments on the others' if pin else ''}"
        ". Added TTFT is against the bare upstream at the lowest level; "
        f"KB per open stream is the RSS grown over the most streams answered 200 at once.",
    ]
    if portkey is None and "portkey" in wanted:
        lines.append("Portkey was skipped (see the reason printed above).")
    return lines


def add_long_stream_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--long-streams",
        action="store_true",
        help="only the long-stream scenario (its table to long-streams.md)",
    )
    parser.add_argument(
        "--levels",
        default=None,
        help="concurrent streams per level, comma-separated (long streams; default "
        f"{','.join(map(str, LEVELS))}, e.g. 500,2000,5000 for the heaviest too)",
    )
    parser.add_argument(
        "--edge-workers", type=int, default=1, help="Drafter's edge workers (long streams)"
    )
    parser.add_argument(
        "--max-streams", type=int, default=0, help="DRAFTER_MAX_STREAMS (default: its own)"
    )
    parser.add_argument(
        "--deltas",
        type=int,
        default=None,
        help=f"text deltas per long stream, {DELAY_MS} ms apart (default {DELTAS})",
    )
    parser.add_argument(
        "--api",
        choices=APIS,
        default="chat",
        help="the API the long streams are asked on (chat completions, or Anthropic's "
        "Messages API)",
    )
    parser.add_argument(
        "--prompt-kb",
        type=int,
        default=0,
        help="each long stream's prompt, in KB (default: half a KB); the fake upstream "
        "echoes it, split into the deltas",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="each gateway on a core of its own, the fake upstream and the load generator "
        "on the others (long streams)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated gateways of drafter,litellm,portkey and floor (the floor "
        "relay, bench/floor_relay.py) (default: all four)",
    )


async def long_streams_from_args(args: argparse.Namespace, workdir: Path) -> list[str]:
    levels = tuple(int(n) for n in args.levels.split(",")) if args.levels else LEVELS
    only = tuple(n for n in args.only.split(",") if n)
    return await long_streams_report(
        workdir,
        levels=levels,
        rounds=args.rounds,
        edge_workers=args.edge_workers,
        max_streams=args.max_streams,
        only=only,
        deltas=args.deltas or DELTAS,
        api=args.api,
        pin=args.pin,
        prompt_kb=args.prompt_kb,
    )
