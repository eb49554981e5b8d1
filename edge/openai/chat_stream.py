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
the connection within the callback that received it (``relayed_call.TextAsItComes``),
when the response's writer is writable; the same frame, and the same count of what was
delivered, as the loop would have made of it, without waking the stream's task. That
text comes as it is, with no message made of it and read back (``_text_frame``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import grpc
from grpc import aio

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.edge.api.accounting import outcome_of_failure
from drafter.edge.api.relayed_call import RelayedCall
from drafter.edge.errors import api_error_from_rpc
from drafter.edge.openai import sse
from drafter.edge.openai.from_proto import FINISH_REASONS, delta_from_proto, usage_from_proto
from drafter.edge.server.event_stream import KEEPALIVE


class ChatStream(RelayedCall):
    """Reads gRPC events, writes SSE frames, and records the choices finished and the
    tokens used on its :class:`Settlement`, concluded when the stream ends."""

    async def first_event(self, wait_s: float) -> object | None:
        """The first event; None when none came within ``wait_s`` (it is still awaited)."""
        return await self.first_answer(wait_s)

    async def frames(
        self, first: object | None, writer: sse.ChunkWriter, include_usage: bool
    ) -> AsyncIterator[bytes]:
        """The SSE frames; a ``first`` of None (silent so far) starts with a keep-alive."""
        outcome: accounts_pb.Outcome = accounts_pb.OUTCOME_CANCELLED
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
                if not self._offered:  # in-process: its text as it comes (once)
                    self._read_directly(
                        lambda e: self._frame(e, writer, include_usage),
                        partial(self._text_frame, writer=writer),
                    )
                event = await self._read()
            outcome = accounts_pb.OUTCOME_SUCCEEDED
            yield sse.DONE
        except grpc.RpcError as exc:
            outcome = outcome_of_failure(exc.code())
            yield sse.error_frame(api_error_from_rpc(exc).body())
        finally:
            self._stop_reading_directly()
            if self._pending is not None:
                self._pending.cancel()
            if outcome == accounts_pb.OUTCOME_CANCELLED:
                self._rpc.cancel()
            await self._accounting.conclude(self._settlement, outcome)

    def _text_frame(self, index: int, text: str, writer: sse.ChunkWriter) -> bytes:
        """A delta of answer text's frame, counted as sent once framed: the frame is
        written next (see Billing in ``edge/api/accounting.py``)."""
        self._settlement.deliver(index, len(text))
        return writer.text(index, text)

    def _frame(
        self, event: chat_pb.StreamCompleteResponse, writer: sse.ChunkWriter, include_usage: bool
    ) -> bytes | None:
        kind = event.WhichOneof("event")
        if kind == "delta":
            delta = event.delta
            index = delta.choice_index
            if delta.WhichOneof("content") == "text":
                return self._text_frame(index, delta.text, writer)
            # Counted as sent once framed: the frame is yielded next (see Billing in
            # ``edge/api/accounting.py``).
            self._settlement.deliver(index, _chars(delta))
            return writer.delta(index, delta_from_proto(delta))
        if kind == "finished":
            self._settlement.units_used += 1
            finished = event.finished
            return writer.finish(finished.choice_index, FINISH_REASONS[finished.finish_reason])
        if kind == "usage":
            self._settlement.usage = event.usage
            return writer.usage(usage_from_proto(event.usage)) if include_usage else None
        return None


def _chars(delta: chat_pb.Delta) -> int:
    """Characters of generated output in a delta (text, thinking, tool-call pieces)."""
    kind = delta.WhichOneof("content")
    if kind == "tool_call":
        call = delta.tool_call
        return len(call.name) + len(call.arguments_json)
    return len(delta.text) + len(delta.reasoning)
