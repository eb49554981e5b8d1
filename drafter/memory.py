"""Resident memory of the current process, for the status page."""

from __future__ import annotations

import os
import resource


def rss_bytes() -> int:
    """Resident memory of this process: current on Linux (/proc), peak elsewhere."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
