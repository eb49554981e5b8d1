"""The serving process's memory: its resident size (for the status page) and the garbage
collector's tuning once it is ready to serve."""

from __future__ import annotations

import gc
import os
import resource


def rss_bytes() -> int:
    """Resident memory of this process: current on Linux (/proc), peak elsewhere."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# Python's default (700 net new container objects) runs a young collection every few
# requests under load, and each one walks every object of the requests in flight:
# measured through ``drafter up`` at concurrency 32, a third of the CPU of a chat request.
YOUNG_GENERATION_THRESHOLD = 20_000


def tune_collector_for_serving() -> None:
    """Call once, when the process is ready to serve. What it allocated to start (modules,
    tables, servicers: about 350,000 objects) leaves the cyclic garbage collector's reach
    (``gc.freeze``), so full collections scan only what requests leave behind, and young
    collections run once per ``YOUNG_GENERATION_THRESHOLD`` net allocations. Memory is
    still freed at once by reference counting; only cyclic garbage waits longer."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, older, oldest)
