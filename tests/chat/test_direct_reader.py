"""An in-process StreamComplete whose reader offers to take events as they come
(``LocalStreamCall.read_directly``), as the edge's chat stream does under ``drafter up``:
answer text that arrives while the reader waits goes to it, within the callback that
received it; everything else, and all of it when the reader is not ready or the answer
is not plain text, is read as ever. A Messages passthrough's events, which nothing
translates, all go that way. Against the real chat service and the fake upstream."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from grpc import aio

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.rpc.local import LocalStreamCall
from drafter.rpc.server import RunningServer
from tests.chat.conftest import chat_request, stream_request
from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.reservations import chat_reservation

USER = chat_pb.ROLE_USER
HAIKU = "claude-haiku-4-5"  # the model table's name
Event = chat_pb.StreamCompleteResponse


class Reader:
    """A direct reader that takes what it is handed while ``ready``."""

    def __init__(self, ready: bool = True) -> None:
        self.is_ready = ready
        self.taken: list[Event] = []

    def ready(self) -> bool:
        return self.is_ready

    def __call__(self, message: Any) -> None:
        self.taken.append(message)


class TextReader(Reader):
    """A direct reader that also takes answer text as it is (``TextReader``)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[tuple[int, str]] = []

    def text(self, choice_index: int, text: str) -> None:
        self.texts.append((choice_index, text))


@pytest.fixture
async def local_stub(chat_server: RunningServer) -> AsyncIterator[chat_grpc.ChatServiceStub]:
    yield chat_grpc.ChatServiceStub(chat_server.local.channel())


async def _stream(
    stub: chat_grpc.ChatServiceStub, req: chat_pb.ChatRequest, reader: Reader
) -> list[Event]:
    """The events read, the reader offered after the first (as the edge offers it once
    its first frame went out)."""
    call = stub.StreamComplete(stream_request(req), timeout=10)
    assert isinstance(call, LocalStreamCall)
    read = [await call.read()]
    call.read_directly(reader)
    while (event := await call.read()) is not aio.EOF:
        read.append(event)
    return read


def _texts(events: list[Event]) -> list[str]:
    return [e.delta.text for e in events if e.WhichOneof("event") == "delta"]


def _kinds(events: list[Event]) -> list[str | None]:
    return [e.WhichOneof("event") for e in events]


async def test_answer_text_goes_to_the_reader_as_it_arrives_the_rest_is_read(
    local_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(text="abcdefgh", chunks=4, delay_s=0.05)
    reader = Reader()

    read = await _stream(local_stub, chat_request((USER, "hi")), reader)

    assert _texts(read) == ["ab"]
    assert _texts(reader.taken) == ["cd", "ef", "gh"]
    assert _kinds(read) == ["delta", "finished", "usage"]
    assert read[-1].usage.output_tokens == 4


async def test_answer_text_goes_as_text_to_a_reader_that_takes_text(
    local_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    """No message is made of text a reader takes as it is (``as_it_arrives.as_text``)."""
    fake.enqueue(text="abcdefgh", chunks=4, delay_s=0.05)
    reader = TextReader()

    read = await _stream(local_stub, chat_request((USER, "hi")), reader)

    assert _texts(read) == ["ab"]
    assert reader.texts == [(0, "cd"), (0, "ef"), (0, "gh")]
    assert reader.taken == []
    assert _kinds(read) == ["delta", "finished", "usage"]


async def test_a_reader_that_is_not_ready_takes_nothing(
    local_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(text="abcdefgh", chunks=4, delay_s=0.05)
    reader = Reader(ready=False)

    read = await _stream(local_stub, chat_request((USER, "hi")), reader)

    assert reader.taken == []
    assert _texts(read) == ["ab", "cd", "ef", "gh"]


@pytest.mark.parametrize(
    ("fields", "answers"),
    [({"stop": ["\n\n"]}, 1), ({"n": 2}, 2)],
    ids=["stop sequence enforced here", "several choices"],
)
async def test_text_that_is_not_passed_on_as_it_came_is_read(
    local_stub: chat_grpc.ChatServiceStub,
    fake: FakeAnthropic,
    fields: dict[str, Any],
    answers: int,
) -> None:
    """A stop sequence enforced here (whitespace only: the upstream refuses it) may cut
    or hold text back, several choices are interleaved: their text is read, never taken."""
    for _ in range(answers):
        fake.enqueue(text="abcdefgh", chunks=4, delay_s=0.05)
    reader = Reader()

    read = await _stream(local_stub, chat_request((USER, "hi"), **fields), reader)

    assert reader.taken == []
    for index in range(answers):
        text = [e.delta.text for e in read if e.HasField("delta") and e.delta.choice_index == index]
        assert "".join(text) == "abcdefgh"


async def test_a_reader_taken_back_takes_nothing_more(
    local_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(text="abcdefgh", chunks=4, delay_s=0.05)
    reader = Reader()
    call = local_stub.StreamComplete(stream_request(chat_request((USER, "hi"))), timeout=10)
    assert isinstance(call, LocalStreamCall)
    read = [await call.read()]
    call.read_directly(reader)
    call.read_directly(None)
    while (event := await call.read()) is not aio.EOF:
        read.append(event)

    assert reader.taken == []
    assert _texts(read) == ["ab", "cd", "ef", "gh"]


# --- the Messages passthrough: nothing is translated, so every event may be taken -------


def _messages_request(**fields: Any) -> chat_pb.MessagesRequest:
    body = {"model": HAIKU, "max_tokens": 64, "stream": True, **fields}
    body.setdefault("messages", [{"role": "user", "content": "hi"}])
    return chat_pb.MessagesRequest(
        reservation_id=chat_reservation(HAIKU),
        model=HAIKU,
        body=orjson.dumps(body),
        headers=[chat_pb.HttpHeader(name="anthropic-version", value="2023-06-01")],
    )


async def _passed_through(
    stub: chat_grpc.ChatServiceStub, reader: Reader, *, offer_after: int = 2
) -> list[chat_pb.MessagesResponse]:
    """The answers read, the reader offered after ``offer_after`` of them (the head and
    the first event, as the edge offers it once its first frame went out)."""
    call = stub.Messages(_messages_request(), timeout=10)
    assert isinstance(call, LocalStreamCall)
    read = [await call.read() for _ in range(offer_after)]
    call.read_directly(reader)
    while (answer := await call.read()) is not aio.EOF:
        read.append(answer)
    return read


def _bodies(answers: list[Any]) -> bytes:
    return b"".join(a.body for a in answers if a.WhichOneof("event") == "body")


async def test_passed_through_events_go_to_the_reader_as_they_arrive_the_usage_is_read(
    local_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(text="abcdefgh", chunks=4, delay_s=0.05)
    reader = Reader()

    read = await _passed_through(local_stub, reader)

    assert [a.WhichOneof("event") for a in reader.taken] == ["body"] * len(reader.taken)
    taken = _bodies(reader.taken)
    # Every text delta arrived on its own, after the reader was offered: each was taken,
    # and so were the events around them, the message's end included.
    assert taken.count(b'"type":"text_delta"') == 4
    assert taken.rstrip().endswith(b'{"type":"message_stop"}')
    assert read[0].WhichOneof("event") == "head"
    assert read[-1].WhichOneof("event") == "usage"  # read from the events taken too
    assert read[-1].usage.output_tokens == 4
    # The stream, as the upstream sent it, in order: what was read, then what was taken.
    whole = _bodies(read[:-1]) + taken
    assert whole.startswith(b"event: message_start")
    assert whole.count(b"\n\n") == whole.count(b"event: ")


async def test_a_reader_that_is_not_ready_takes_no_passed_through_event(
    local_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(text="abcdefgh", chunks=4, delay_s=0.05)
    reader = Reader(ready=False)

    read = await _passed_through(local_stub, reader)

    assert reader.taken == []
    assert _bodies(read).count(b'"type":"text_delta"') == 4
    assert read[-1].usage.output_tokens == 4


async def test_an_upstream_error_event_taken_as_it_arrives_leaves_no_usage(
    local_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    """An ``error`` event mid-stream is passed on (taken, here) and ends the answer with
    no usage and no failure of the call, as when it is read."""
    fake.enqueue(text="abcdefgh", chunks=4, delay_s=0.05, error_after=5)
    reader = Reader()

    read = await _passed_through(local_stub, reader)

    assert b"event: error" in _bodies(reader.taken)
    assert all(a.WhichOneof("event") != "usage" for a in read)


class BudgetReader(Reader):
    """Ready for ``budget`` events, then no more (as a client socket that fills up)."""

    def __init__(self, budget: int) -> None:
        super().__init__()
        self.budget = budget

    def ready(self) -> bool:
        return len(self.taken) < self.budget


async def test_events_left_once_the_reader_is_full_are_read_in_order(
    local_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(text="abcdefgh", chunks=4, delay_s=0.05)
    alone = _bodies(await _passed_through(local_stub, Reader(ready=False)))
    fake.enqueue(text="abcdefgh", chunks=4, delay_s=0.05)
    reader = BudgetReader(3)

    read = await _passed_through(local_stub, reader)

    assert len(reader.taken) == 3
    before, after = read[:2], read[2:]
    whole = _bodies(before) + _bodies(reader.taken) + _bodies(after)
    assert _without_ids(whole) == _without_ids(alone)


def _without_ids(stream: bytes) -> bytes:
    return re.sub(rb'"id":"[^"]*"', b'"id":""', stream)
