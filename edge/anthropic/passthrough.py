"""One passed-through Messages request: reads the chat service's ``Messages`` answers
(the upstream's head, its body as raw bytes, the usage) and settles the reservation.

A non-streamed answer, or any answer with an error status, goes back whole with the
upstream's status and headers. A stream goes back event by event as each arrives, each
written at once (in process, once the first went out, from within the callback that
received it: ``RelayedCall``'s direct reader); while the upstream is silent Drafter's
keep-alive is an ``event: ping`` frame, as the live API sends. A failure before the head
still gets its HTTP status (the ``grpc.RpcError`` goes to the app's handler, in
Anthropic's shape); after the first byte it becomes an ``event: error`` frame. A client
that goes away closes the frames' generator, which cancels the gRPC call and, behind it,
the upstream request.

Settling follows ``Accounting.conclude``: an answer that ended with its usage succeeded
(its tokens, cache reads and writes apart); an upstream error status is refunded
(rejected for the caller's own 4xx, failed otherwise); once content events went out a
stream is billed however it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import orjson
from grpc import aio

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.edge.api.accounting import Accounting, Settlement, outcome_of_failure
from drafter.edge.api.relayed_call import RelayedCall
from drafter.edge.errors import APIError, api_error_from_rpc

PING = b'event: ping\ndata: {"type": "ping"}\n\n'
# Events that carry generated content: once one went out, the request counts.
_CONTENT_EVENTS = (b"event: content_block_start", b"event: content_block_delta")
_MISSING_HEAD = "The chat service answered without the upstream's status."


def error_event(body: bytes) -> bytes:
    """An Anthropic error body as the ``event: error`` frame of a stream."""
    return b"event: error\ndata: " + body + b"\n\n"


def outcome_of_status(status: int) -> accounts_pb.Outcome:
    """An upstream refusal: the caller's own (4xx but 429) is rejected, the rest failed."""
    if 400 <= status < 500 and status != 429:
        return accounts_pb.OUTCOME_REJECTED
    return accounts_pb.OUTCOME_FAILED


class MessagesCall(RelayedCall):
    """Reads one ``Messages`` call and settles its :class:`Settlement` when it ends."""

    def __init__(
        self,
        rpc: aio.UnaryStreamCall,
        accounting: Accounting,
        settlement: Settlement,
        request_id: str,
    ) -> None:
        super().__init__(rpc, accounting, settlement)
        self._request_id = request_id
        self.head: chat_pb.UpstreamHead | None = None

    async def first_head(self, wait_s: float | None) -> chat_pb.UpstreamHead | None:
        """The upstream's head; None when it did not come within ``wait_s`` (it is still
        awaited, by :meth:`frames`). A failure settles and raises."""
        answer = await self.first_answer(wait_s)
        if answer is None:
            return None
        try:
            return self._take_head(answer)
        except APIError:
            await self._accounting.conclude(self._settlement, accounts_pb.OUTCOME_FAILED)
            raise

    def _take_head(self, answer: object) -> chat_pb.UpstreamHead:
        if answer is aio.EOF or answer.WhichOneof("event") != "head":  # type: ignore[attr-defined]
            raise APIError(500, _MISSING_HEAD, "api_error")
        self.head = answer.head  # type: ignore[attr-defined]
        return self.head

    def _record(self, answer: chat_pb.MessagesResponse) -> bytes | None:
        """The body bytes of ``answer`` (None for the usage, which is recorded)."""
        if answer.WhichOneof("event") == "usage":
            self._settlement.usage = answer.usage
            self._settlement.units_used = 1
            return None
        return answer.body

    def _outcome(self) -> accounts_pb.Outcome:
        if self._settlement.usage is not None:
            return accounts_pb.OUTCOME_SUCCEEDED
        status = self.head.status if self.head is not None else 500
        return outcome_of_status(status) if status >= 400 else accounts_pb.OUTCOME_FAILED

    async def whole_body(self) -> bytes:
        """The rest of the answer as one body (after :meth:`first_head`); settles."""
        parts: list[bytes] = []
        try:
            while (answer := await self._read()) is not aio.EOF:
                body = self._record(answer)  # type: ignore[arg-type]
                if body:
                    parts.append(body)
        except grpc.RpcError as exc:
            await self._accounting.conclude(self._settlement, outcome_of_failure(exc.code()))
            raise
        except asyncio.CancelledError:
            self._rpc.cancel()
            await self._accounting.conclude(self._settlement, accounts_pb.OUTCOME_CANCELLED)
            raise
        await self._accounting.conclude(self._settlement, self._outcome())
        return b"".join(parts)

    async def frames(self) -> AsyncIterator[bytes]:
        """The stream's events as they arrive; starts with a ping when the head has not
        come yet. An error status that comes after the response started, and a failure
        after the first byte, become an ``event: error`` frame."""
        outcome: accounts_pb.Outcome = accounts_pb.OUTCOME_CANCELLED
        try:
            if self.head is None:
                yield PING
                self._take_head(await self._read())
            assert self.head is not None
            if self.head.status >= 400:
                outcome = outcome_of_status(self.head.status)
                parts = [self._record(answer) async for answer in self._answers()]
                yield error_event(b"".join(part for part in parts if part))
                return
            read = self._read
            while (answer := await read()) is not aio.EOF:
                event = self._event(answer)  # type: ignore[arg-type]
                answer = None  # not kept while the next one is awaited
                if event:
                    yield event
                if not self._offered:  # in-process: the events as they come (once)
                    self._read_directly(self._event)
            outcome = self._outcome()
        except grpc.RpcError as exc:
            outcome = outcome_of_failure(exc.code())
            yield self._error_frame(api_error_from_rpc(exc))
        except APIError as err:
            outcome = accounts_pb.OUTCOME_FAILED
            yield self._error_frame(err)
        finally:
            self._stop_reading_directly()
            if self._pending is not None:
                self._pending.cancel()
            if outcome == accounts_pb.OUTCOME_CANCELLED:
                self._rpc.cancel()
            await self._accounting.conclude(self._settlement, outcome)

    def _event(self, answer: chat_pb.MessagesResponse) -> bytes | None:
        """A stream's frame: the event as it came, counted as delivered when it carries
        content (None for the usage, which is recorded)."""
        event = self._record(answer)
        if event and event.startswith(_CONTENT_EVENTS):
            self._settlement.deliver(0, len(event))
        return event

    def _error_frame(self, err: APIError) -> bytes:
        return error_event(orjson.dumps(err.anthropic_body(self._request_id)))

    async def _answers(self) -> AsyncIterator[chat_pb.MessagesResponse]:
        while (answer := await self._read()) is not aio.EOF:
            yield answer  # type: ignore[misc]
