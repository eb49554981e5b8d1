"""A server-streaming gRPC call the edge relays to its HTTP client and settles when it
ends: the common part of a streamed chat completion (``edge/openai/chat_stream.py``), a
Messages passthrough (``edge/anthropic/passthrough.py``) and a Responses call
(``edge/responses/call.py``).

The first answer is awaited apart, within a wait (``first_answer``): a failure before it
still gets its own HTTP status, and an upstream that is slow to start gets its response
started (with keep-alives) while the read goes on, then taken by the next ``_read``.
Every other read is the call's own ``read``, with nothing in between: a stream reads once
per event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import grpc
from grpc import aio

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.edge.api.accounting import Accounting, Settlement, outcome_of_failure


class RelayedCall:
    """One call's reads, and its settlement on failure or cancellation of the first."""

    def __init__(
        self, rpc: aio.UnaryStreamCall, accounting: Accounting, settlement: Settlement
    ) -> None:
        self._rpc = rpc
        self._accounting = accounting
        self._settlement = settlement
        self._pending: asyncio.Future[object] | None = None
        # The next read: the call's own, or the first answer's while it is still awaited.
        self._read: Callable[[], Awaitable[object]] = rpc.read

    async def first_answer(self, wait_s: float | None) -> object | None:
        """The first answer; None when none came within ``wait_s`` (it is still awaited,
        by the next ``_read``). A failure settles and raises."""
        pending = self._pending = asyncio.ensure_future(self._rpc.read())
        try:
            done, _ = await asyncio.wait((pending,), timeout=wait_s)
            if not done:
                self._read = self._pending_answer
                return None
            self._pending = None
            answer: object = pending.result()
            return answer
        except grpc.RpcError as exc:
            await self._accounting.conclude(self._settlement, outcome_of_failure(exc.code()))
            raise
        except asyncio.CancelledError:
            pending.cancel()
            self._rpc.cancel()
            await self._accounting.conclude(self._settlement, accounts_pb.OUTCOME_CANCELLED)
            raise

    async def _pending_answer(self) -> object:
        """The first answer, still awaited when ``first_answer`` gave up waiting."""
        pending, self._pending = self._pending, None
        self._read = self._rpc.read
        assert pending is not None
        return await pending
