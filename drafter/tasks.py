"""Periodic background work: one asyncio task that runs a round of work, waits, and runs
the next, until it is stopped.

A round that raises is logged (with its traceback) and the next round comes as usual, so
the task never dies of a failing database or peer. ``stop`` cancels the task, also in the
middle of a round; work that must not be lost on shutdown (a pending batch) is the
owner's to finish after ``stop``. ``wake`` starts the next round without waiting out the
interval (a batch filled up early).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("drafter.tasks")


class Periodic:
    """Runs ``work`` every ``interval_s`` seconds once started.

    ``first_round_at_start``: the first round runs at ``start`` (a sweep, a probe);
    otherwise after one interval (a flush of what piled up meanwhile).
    ``pause_after_failure_s``: extra wait after a failed round, before the usual
    interval (so a failing write is not retried in a tight loop).
    ``logger``: where failures are logged (the owner's logger, so they carry its name).
    """

    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[object]],
        interval_s: float,
        *,
        first_round_at_start: bool = True,
        pause_after_failure_s: float = 0.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self.name = name
        self._work = work
        self._interval_s = interval_s
        self._first_round_at_start = first_round_at_start
        self._pause_after_failure_s = pause_after_failure_s
        self._log = logger or log
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Starts the task on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    def wake(self) -> None:
        """Ends the current wait: the next round starts at once."""
        self._wake.set()

    async def stop(self) -> None:
        """Cancels the task (a round in progress too) and waits until it has ended."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        if not self._first_round_at_start:
            await self._wait(self._interval_s)
        while True:
            try:
                await self._work()
            except Exception:
                self._log.exception("%s failed; trying again later", self.name)
                await asyncio.sleep(self._pause_after_failure_s)
            await self._wait(self._interval_s)

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()
