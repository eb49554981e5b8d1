"""A value loaded once, in the background, by a blocking function: the rembg session,
whose import compiles pymatting's functions with numba (tens of seconds on a cold
compile cache), so the service answers at once and that one RPC says "starting".

The load runs on a daemon thread, not in the event loop's executor: an import cannot be
interrupted, and a daemon thread does not hold up the process when it is stopped while
still loading (``asyncio.run`` joins the default executor's threads on the way out)."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class LoadState(enum.Enum):
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


class BackgroundLoad(Generic[T]):
    """LOADING from :meth:`start` until ``load`` returns (READY, :attr:`value`) or raises
    (FAILED, :attr:`error`); the state only ever moves forward, on the event loop."""

    def __init__(self, load: Callable[[], T], *, name: str) -> None:
        self._load = load
        self._name = name
        self._done: asyncio.Future[None] | None = None
        self.state = LoadState.LOADING
        self.value: T | None = None
        self.error: BaseException | None = None
        self.seconds = 0.0

    def start(self) -> None:
        """Starts the load on its thread (call once, from the event loop)."""
        if self._done is not None:
            raise RuntimeError(f"{self._name} was already started")
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        started = time.perf_counter()

        def finish(value: T | None, error: BaseException | None) -> None:
            self.seconds = time.perf_counter() - started
            self.value, self.error = value, error
            self.state = LoadState.FAILED if error is not None else LoadState.READY
            if self._done is not None and not self._done.done():
                self._done.set_result(None)

        def run() -> None:
            try:
                value = self._load()
            except BaseException as exc:
                outcome: tuple[T | None, BaseException | None] = (None, exc)
            else:
                outcome = (value, None)
            # RuntimeError: the loop has closed, the service stopped meanwhile.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(finish, *outcome)

        threading.Thread(target=run, name=self._name, daemon=True).start()

    async def wait(self) -> LoadState:
        """The final state, once the load has finished (READY or FAILED)."""
        if self._done is None:
            raise RuntimeError(f"{self._name} was not started")
        await asyncio.shield(self._done)
        return self.state
