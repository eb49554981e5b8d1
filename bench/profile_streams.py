"""Profiles Drafter's per-event path with py-spy while long streams run.

    python -m bench.profile_streams [--streams 500] [--seconds 10] [--out profile.svg] [--native]

Starts the fake upstream (200 deltas 50 ms apart) and ``drafter up``, opens the streams,
and records the ``drafter up`` process with ``py-spy record`` (``pip install py-spy``;
reading another process's memory may need root or ``ptrace`` rights). With an ``--out``
ending in ``.txt`` the output is py-spy's raw frame list (one stack and its sample count
per line) instead of a flame graph; ``--native`` adds the C frames (the event loop's,
uvloop's and the system calls'), which py-spy otherwise counts to the Python frame
that called them; it stops the process for each sample, so system calls look costlier
than they are.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
from pathlib import Path

from bench.gateways import start_drafter
from bench.growth import start_fake
from bench.long_streams import DELAY_MS, DELTAS, stream_target
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--out", type=Path, default=Path("profile.svg"), help=".svg or .txt")
    parser.add_argument("--native", action="store_true", help="with the C frames")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(profile(args.streams, args.seconds, args.out, Path(tmp), native=args.native))


if __name__ == "__main__":
    main()
