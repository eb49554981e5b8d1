"""Drafter with 1 and with 2 edge processes (``drafter up --edge-workers N``), same load.

    python -m bench.scale [--requests 1000] [--rounds 2]

Both stacks run at once behind one instant fake upstream and are measured in turns
(1, 2, 1, 2), JSON and streaming chat completions at concurrency 32, so drift of a shared
machine falls on both alike; the idle one costs next to nothing meanwhile. CPU is the
whole process tree (the extra edge processes are children of ``drafter up``).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench.gateways import Gateway, start_drafter
from bench.instant import Measured, markdown_table, measure, ms, tick_note, warm_up
from bench.loadgen import percentile
from bench.procs import fake_anthropic
from bench.targets import gateway_target

WORKERS = (1, 2)
CONCURRENCY = 32
HEADER = ["edge processes", "scenario", "req/s", "p50 ms", "p99 ms", "CPU ms/req", "errors"]


async def scale_report(workdir: Path, upstream: str, requests: int, rounds: int) -> list[str]:
    stacks: list[tuple[int, Gateway]] = []
    rows: list[list[str]] = []
    try:
        for workers in WORKERS:
            gateway = start_drafter(workdir / f"edges-{workers}", upstream, edge_workers=workers)
            stacks.append((workers, gateway))
        for _, gateway in stacks:
            for stream in (False, True):
                await warm_up(gateway_target(gateway, stream))
        for stream in (False, True):
            runs = {workers: Measured() for workers, _ in stacks}
            for _ in range(rounds):
                for workers, gateway in stacks:
                    target = gateway_target(gateway, stream)
                    m = await measure(gateway, target, CONCURRENCY, requests)
                    runs[workers].add(m.result, m.cpu_s)
            for workers, m in runs.items():
                r = m.result
                rows.append(
                    [
                        str(workers),
                        f"{'stream' if stream else 'JSON'} c={CONCURRENCY}",
                        f"{r.rps:.0f}",
                        ms(percentile(r.latencies, 50)),
                        ms(percentile(r.latencies, 99)),
                        f"{m.cpu_ms_per_request:.2f}",
                        str(r.errors),
                    ]
                )
    finally:
        for _, gateway in stacks:
            gateway.stop()
    return [*markdown_table(HEADER, rows), "", tick_note(requests * rounds)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with fake_anthropic() as upstream, tempfile.TemporaryDirectory() as tmp:
        lines = asyncio.run(scale_report(Path(tmp), upstream, args.requests, args.rounds))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
