"""A server-streaming gRPC call the edge relays to its HTTP client and settles when it
ends: the common part of a streamed chat completion (``edge/openai/chat_stream.py``), a
Messages passthrough (``edge/anthropic/passthrough.py``) and a Responses call
(``edge/responses/call.py``).

The first answer is awaited apart, within a wait (``first_answer``): a failure before it
still gets its own HTTP status, and an upstream that is slow to start gets its response
started (with keep-alives) while the read goes on, then taken by the next ``_read``.
Every other read is the call's own ``read``, with nothing in between: a stream reads once
per event.

In-process (``drafter up``), once the first frame went out through a response that
writes straight to the connection (``EventStreamResponse``'s ``on_writer``, told to
:meth:`RelayedCall.write_to`), the call is offered a direct reader
(``LocalStreamCall.read_directly``): what arrives from upstream while the frames wait
for their next message (answer text; every event of a Messages stream) is framed and
written within the callback that received it (:class:`FramesAsTheyCome`), when the
writer is writable; the same frame, and the same count of what was delivered, as the
frames loop would have made of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from grpc import aio

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.edge.api.accounting import Accounting, Settlement, outcome_of_failure
from drafter.edge.server.event_stream import FrameWriter


class RelayedCall:
    """One call's reads, and its settlement on failure or cancellation of the first."""

    # Where the response writes frames straight to the connection (``write_to``);
    # whether a direct reader writing there was offered (``_read_directly``), and to what.
    _output: FrameWriter | None = None
    _offered = False
    _offered_to: Callable[[FramesAsTheyCome | None], None] | None = None

    def write_to(self, output: FrameWriter | None) -> None:
        """Told by the response (``EventStreamResponse``'s ``on_writer``)."""
        self._output = output

    def _read_directly(
        self,
        frame: Callable[[Any], bytes | None],
        text_frame: Callable[[int, str], bytes] | None = None,
    ) -> None:
        """Once the response writes straight to the connection: offers an in-process call
        a direct reader that frames its messages with ``frame`` (and answer text with
        ``text_frame``: :class:`TextAsItComes`) and writes them there (a gRPC call has no
        such offer)."""
        if self._output is None:
            return
        self._offered = True
        offer = self._offered_to = getattr(self._rpc, "read_directly", None)
        if offer is not None:
            offer(
                FramesAsTheyCome(self, frame)
                if text_frame is None
                else TextAsItComes(self, frame, text_frame)
            )

    def _stop_reading_directly(self) -> None:
        if self._offered_to is not None:
            self._offered_to(None)

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


class FramesAsTheyCome:
    """A relayed call's direct reader (``drafter.rpc.local.DirectReader``): a message
    handed over as it arrives is framed and written at once, as the frames loop would
    have; ready only while the response's writer is writable (else the message is read
    as ever, and the loop waits for the socket to drain)."""

    __slots__ = ("_call", "_frame")

    def __init__(self, call: RelayedCall, frame: Callable[[Any], bytes | None]) -> None:
        self._call = call
        self._frame = frame

    def ready(self) -> bool:
        output = self._call._output
        return output is not None and output.writable

    def __call__(self, message: Any) -> None:
        frame = self._frame(message)
        output = self._call._output
        if frame and output is not None:
            output.write(frame)


class TextAsItComes(FramesAsTheyCome):
    """A direct reader that also takes a chat completion's answer text as it is
    (``drafter.services.chat.as_it_arrives.TextReader``): its frame made straight from
    the text, the same as the frame of the message of a delta of that text."""

    __slots__ = ("_text_frame",)

    def __init__(
        self,
        call: RelayedCall,
        frame: Callable[[Any], bytes | None],
        text_frame: Callable[[int, str], bytes],
    ) -> None:
        super().__init__(call, frame)
        self._text_frame = text_frame

    def text(self, choice_index: int, text: str) -> None:
        output = self._call._output
        if output is not None:
            output.write(self._text_frame(choice_index, text))
