"""``ChatStream``: gRPC events in, OpenAI SSE frames out, and one settlement at the end —
the choices finished and tokens used on success, delivered output counted after a
failure mid-stream, an early failure raised for its HTTP status, a client that leaves
cancelling the call."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import grpc
import orjson
import pytest
from grpc import aio

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.common.v1 import usage_pb2 as usage_pb
from drafter.edge.api.accounting import Accounting, Settlement
from drafter.edge.openai import sse
from drafter.edge.openai.chat_stream import ChatStream
from drafter.edge.server.event_stream import KEEPALIVE
from tests.edge.fakes import FakeAccounts, RpcFailure

CHAT = accounts_pb.USAGE_KIND_CHAT
USAGE = usage_pb.TokenUsage(input_tokens=5, output_tokens=2)


def delta(index: int, text: str) -> chat_pb.StreamCompleteResponse:
    return chat_pb.StreamCompleteResponse(delta=chat_pb.Delta(choice_index=index, text=text))


def finished(index: int) -> chat_pb.StreamCompleteResponse:
    done = chat_pb.ChoiceFinished(choice_index=index, finish_reason=chat_pb.FINISH_REASON_STOP)
    return chat_pb.StreamCompleteResponse(finished=done)


class FakeCall:
    """A StreamComplete call: its events, then EOF or ``failure``; or silence."""

    def __init__(
        self, events: Sequence[object], failure: grpc.RpcError | None = None, *, hang: bool = False
    ) -> None:
        self._events = list(events)
        self._failure = failure
        self._hang = hang
        self.cancelled = False

    async def read(self) -> object:
        await asyncio.sleep(0)
        if self._events:
            return self._events.pop(0)
        if self._failure is not None:
            raise self._failure
        if self._hang:
            await asyncio.sleep(30)
        return aio.EOF

    def cancel(self) -> bool:
        self.cancelled = True
        return True


async def _stream(call: FakeCall, units: int = 1) -> tuple[ChatStream, FakeAccounts, Accounting]:
    accounts = FakeAccounts()
    accounting = Accounting(accounts, timeout_s=1)  # type: ignore[arg-type]
    reservation = await accounting.authorize("dp_key", CHAT, "m", units)
    return ChatStream(call, accounting, Settlement(reservation)), accounts, accounting  # type: ignore[arg-type]


async def _frames(stream: ChatStream, first: object | None) -> list[bytes]:
    writer = sse.ChunkWriter("chatcmpl-1", 1, "m")
    return [frame async for frame in stream.frames(first, writer, include_usage=True)]


async def test_a_whole_stream_is_framed_and_settled_as_succeeded() -> None:
    usage = chat_pb.StreamCompleteResponse(usage=USAGE)
    stream, accounts, accounting = await _stream(FakeCall([delta(0, "hi"), finished(0), usage]))
    frames = await _frames(stream, await stream.first_event(1.0))
    assert frames[-1] == sse.DONE and len(frames) == 4
    assert orjson.loads(frames[2].removeprefix(b"data: "))["usage"]["total_tokens"] == 7
    await accounting.drain()
    [settled] = accounts.settled
    assert (settled.outcome, settled.units_used) == (accounts_pb.OUTCOME_SUCCEEDED, 1)
    assert settled.usage.input_tokens == 5


async def test_a_silent_start_sends_a_keepalive_first() -> None:
    stream, _, _ = await _stream(FakeCall([finished(0)]))
    frames = await _frames(stream, None)
    assert frames[0] == KEEPALIVE and frames[-1] == sse.DONE


async def test_a_failure_mid_stream_is_an_error_frame_and_delivered_choices_count() -> None:
    failure = RpcFailure(grpc.StatusCode.UNAVAILABLE, "upstream went away")
    stream, accounts, _ = await _stream(FakeCall([finished(0), delta(1, "x")], failure), units=2)
    frames = await _frames(stream, await stream.first_event(1.0))
    error = orjson.loads(frames[-1].removeprefix(b"data: "))["error"]
    assert error["type"] == "overloaded_error" and sse.DONE not in frames
    [settled] = accounts.settled  # one of two choices came back: a refund, sent at once
    assert (settled.outcome, settled.units_used) == (accounts_pb.OUTCOME_SUCCEEDED, 1)


async def test_a_failure_after_content_is_billed_for_what_was_sent() -> None:
    """As OpenAI bills: content reached the client, so the request counts, with the
    tokens estimated from what was sent when the upstream's usage never came."""
    failure = RpcFailure(grpc.StatusCode.UNAVAILABLE)
    stream, accounts, accounting = await _stream(FakeCall([delta(0, "x" * 40)], failure))
    await _frames(stream, await stream.first_event(1.0))
    await accounting.drain()
    [settled] = accounts.settled
    assert (settled.outcome, settled.units_used) == (accounts_pb.OUTCOME_SUCCEEDED, 1)
    assert settled.usage.output_tokens == 10


async def test_an_early_failure_is_raised_for_its_http_status() -> None:
    failure = RpcFailure(grpc.StatusCode.INVALID_ARGUMENT, "bad request")
    stream, accounts, _ = await _stream(FakeCall([], failure))
    with pytest.raises(grpc.RpcError) as raised:
        await stream.first_event(1.0)
    assert raised.value is failure
    assert [s.outcome for s in accounts.settled] == [accounts_pb.OUTCOME_REJECTED]


async def _leave_after_first_frame(call: FakeCall) -> tuple[FakeAccounts, Accounting]:
    stream, accounts, accounting = await _stream(call)
    frames = stream.frames(await stream.first_event(0.05), sse.ChunkWriter("c", 1, "m"), False)
    await anext(frames)
    reading = asyncio.ensure_future(anext(frames))
    await asyncio.sleep(0.01)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    await frames.aclose()
    assert call.cancelled
    await accounting.drain()
    return accounts, accounting


async def test_a_client_that_leaves_after_content_cancels_the_call_and_is_billed() -> None:
    accounts, _ = await _leave_after_first_frame(FakeCall([delta(0, "a")], hang=True))
    [settled] = accounts.settled
    assert (settled.outcome, settled.units_used) == (accounts_pb.OUTCOME_SUCCEEDED, 1)


async def test_a_client_that_leaves_before_any_content_is_refunded() -> None:
    accounts, _ = await _leave_after_first_frame(FakeCall([], hang=True))  # a keep-alive only
    assert [s.outcome for s in accounts.settled] == [accounts_pb.OUTCOME_CANCELLED]


class Output:
    """Where a response writes frames straight to the connection (``FrameWriter``)."""

    writable = True

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def write(self, frame: bytes) -> None:
        self.frames.append(frame)


class OfferedCall(FakeCall):
    """An in-process call: it keeps the direct reader the stream offers it."""

    reader: Any = None

    def read_directly(self, reader: Any) -> None:
        self.reader = reader


async def test_answer_text_taken_as_text_is_framed_and_counted_as_its_message() -> None:
    """In process, the stream's direct reader takes answer text as it is (``text``): the
    same frame, and the same count of what was delivered, as the message of its delta."""
    call = OfferedCall([delta(0, "a")], hang=True)
    stream, _, _ = await _stream(call)
    output = Output()
    stream.write_to(output)
    frames = stream.frames(await stream.first_event(1.0), sse.ChunkWriter("c", 1, "m"), False)
    await anext(frames)
    reading = asyncio.ensure_future(anext(frames))
    await asyncio.sleep(0.01)  # the frames wait for the next event: the reader is offered

    call.reader.text(0, "b\u00e9")
    call.reader(delta(0, "b\u00e9"))

    first, second = output.frames
    assert first == second
    assert orjson.loads(first.removeprefix(b"data: "))["choices"][0]["delta"] == {
        "content": "b\u00e9"
    }
    assert stream._settlement.delivered_chars == 1 + 2 + 2
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    await frames.aclose()
