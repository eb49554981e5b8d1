"""How long an upstream call may take: the model table's ``upstream_timeout_s``, as one
bound on every wait for the whole Message, or per wait for a stream (its opening and each
next event). Only the waits on the upstream count, never the caller's.

A stream's waits are its events, so the clock keeps one timer per call rather than one
per wait: each wait moves the deadline, and the timer looks at it only when it fires
(moving itself on to the current deadline then). A wait still in progress past its
deadline has its task cancelled there, and fails as ``UPSTREAM_TIMEOUT``.

A wait is ``await clock.wait(step)``, or the clock as a context manager around the await
(``with clock: batch = await next_batch()``): what a stream's reader does per event, with
no coroutine of the clock's own to create and pass through each time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, TypeVar

from drafter.common.v1 import errors_pb2
from drafter.rpc.errors import UpstreamTimeout

_T = TypeVar("_T")
# A timer that fires this close to its time is taken as on time (the loop's clock is coarse).
_EARLY_S = 0.002


class UpstreamClock:
    """Bounds the waits of one upstream call: all of them together within ``timeout_s``
    (a call for the whole Message), or each one (``per_event``: a stream's opening and
    each next event). Past it the wait fails as ``UPSTREAM_TIMEOUT``."""

    def __init__(self, timeout_s: float, *, per_event: bool, model: str) -> None:
        self._timeout_s = timeout_s
        self._per_event = per_event
        self._model = model
        self._loop = asyncio.get_running_loop()
        self._deadline = self._loop.time() + timeout_s
        self._waiting: asyncio.Task[object] | None = None  # the task of the wait in progress
        self._timer: asyncio.TimerHandle | None = None
        self._fired = False  # the timer cancelled the wait in progress

    async def wait(self, step: Awaitable[_T]) -> _T:
        """``step`` awaited as one wait; one refused at once is closed, never awaited."""
        try:
            with self:
                return await step
        except UpstreamTimeout:
            _close(step)  # refused before it ran (closing one that ran does nothing)
            raise

    def __enter__(self) -> None:
        """A wait starts: its deadline moves on (``per_event``), or past it the wait is
        refused; the timer is armed if it is not."""
        if self._per_event:
            self._deadline = self._loop.time() + self._timeout_s
        elif self._loop.time() >= self._deadline:
            raise self._timed_out()
        # The loop given: an implicit one costs a system call (the process id's check).
        self._waiting = asyncio.current_task(self._loop)
        if self._timer is None:
            self._timer = self._loop.call_at(self._deadline, self._due)

    def bounding(self, opening: AbstractAsyncContextManager[_T]) -> AbstractAsyncContextManager[_T]:
        """``opening`` (an upstream call's, such as ``MessagesApi.open``) entered as one of
        the clock's waits, and exited as it is."""
        return _Bounded(self, opening)

    def heard(self) -> None:
        """The upstream was heard from during the wait in progress, which goes on (an
        event taken as it arrived): a stream's deadline counts from now."""
        if self._per_event:
            self._deadline = self._loop.time() + self._timeout_s

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """The wait ended: a cancellation that was the timer's alone is the timeout."""
        timed_out = isinstance(error, asyncio.CancelledError) and self._cancelled_by_timer()
        self._waiting = None
        if timed_out:
            raise self._timed_out() from None

    def _cancelled_by_timer(self) -> bool:
        """Whether the timer cancelled the wait in progress, and nobody else did too (its
        task's cancellation then undone)."""
        task = self._waiting
        if not self._fired or task is None:
            return False
        self._fired = False
        return task.uncancel() == 0

    def _due(self) -> None:
        """The timer fired: cancels the wait in progress if its deadline has passed, else
        waits on for it; with no wait in progress it stops (the next wait restarts it)."""
        self._timer = None
        task = self._waiting
        if task is None or task.done():
            return
        if self._loop.time() + _EARLY_S < self._deadline:
            self._timer = self._loop.call_at(self._deadline, self._due)
            return
        self._fired = True
        task.cancel()

    def stop(self) -> None:
        """No more waits: the timer goes."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self) -> UpstreamTimeout:
        what = "send its next event" if self._per_event else "answer"
        return UpstreamTimeout(
            f"The upstream did not {what} within {self._timeout_s:g} s"
            f" (the model's upstream timeout).",
            reason=errors_pb2.ERROR_REASON_UPSTREAM_TIMEOUT,
            metadata={"model": self._model, "timeout_s": f"{self._timeout_s:g}"},
        )


class _Bounded(AbstractAsyncContextManager[_T]):
    """:meth:`UpstreamClock.bounding`: what an ``AsyncExitStack`` would do here, without
    the stack and its deque (760 bytes) kept for as long as the stream lasts."""

    __slots__ = ("_clock", "_opening")

    def __init__(self, clock: UpstreamClock, opening: AbstractAsyncContextManager[_T]) -> None:
        self._clock = clock
        self._opening = opening

    async def __aenter__(self) -> _T:
        return await self._clock.wait(self._opening.__aenter__())

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        return await self._opening.__aexit__(*exc_info)


def _close(step: Awaitable[object]) -> None:
    """A coroutine that will never be awaited is closed (no 'never awaited' warning)."""
    close = getattr(step, "close", None)
    if close is not None:
        close()
