"""One streamed chat completion: reads the chat service's ``StreamComplete`` events, writes
OpenAI's SSE frames, and settles the reservation when the stream ends.

A failure before the first event still gets its HTTP status: :meth:`ChatStream.first_event`
lets the ``grpc.RpcError`` go to the app's handler. After the first byte it can only be an
SSE error frame (which the OpenAI SDK raises as ``APIError``), followed by no ``[DONE]``.
A client that goes away closes the frames' generator, which cancels the gRPC call and,
behind it, the upstream request. Once a content frame has gone out, the request is billed
however the stream ends (the rule is ``Accounting.conclude``'s).

In-process (``drafter up``), once the first frame went out, the stream offers the chat
service to take events as they come (``LocalStreamCall.read_directly``): answer text that
arrives from upstream while the frames wait for their next event is framed and written to
the connection within the callback that received it (:class:`_FramesAsTheyCome`), when
the response's writer is writable; the same frame, and the same count of what was
delivered, as the loop would have made of it, without waking the stream's task.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import grpc
from grpc import aio

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.edge.api.accounting import outcome_of_failure
from drafter.edge.api.relayed_call import RelayedCall
from drafter.edge.errors import api_error_from_rpc
from drafter.edge.openai import sse
from drafter.edge.openai.from_proto import FINISH_REASONS, delta_from_proto, usage_from_proto
from drafter.edge.server.event_stream import KEEPALIVE, FrameWriter

ReadDirectly = Callable[["_FramesAsTheyCome | None"], None]  # LocalStreamCall.read_directly


class ChatStream(RelayedCall):
    """Reads gRPC events, writes SSE frames, and records the choices finished and the
    tokens used on its :class:`Settlement`, concluded when the stream ends."""

    # Where the response writes frames straight to the connection (``write_to``).
    _output: FrameWriter | None = None

    def write_to(self, output: FrameWriter | None) -> None:
        """Told by the response (``EventStreamResponse``'s ``on_writer``)."""
        self._output = output

    async def first_event(self, wait_s: float) -> object | None:
        """The first event; None when none came within ``wait_s`` (it is still awaited)."""
        return await self.first_answer(wait_s)

    async def frames(
        self, first: object | None, writer: sse.ChunkWriter, include_usage: bool
    ) -> AsyncIterator[bytes]:
        """The SSE frames; a ``first`` of None (silent so far) starts with a keep-alive."""
        outcome: accounts_pb.Outcome = accounts_pb.OUTCOME_CANCELLED
        # An in-process call's offer to take events as they come (none over gRPC).
        read_directly: ReadDirectly | None = getattr(self._rpc, "read_directly", None)
        offered_to: ReadDirectly | None = None
        try:
            if first is None:
                yield KEEPALIVE
                first = await self._read()
            event, first = first, None
            while event is not aio.EOF:
                frame = self._frame(event, writer, include_usage)  # type: ignore[arg-type]
                event = None  # not kept while the next one is awaited
                if frame:
                    yield frame
                if read_directly is not None and self._output is not None:
                    read_directly(_FramesAsTheyCome(self, writer, include_usage))
                    offered_to, read_directly = read_directly, None  # once: the call keeps it
                event = await self._read()
            outcome = accounts_pb.OUTCOME_SUCCEEDED
            yield sse.DONE
        except grpc.RpcError as exc:
            outcome = outcome_of_failure(exc.code())
            yield sse.error_frame(api_error_from_rpc(exc).body())
        finally:
            if offered_to is not None:
                offered_to(None)
            if self._pending is not None:
                self._pending.cancel()
            if outcome == accounts_pb.OUTCOME_CANCELLED:
                self._rpc.cancel()
            await self._accounting.conclude(self._settlement, outcome)

    def _frame(
        self, event: chat_pb.StreamCompleteResponse, writer: sse.ChunkWriter, include_usage: bool
    ) -> bytes | None:
        kind = event.WhichOneof("event")
        if kind == "delta":
            delta = event.delta
            index = delta.choice_index
            if delta.WhichOneof("content") == "text":
                text = delta.text
                frame, chars = writer.text(index, text), len(text)
            else:
                frame, chars = writer.delta(index, delta_from_proto(delta)), _chars(delta)
            # Counted as sent once framed: the frame is yielded next (see Billing in
            # ``edge/api/accounting.py``).
            self._settlement.deliver(index, chars)
            return frame
        if kind == "finished":
            self._settlement.units_used += 1
            finished = event.finished
            return writer.finish(finished.choice_index, FINISH_REASONS[finished.finish_reason])
        if kind == "usage":
            self._settlement.usage = event.usage
            return writer.usage(usage_from_proto(event.usage)) if include_usage else None
        return None


class _FramesAsTheyCome:
    """A stream's direct reader (``drafter.rpc.local.DirectReader``): an event handed over
    as it arrives is framed and written at once, as the frames loop would have; ready
    only while the response's writer is writable (else the event is read as ever, and
    the loop waits for the socket to drain)."""

    __slots__ = ("_chunks", "_include_usage", "_stream")

    def __init__(self, stream: ChatStream, chunks: sse.ChunkWriter, include_usage: bool) -> None:
        self._stream = stream
        self._chunks = chunks
        self._include_usage = include_usage

    def ready(self) -> bool:
        output = self._stream._output
        return output is not None and output.writable

    def __call__(self, event: chat_pb.StreamCompleteResponse) -> None:
        stream = self._stream
        frame = stream._frame(event, self._chunks, self._include_usage)
        if frame and stream._output is not None:
            stream._output.write(frame)


def _chars(delta: chat_pb.Delta) -> int:
    """Characters of generated output in a delta (text, thinking, tool-call pieces)."""
    kind = delta.WhichOneof("content")
    if kind == "tool_call":
        call = delta.tool_call
        return len(call.name) + len(call.arguments_json)
    return len(delta.text) + len(delta.reasoning)
