"""One Responses call: reads the chat service's ``Respond`` answers (events as JSON, then
the usage), seals reasoning items on their way out (``sealing``), writes them as OpenAI
streams them (``event: <type>`` and ``data: <json>``) or keeps the final response, and
settles the reservation when it ends.

Most events (the deltas) go out as the chat service wrote them: their type is read off
the front of their JSON, where the service writes it, and only the events the edge keeps
or changes (``response.output_item.done``, the last one) are parsed as they come; the
first one and the last one's sequence number are read only when a failure needs them.

A failure before the first event still gets its HTTP status (the ``grpc.RpcError`` goes
to the app's handler); after it, an ``error`` event and then ``response.failed``. A
client that goes away closes the frames' generator, which cancels the gRPC call and,
behind it, the upstream request. Billing is ``Accounting.conclude``'s: once generated
content went out (a delta, a call), the request counts however it ends; one that sent
nothing is refunded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import orjson
from grpc import aio

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.edge.api.accounting import Accounting, Settlement, outcome_of_failure
from drafter.edge.api.relayed_call import RelayedCall
from drafter.edge.errors import APIError, api_error_from_rpc
from drafter.edge.responses.sealing import Sealer

Item = dict[str, Any]
Finished = Callable[[dict[str, Any], list[Item]], Awaitable[None]]

# Events that carry generated content: once one went out, the request counts.
_CONTENT_EVENTS = tuple(
    b'{"type":"response.' + name
    for name in (
        b"output_text.delta",
        b"function_call_arguments.",
        b"custom_tool_call_input.",
        b"reasoning_summary_text.delta",
    )
)
_TERMINAL = frozenset({b"response.completed", b"response.incomplete"})
_NO_ANSWER = "The chat service ended the response without its last event."
_TYPE_HEAD = b'{"type":"'


def sse_frame(event_type: bytes, data: bytes) -> bytes:
    return b"event: %b\ndata: %b\n\n" % (event_type, data)


def event_type(data: bytes) -> bytes:
    """The ``type`` of an event's JSON: read off its front when it comes first (as the
    chat service writes it), else parsed."""
    if data.startswith(_TYPE_HEAD):
        end = data.find(b'"', len(_TYPE_HEAD))
        if end > 0:
            return data[len(_TYPE_HEAD) : end]
    return str(orjson.loads(data).get("type")).encode()


class ResponseCall(RelayedCall):
    """Reads one ``Respond`` call; :attr:`final` is the response as the client got it and
    :attr:`output` its output items as a conversation keeps them (reasoning sealed)."""

    def __init__(
        self,
        rpc: aio.UnaryStreamCall,
        accounting: Accounting,
        settlement: Settlement,
        sealer: Sealer,
        *,
        include_encrypted: bool,
    ) -> None:
        super().__init__(rpc, accounting, settlement)
        self._sealer = sealer
        self._include = include_encrypted
        self._sealed: dict[str, str] = {}
        self._created = b""  # the JSON of ``response.created``, once it went out
        self._done_items: list[Item] = []
        self._last_event = b""  # the JSON of the last event that went out
        self._next_sequence: int | None = None  # of a failure's events, once known
        self.final: dict[str, Any] | None = None
        self.output: list[Item] = []

    def _take(self, answer: chat_pb.RespondResponse) -> tuple[bytes, bytes] | None:
        """The event (its type, its JSON as the client gets it); None for the usage."""
        data = answer.data
        if not data:  # the usage (an event is never empty)
            self._settlement.usage = answer.usage
            self._settlement.units_used = 1
            return None
        if data.startswith(_CONTENT_EVENTS):
            self._settlement.deliver(0, len(data))
        kind = event_type(data)
        if kind == b"response.created":
            self._created = data
        elif kind == b"response.output_item.done":
            event = orjson.loads(data)
            item = event["item"]
            self._done_items.append(item)
            if self._seal_item(item) is not item:  # a reasoning item, sealed
                data = orjson.dumps(event)
        elif kind in _TERMINAL:
            event = orjson.loads(data)
            response = event["response"]
            sealed = False
            for item in response.get("output") or ():
                kept = self._seal_item(item)
                sealed = sealed or kept is not item
                self.output.append(kept)
            self.final = response
            if sealed:
                data = orjson.dumps(event)
        self._last_event = data
        return kind, data

    def _seal_item(self, item: Item) -> Item:
        """Seals a reasoning item's thinking: the conversation's copy is returned, and the
        client's (``item``) keeps it only when the request included it."""
        if item.get("type") != "reasoning" or not item.get("encrypted_content"):
            return item
        item_id = str(item.get("id"))
        token = self._sealed.get(item_id)
        if token is None:
            token = self._sealed[item_id] = self._sealer.seal(str(item["encrypted_content"]))
        kept = {**item, "encrypted_content": token}
        item["encrypted_content"] = token if self._include else None
        return kept

    def _outcome(self) -> accounts_pb.Outcome:
        if self.final is None or self._settlement.usage is None:
            raise APIError(500, _NO_ANSWER, "api_error")
        return accounts_pb.OUTCOME_SUCCEEDED

    async def whole(self, first: object | None) -> dict[str, Any]:
        """The final response (after :meth:`first_answer`); settles."""
        try:
            answer = first if first is not None else await self._read()
            while answer is not aio.EOF:
                self._take(answer)  # type: ignore[arg-type]
                answer = await self._read()
            outcome = self._outcome()
        except grpc.RpcError as exc:
            await self._accounting.conclude(self._settlement, outcome_of_failure(exc.code()))
            raise
        except APIError:
            await self._accounting.conclude(self._settlement, accounts_pb.OUTCOME_FAILED)
            raise
        except asyncio.CancelledError:
            self._rpc.cancel()
            await self._accounting.conclude(self._settlement, accounts_pb.OUTCOME_CANCELLED)
            raise
        await self._accounting.conclude(self._settlement, outcome)
        assert self.final is not None
        return self.final

    async def frames(self, first: object | None, finished: Finished) -> AsyncIterator[bytes]:
        """The stream's frames; ``finished`` gets the final response and the output items
        once the last event went out."""
        outcome: accounts_pb.Outcome = accounts_pb.OUTCOME_CANCELLED
        try:
            answer = first if first is not None else await self._read()
            while answer is not aio.EOF:
                taken = self._take(answer)  # type: ignore[arg-type]
                if taken is not None:
                    yield sse_frame(*taken)
                if not self._offered:  # in-process: its text as it comes (once)
                    self._read_directly(self._frame)
                answer = await self._read()
            outcome = self._outcome()
        except grpc.RpcError as exc:
            outcome = outcome_of_failure(exc.code())
            for frame in self._failure_frames(api_error_from_rpc(exc)):
                yield frame
        except APIError as err:
            outcome = accounts_pb.OUTCOME_FAILED
            for frame in self._failure_frames(err):
                yield frame
        finally:
            self._stop_reading_directly()
            if self._pending is not None:
                self._pending.cancel()
            if outcome == accounts_pb.OUTCOME_CANCELLED:
                self._rpc.cancel()
            await self._accounting.conclude(self._settlement, outcome)
        if self.final is not None:
            await finished(self.final, self.output)

    def _frame(self, answer: chat_pb.RespondResponse) -> bytes | None:
        """The frame of an answer handed over as it arrived (``FramesAsTheyCome``)."""
        taken = self._take(answer)
        return None if taken is None else sse_frame(*taken)

    def _failure_frames(self, err: APIError) -> list[bytes]:
        """``error``, then ``response.failed`` when the response had started."""
        code = err.code or err.type
        error = {"type": "error", "code": code, "message": err.message, "param": err.param}
        frames = [sse_frame(b"error", orjson.dumps({**error, "sequence_number": self._sequence()}))]
        if self._created:
            response = {
                **orjson.loads(self._created)["response"],
                "status": "failed",
                "error": {"code": code, "message": err.message},
                "output": self._done_items,
            }
            failed = {
                "type": "response.failed",
                "sequence_number": self._sequence(),
                "response": response,
            }
            frames.append(sse_frame(b"response.failed", orjson.dumps(failed)))
        return frames

    def _sequence(self) -> int:
        """The next sequence number: the last event's, plus one."""
        number = self._next_sequence
        if number is None:
            last = orjson.loads(self._last_event) if self._last_event else {}
            number = int(last.get("sequence_number", -1)) + 1
        self._next_sequence = number + 1
        return number
