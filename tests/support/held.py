"""What a live object holds: whether anything reachable from it carries some text (a
prompt a stream should have let go of once it was sent)."""

from __future__ import annotations

import asyncio
import gc
import types

from google.protobuf.message import Message

# Reached, but not the object's own: the modules, classes and code it runs, and the
# event loop (through which every other task and connection is reachable).
_NOT_ITS_OWN = (types.ModuleType, type, types.CodeType, asyncio.AbstractEventLoop)


def holds(root: object, marker: bytes) -> bool:
    """Whether ``marker`` is in any text, bytes or protocol-buffer message reachable from
    ``root`` (a message's fields live outside Python's objects: it is serialized to look).
    A function is followed into its closure only, not into its module's globals."""
    seen: set[int] = set()
    pending: list[object] = [root]
    text = marker.decode()
    while pending:
        item = pending.pop()
        if id(item) in seen or isinstance(item, _NOT_ITS_OWN):
            continue
        seen.add(id(item))
        if isinstance(item, str):
            found = text in item
        elif isinstance(item, (bytes, bytearray, memoryview)):
            found = marker in bytes(item)
        elif isinstance(item, Message):
            found = marker in item.SerializeToString()
        else:
            found = False
            if isinstance(item, types.FunctionType):
                pending.extend(c.cell_contents for c in item.__closure__ or () if _full(c))
            else:
                pending.extend(gc.get_referents(item))
        if found:
            return True
    return False


def _full(cell: types.CellType) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True
