"""What each open stream holds, by kind of object: ``drafter`` run with a census of the
garbage collector's objects taken on SIGUSR1 (``python -m bench.profile_streams
--objects``).

    python -m bench.objects_census up --port 8080   # drafter up, with the census hook

Each census (after a full collection) counts the collector's objects by kind, with
``sys.getsizeof`` of each and of the strings, bytes, numbers and tuples they hold that
the collector does not track. A container is named by the kind of object that holds it
(``dict <- TurnBufferedHttpToolsProtocol``), a coroutine, generator, function or bound
method by its qualified name. Written as JSON to ``$DRAFTER_BENCH_CENSUS.N`` (N = 0, 1,
...). Memory outside Python's objects (protocol-buffer arenas, the event loop's handles)
is not counted; the RSS figures of the long-stream table are.
"""

from __future__ import annotations

import collections
import gc
import os
import signal
import sys
import types
from pathlib import Path
from typing import Any

import orjson

ENV = "DRAFTER_BENCH_CENSUS"  # where the censuses go (``start_drafter``'s keyword too)
_CONTAINERS = (dict, list, set, collections.deque, tuple, types.CellType)
_UNTRACKED = (str, bytes, bytearray, int, float, tuple)
_NAMED = (types.CoroutineType, types.AsyncGeneratorType, types.GeneratorType, types.FunctionType)


def census() -> dict[str, tuple[int, int]]:
    """Objects by kind: (how many, bytes)."""
    gc.collect()
    objects = gc.get_objects()
    holder: dict[int, str] = {}
    for item in objects:
        for held in gc.get_referents(item):
            if isinstance(held, _CONTAINERS):
                holder.setdefault(id(held), type(item).__qualname__)
    counts: collections.Counter[str] = collections.Counter()
    sizes: collections.Counter[str] = collections.Counter()
    seen = {id(item) for item in objects}
    for item in objects:
        kind = _kind(item, holder)
        counts[kind] += 1
        sizes[kind] += sys.getsizeof(item)
        for held in gc.get_referents(item):
            if id(held) not in seen and type(held) in _UNTRACKED and not gc.is_tracked(held):
                seen.add(id(held))
                loose = f"{type(held).__name__} (untracked)"
                counts[loose] += 1
                sizes[loose] += sys.getsizeof(held)
    return {kind: (counts[kind], sizes[kind]) for kind in counts}


def _kind(item: Any, holder: dict[int, str]) -> str:
    kind = type(item)
    name = f"{kind.__module__}.{kind.__qualname__}"
    if isinstance(item, _CONTAINERS):
        return f"{name} <- {holder.get(id(item), '?')}"
    if isinstance(item, _NAMED):
        return f"{name} {item.__qualname__}"
    if isinstance(item, types.MethodType):
        return f"{name} {getattr(item.__func__, '__qualname__', '?')}"
    return name


def per_stream(before: dict[str, Any], after: dict[str, Any], streams: int) -> list[str]:
    """The census grown between ``before`` and ``after``, per stream, biggest first."""
    grown = {
        kind: (
            (count - before.get(kind, (0, 0))[0]) / streams,
            (size - before.get(kind, (0, 0))[1]) / streams,
        )
        for kind, (count, size) in after.items()
    }
    total = sum(size for _, size in grown.values())
    objects = sum(count for count, _ in grown.values())
    lines = [f"{total / 1024:.1f} KB of objects per open stream ({objects:.0f} objects):"]
    for kind, (count, size) in sorted(grown.items(), key=lambda kv: -kv[1][1])[:30]:
        lines.append(f"{size:8.0f} B  {count:6.2f}  {kind}")
    return lines


def _install(base: str) -> None:
    taken = 0

    def take(signum: int, frame: object) -> None:
        nonlocal taken
        path = Path(f"{base}.{taken}")
        path.with_suffix(".part").write_bytes(orjson.dumps(census()))
        path.with_suffix(".part").rename(path)  # whole, for whoever waits for it
        taken += 1

    signal.signal(signal.SIGUSR1, take)


if __name__ == "__main__":
    _install(os.environ[ENV])
    from drafter.cli import main

    raise SystemExit(main(sys.argv[1:]))
