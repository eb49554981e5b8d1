"""An ``asyncio.Event`` without its deque: what the HTTP server keeps per connection for
events that are rarely waited for.

``asyncio.Event`` makes a ``collections.deque`` for its waiters when it is made, and a
deque holds a block of 64 slots even when empty: 760 bytes with the event, twice per
connection under uvicorn (a request's ``message_event``, the flow control's writable
event), for events that a long stream never waits on. This one makes its list of waiters
at the first wait (56 bytes with the event until then)."""

from __future__ import annotations

import asyncio
from typing import Literal


class SlimEvent:
    """``asyncio.Event``'s behaviour (``set`` wakes every waiter, ``clear`` only makes
    later waits wait), its waiters listed only once one waits."""

    __slots__ = ("_value", "_waiters")

    def __init__(self, value: bool = False) -> None:
        self._value = value
        self._waiters: list[asyncio.Future[bool]] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        if self._value:
            return
        self._value = True
        for waiter in self._waiters or ():
            if not waiter.done():
                waiter.set_result(True)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> Literal[True]:
        if self._value:
            return True
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        waiters = self._waiters
        if waiters is None:
            waiters = self._waiters = []
        waiters.append(waiter)
        try:
            await waiter
            return True
        finally:
            waiters.remove(waiter)

    def __repr__(self) -> str:
        return f"<SlimEvent {'set' if self._value else 'unset'}>"
