"""One Responses call: reads the chat service's ``Respond`` answers (events as JSON, then
the usage), seals reasoning items on their way out (``sealing``), writes them as OpenAI
streams them (``event: <type>`` and ``data: <json>``) or keeps the final response, and
settles the reservation when it ends.

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
_TERMINAL = frozenset({"response.completed", "response.incomplete"})
_NO_ANSWER = "The chat service ended the response without its last event."


def sse_frame(event_type: str, data: bytes) -> bytes:
    return b"event: " + event_type.encode() + b"\ndata: " + data + b"\n\n"


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
        self._started: dict[str, Any] | None = None
        self._done_items: list[Item] = []
        self._next_sequence = 0
        self.final: dict[str, Any] | None = None
        self.output: list[Item] = []

    async def _answers(self, first: object | None) -> AsyncIterator[chat_pb.RespondResponse]:
        answer = first
        if answer is None:
            answer = await self._read()
        while answer is not aio.EOF:
            yield answer  # type: ignore[misc]
            answer = await self._read()

    def _take(self, answer: chat_pb.RespondResponse) -> tuple[str, bytes] | None:
        """The event (its type, its JSON as the client gets it); None for the usage."""
        if answer.WhichOneof("event") == "usage":
            self._settlement.usage = answer.usage
            self._settlement.units_used = 1
            return None
        data = answer.data
        if data.startswith(_CONTENT_EVENTS):
            self._settlement.deliver(0, len(data))
        event = orjson.loads(data)
        kind = str(event.get("type"))
        self._next_sequence = int(event.get("sequence_number", 0)) + 1
        if kind == "response.created":
            self._started = event["response"]
        elif kind == "response.output_item.done":
            self._seal_item(event["item"])
            self._done_items.append(event["item"])
            data = orjson.dumps(event) if event["item"].get("type") == "reasoning" else data
        elif kind in _TERMINAL:
            response = event["response"]
            for item in response.get("output") or ():
                self.output.append(self._seal_item(item))
            self.final = response
            data = orjson.dumps(event)
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
            async for answer in self._answers(first):
                self._take(answer)
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
            async for answer in self._answers(first):
                taken = self._take(answer)
                if taken is not None:
                    yield sse_frame(*taken)
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
            if self._pending is not None:
                self._pending.cancel()
            if outcome == accounts_pb.OUTCOME_CANCELLED:
                self._rpc.cancel()
            await self._accounting.conclude(self._settlement, outcome)
        if self.final is not None:
            await finished(self.final, self.output)

    def _failure_frames(self, err: APIError) -> list[bytes]:
        """``error``, then ``response.failed`` when the response had started."""
        code = err.code or err.type
        error = {"type": "error", "code": code, "message": err.message, "param": err.param}
        frames = [sse_frame("error", orjson.dumps({**error, "sequence_number": self._sequence()}))]
        if self._started is not None:
            response = {
                **self._started,
                "status": "failed",
                "error": {"code": code, "message": err.message},
                "output": self._done_items,
            }
            failed = {
                "type": "response.failed",
                "sequence_number": self._sequence(),
                "response": response,
            }
            frames.append(sse_frame("response.failed", orjson.dumps(failed)))
        return frames

    def _sequence(self) -> int:
        number, self._next_sequence = self._next_sequence, self._next_sequence + 1
        return number
