"""Profiles Drafter's per-event path with py-spy while long streams run.

    python -m bench.profile_streams [--streams 500] [--seconds 10] [--out profile.svg] [--native]
    python -m bench.profile_streams --objects [--streams 500]

Starts the fake upstream (200 deltas 50 ms apart) and ``drafter up``, opens the streams,
and records the ``drafter up`` process with ``py-spy record`` (``pip install py-spy``;
reading another process's memory may need root or ``ptrace`` rights). With an ``--out``
ending in ``.txt`` the output is py-spy's raw frame list (one stack and its sample count
per line) instead of a flame graph; ``--native`` adds the C frames (the event loop's,
uvloop's and the system calls'), which py-spy otherwise counts to the Python frame
that called them; it stops the process for each sample, so system calls look costlier
than they are.

``--objects`` records no profile: it runs ``drafter up`` with a census of its objects
(``bench/objects_census.py``), taken before the streams open and once they all are, and
prints what each open stream holds by kind of object, biggest first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from bench.gateways import start_drafter
from bench.growth import start_fake
from bench.long_streams import DELAY_MS, DELTAS, stream_target
from bench.objects_census import per_stream
from bench.procs import stop
from bench.stream_clients import hold_streams, raise_fd_limit


async def profile(
    streams: int, seconds: float, out: Path, workdir: Path, *, native: bool = False
) -> None:
    raise_fd_limit()
    fake, upstream = start_fake(DELTAS, DELAY_MS)
    gateway = start_drafter(workdir, upstream)
    try:
        target = stream_target(gateway)
        await hold_streams(target, 20, ramp_s=0.5)
        load = asyncio.create_task(hold_streams(target, streams, ramp_s=2.0))
        await asyncio.sleep(3.0)  # all streams open
        record = await asyncio.create_subprocess_exec(
            "py-spy",
            "record",
            "--pid",
            str(gateway.process.pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            "200",
            # Without --nonblocking py-spy stops the process to sample it, and the stops
            # land at system-call exits: the calls around them look several times as
            # costly. The C frames can only be read from a stopped process.
            *(["--native"] if native else ["--nonblocking"]),
            "--format",
            "raw" if out.suffix == ".txt" else "flamegraph",
            "-o",
            str(out),
            stdout=subprocess.DEVNULL,
        )
        await record.wait()
        result = await load
        print(f"{result.completed} streams completed, {result.errors} errors; profile: {out}")
    finally:
        gateway.stop()
        stop(fake)


async def objects(streams: int, workdir: Path) -> None:
    raise_fd_limit()
    fake, upstream = start_fake(DELTAS, DELAY_MS)
    base = workdir / "census"
    launcher = (sys.executable, "-m", "bench.objects_census")
    gateway = start_drafter(workdir, upstream, launcher=launcher, DRAFTER_BENCH_CENSUS=str(base))
    try:
        target = stream_target(gateway)
        await hold_streams(target, 20, ramp_s=0.5)  # warm: imports, pools, first paths
        before = await _census(gateway.process.pid, Path(f"{base}.0"))
        load = asyncio.create_task(hold_streams(target, streams, ramp_s=2.0))
        await asyncio.sleep(4.0)  # all streams open (they last 10 s)
        after = await _census(gateway.process.pid, Path(f"{base}.1"))
        result = await load
        print(f"{result.completed} streams completed, {result.errors} errors")
        print("\n".join(per_stream(before, after, streams)))
    finally:
        gateway.stop()
        stop(fake)


async def _census(pid: int, path: Path) -> dict[str, list[int]]:
    os.kill(pid, signal.SIGUSR1)
    return await asyncio.to_thread(_read_census, path)


def _read_census(path: Path) -> dict[str, list[int]]:
    for _ in range(600):  # a census of a million objects takes seconds
        if path.exists():
            census: dict[str, list[int]] = orjson.loads(path.read_bytes())
            return census
        time.sleep(0.05)
    raise SystemExit(f"no census at {path}: see drafter.log")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--out", type=Path, default=Path("profile.svg"), help=".svg or .txt")
    parser.add_argument("--native", action="store_true", help="with the C frames")
    parser.add_argument(
        "--objects", action="store_true", help="what each open stream holds, not a profile"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.objects:
            asyncio.run(objects(args.streams, Path(tmp)))
            return
        asyncio.run(profile(args.streams, args.seconds, args.out, Path(tmp), native=args.native))


if __name__ == "__main__":
    main()
