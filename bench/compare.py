"""Drafter against Portkey and the LiteLLM proxy, every table in one run.

    bench/compare [--quick] [--requests 1000] [--rounds 2] [--launches 3]
                  [--only drafter,litellm,portkey] [--skip-growth]
                  [--sections instant,paths,scale,cold,growth,long]
                  [--levels 500,2000] [--deltas 200] [--edge-workers 1] [--max-streams N]
    bench/compare --long-streams [--levels ...] [--rounds N] [--only ...] [...]

In this order, only on 127.0.0.1, each table printed as it is done and all of them
written to bench/results/compare.md:

1. ``instant``: the instant-answer phases (bench/instant.py): Drafter, Portkey and
   LiteLLM through one fake Anthropic that answers at once, JSON and streaming at
   concurrency 1, 32 and 128, in interleaved rounds; Drafter's ratios to each; peak RSS
   of each, and of Drafter with a background-removal model loaded.
2. ``paths``: ``/v1/messages`` and ``/v1/responses`` beside chat completions at
   concurrency 32 on the same gateways (bench/new_paths.py), with CPU per request
   against chat completions and Drafter's targets.
3. ``scale``: ``drafter up --edge-workers 1`` and ``2`` (bench/scale.py).
4. ``cold``: launch of ``drafter up`` to its first chat completion, and of the built
   container when a Docker daemon is reachable (bench/cold_start.py).
5. ``growth``: Drafter alone, cost per stream chunk and per open stream
   (bench/growth.py; ``--skip-growth`` leaves it out).
6. ``long``: thousands of long streams held at once, all three gateways
   (bench/long_streams.py), at 500 and 2,000 streams (``--levels 500,2000,5000`` adds
   5,000).

Then the machine's speed and load average: other work shares this machine, so only
ratios within one run compare. ``--quick`` is a smoke run of everything in about three
minutes: 100 requests a turn, one round, one launch, long streams at 200 only and of 50
deltas (2.5 s, not 10 s), no growth part. Portkey needs node/npm (bench/portkey_env.py):
without them it is skipped with the reason printed. ``--long-streams`` alone runs only
the long-stream scenario, into long-streams.md. ``--edge-workers`` and ``--max-streams``
apply to Drafter in the long-stream scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench.cold_start import cold_start_report
from bench.growth import growth_report
from bench.instant import NAMES, instant_phases, rembg_line, rembg_loaded_rss, start_lineup
from bench.long_streams import add_long_stream_arguments, long_streams_from_args
from bench.new_paths import new_paths
from bench.procs import ROOT, fake_anthropic, machine_speed_s
from bench.scale import scale_report

SECTIONS = ("instant", "paths", "scale", "cold", "growth", "long")
QUICK = {"requests": 100, "rounds": 1, "launches": 1, "levels": "200", "deltas": 50}
DEFAULTS = {"requests": 1000, "rounds": 2, "launches": 3}


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def at(load: str) -> str:
    return f" (load average 1/5/15 min {load} at its start)"


class Report:
    """The tables so far: each printed as it is done, all written at the end."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, title: str, lines: list[str]) -> None:
        block = [f"## {title}", "", *lines]
        print("\n" + "\n".join(block), flush=True)
        self.lines += [*block, ""]

    def run(self, title: str, section: Callable[[], list[str] | None]) -> None:
        """One section: it returns its lines, or adds its own tables and returns None. A
        failure is reported in its place and the run goes on to the next."""
        load, started = load_average(), time.perf_counter()
        lines: list[str] | None
        try:
            lines = section()
        except Exception as exc:
            traceback.print_exc()
            lines = [f"Failed: {type(exc).__name__}: {exc}"]
        print(f"done: {title} in {time.perf_counter() - started:.0f} s", flush=True)
        if lines is not None:
            self.add(f"{title}{at(load)}", lines)


async def side_by_side(args: argparse.Namespace, workdir: Path, report: Report) -> None:
    """Tables 1 and 2 on the same gateway processes, started once; the figure with a
    background-removal model loaded comes last, once they are stopped."""
    load = load_average()
    lineup = start_lineup(workdir, args.gateways)
    rss: dict[str, float] = {}
    instant: list[str] = []
    paths: list[str] = []
    try:
        if "instant" in args.sections:
            instant, rss = await instant_phases(lineup, args.requests, args.rounds)
        if "paths" in args.sections:
            paths = await new_paths(lineup, args.requests, args.rounds, chat_warm=bool(rss))
    finally:
        lineup.stop()
    if "instant" in args.sections:
        if "drafter" in rss:
            with fake_anthropic() as upstream:
                with_rembg = await rembg_loaded_rss(workdir / "rembg", upstream, args.requests)
            others = {name: mb for name, mb in rss.items() if name != "drafter"}
            instant.append(rembg_line(rss["drafter"], with_rembg, others))
        c1 = max(50, args.requests // 5)
        instant.append(
            f"{args.requests} requests a turn ({c1} at concurrency 1), {args.rounds} "
            f"interleaved round(s) of {', '.join(NAMES[g.name] for g in lineup.gateways)}; "
            "fake upstream without delay, 20 chunks per stream; one process each."
        )
        report.add(f"Instant-answer phases, side by side{at(load)}", instant)
    if "paths" in args.sections:
        title = "New paths: /v1/messages and /v1/responses beside chat completions"
        report.add(f"{title}{at(load)}", paths)


def run_all(args: argparse.Namespace, workdir: Path) -> list[str]:
    report = Report()
    if {"instant", "paths"} & set(args.sections):
        report.run(
            "Instant-answer phases and new paths",
            lambda: asyncio.run(side_by_side(args, workdir / "side", report)),
        )
    if "scale" in args.sections:

        def scale() -> list[str]:
            with fake_anthropic() as upstream:
                return asyncio.run(
                    scale_report(workdir / "scale", upstream, args.requests, args.rounds)
                )

        report.run("Multi-core: drafter up --edge-workers 1 and 2", scale)
    if "cold" in args.sections:

        def cold() -> list[str]:
            with fake_anthropic() as upstream:
                return cold_start_report(workdir / "cold", upstream, args.launches)

        report.run(f"Cold start (median of {args.launches} launch(es))", cold)
    if "growth" in args.sections and not args.skip_growth:
        report.run(
            "Drafter alone: how cost grows",
            lambda: asyncio.run(growth_report(workdir / "growth")),
        )
    if "long" in args.sections:
        report.run(
            "Long streams: thousands held at once",
            lambda: asyncio.run(long_streams_from_args(args, workdir / "long")),
        )
    return report.lines


def machine_line(long_streams_only: bool) -> str:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    return (
        f"{when}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}, 1 worker each"
        f"{'' if long_streams_only else ', fake upstream without delay for the instant phases'}"
        f"; machine speed {machine_speed_s():.2f} CPU s per 10M Python loop iterations "
        f"(lower is faster); load average (1/5/15 min) {load_average()} at the end."
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small smoke run of every table: "
        + ", ".join(f"{k} {v}" for k, v in QUICK.items())
        + ", no growth part",
    )
    parser.add_argument("--requests", type=int, help=f"per turn (default {DEFAULTS['requests']})")
    parser.add_argument("--rounds", type=int, help=f"interleaved (default {DEFAULTS['rounds']})")
    parser.add_argument(
        "--launches", type=int, help=f"cold starts (default {DEFAULTS['launches']})"
    )
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated, of {','.join(SECTIONS)} (default: all)",
    )
    parser.add_argument("--skip-growth", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "compare.md")
    add_long_stream_arguments(parser)
    args = parser.parse_args()
    chosen = QUICK if args.quick else DEFAULTS
    for name, value in chosen.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.skip_growth = args.skip_growth or args.quick
    args.sections = tuple(s for s in args.sections.split(",") if s)
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    only = tuple(n for n in args.only.split(",") if n)
    if set(only) - {*NAMES, "floor"}:
        parser.error(f"--only takes {','.join(NAMES)} (and floor, for the long streams)")
    args.gateways = tuple(n for n in only if n in NAMES)  # the floor runs long streams only
    if args.long_streams:
        args.out = args.out.with_name("long-streams.md")
    return args


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.long_streams:
            lines = asyncio.run(long_streams_from_args(args, Path(tmp)))
            print("\n".join(lines))
        else:
            lines = run_all(args, Path(tmp))
    ending = machine_line(args.long_streams)
    print("\n" + ending)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join([*lines, "", ending]) + "\n")
    shown = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
    print(f"written to {shown}")


if __name__ == "__main__":
    main()
