"""An in-process StreamComplete whose reader offers to take events as they come
(``LocalStreamCall.read_directly``), as the edge's chat stream does under ``drafter up``:
answer text that arrives while the reader waits goes to it, within the callback that
received it; everything else, and all of it when the reader is not ready or the answer
is not plain text, is read as ever. Against the real chat service and the fake upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from grpc import aio

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.rpc.local import LocalStreamCall
from drafter.rpc.server import RunningServer
from tests.chat.conftest import chat_request, stream_request
from tests.fakes.anthropic_server import FakeAnthropic

USER = chat_pb.ROLE_USER
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
