"""How long an upstream call may take: the model table's ``upstream_timeout_s``, as one
bound on every wait for the whole Message, or per wait for a stream (its opening and each
next event). Only the waits on the upstream count, never the caller's."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from drafter.common.v1 import errors_pb2
from drafter.rpc.errors import UpstreamTimeout

_T = TypeVar("_T")


class UpstreamClock:
    """Bounds the waits of one upstream call: all of them together within ``timeout_s``
    (a call for the whole Message), or each one (``per_event``: a stream's opening and
    each next event). Past it the wait fails as ``UPSTREAM_TIMEOUT``."""

    def __init__(self, timeout_s: float, *, per_event: bool, model: str) -> None:
        self._timeout_s = timeout_s
        self._per_event = per_event
        self._model = model
        self._deadline = asyncio.get_running_loop().time() + timeout_s

    async def wait(self, step: Awaitable[_T]) -> _T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s if self._per_event else self._deadline
        try:
            async with asyncio.timeout_at(deadline) as scope:
                return await step
        except TimeoutError:
            if not scope.expired():
                raise
            raise self._timed_out() from None

    def _timed_out(self) -> UpstreamTimeout:
        what = "send its next event" if self._per_event else "answer"
        return UpstreamTimeout(
            f"The upstream did not {what} within {self._timeout_s:g} s"
            f" (the model's upstream timeout).",
            reason=errors_pb2.ERROR_REASON_UPSTREAM_TIMEOUT,
            metadata={"model": self._model, "timeout_s": f"{self._timeout_s:g}"},
        )
