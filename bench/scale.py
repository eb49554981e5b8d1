"""Drafter with 1 and with 2 edge processes (``drafter up --edge-workers N``), same load.

python -m bench.scale [--requests 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench.compare import gateway_target
from bench.gateways import start_drafter
from bench.loadgen import percentile, run_load
from bench.procs import start_fake_anthropic, stop, tree_cpu_seconds
from tests.support.stack import free_port


async def scale(requests: int, workdir: Path) -> list[str]:
    port = free_port()
    fake = start_fake_anthropic(port, 20)
    upstream = f"http://127.0.0.1:{port}"
    lines = [
        "| edge processes | scenario | req/s | p50 ms | p99 ms | CPU ms/req |",
        "|---|---|---|---|---|---|",
    ]
    try:
        for workers in (1, 2):
            gateway = start_drafter(workdir / f"edges-{workers}", upstream, edge_workers=workers)
            try:
                for stream in (False, True):
                    target = gateway_target(gateway, stream)
                    await run_load(target, concurrency=8, requests=100)
                    before = tree_cpu_seconds(gateway.process.pid)
                    result = await run_load(target, concurrency=32, requests=requests)
                    cpu = (tree_cpu_seconds(gateway.process.pid) - before) * 1000
                    lines.append(
                        f"| {workers} | {'stream' if stream else 'JSON'} c=32 | "
                        f"{result.rps:.0f} | {percentile(result.latencies, 50) * 1000:.1f} | "
                        f"{percentile(result.latencies, 99) * 1000:.1f} | "
                        f"{cpu / max(1, len(result.latencies)):.2f} |"
                    )
            finally:
                gateway.stop()
    finally:
        stop(fake)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("\n".join(asyncio.run(scale(args.requests, Path(tmp)))))


if __name__ == "__main__":
    main()
