"""Serving processes tune the garbage collector once they are ready (drafter.runtime)."""

from __future__ import annotations

import json
import subprocess
import sys


def test_the_startup_heap_is_frozen_and_young_collections_are_rarer() -> None:
    script = (
        "import gc, json; from drafter.runtime import tune_collector_for_serving, "
        "YOUNG_GENERATION_THRESHOLD as T; before = gc.get_threshold(); "
        "tune_collector_for_serving(); "
        "print(json.dumps([gc.get_freeze_count(), gc.get_threshold(), before, T]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    frozen, after, before, threshold = json.loads(out)

    assert frozen > 1000  # the imported modules' objects, out of the collector's reach
    assert after == [threshold, before[1], before[2]]
    assert threshold > before[0]
