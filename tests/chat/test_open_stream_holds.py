"""An open in-process stream does not hold its prompt: once the upstream request went out,
nothing reachable from the call (the servicer's generators, the upstream response, its
request) carries it, on each of the three streaming RPCs. A coding agent's prompt is
often 100 KB, and a stream may stay open for minutes: held, it was 300 KB per open
Messages stream and 400 KB per open Responses stream at such prompts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from grpc import aio

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.rpc.server import RunningServer
from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.held import holds
from tests.support.reservations import chat_reservation

MODEL = "claude-haiku-4-5"
MARKER = b"prompt-marker-7f3a"
PROMPT = (MARKER.decode() + " tell me a story. ") * 2_000  # 70 KB


def _messages(stub: chat_grpc.ChatServiceStub) -> aio.UnaryStreamCall:
    body = {
        "model": MODEL,
        "max_tokens": 1024,
        "stream": True,
        "messages": [{"role": "user", "content": PROMPT}],
    }
    return stub.Messages(
        chat_pb.MessagesRequest(
            reservation_id=chat_reservation(MODEL),
            model=MODEL,
            body=orjson.dumps(body),
            headers=[chat_pb.HttpHeader(name="anthropic-version", value="2023-06-01")],
        ),
        timeout=30,
    )


def _respond(stub: chat_grpc.ChatServiceStub) -> aio.UnaryStreamCall:
    body = {"model": MODEL, "input": PROMPT, "stream": True, "store": False}
    return stub.Respond(
        chat_pb.RespondRequest(
            reservation_id=chat_reservation(MODEL),
            model=MODEL,
            body=orjson.dumps(body),
            response_id="resp_held",
            created_at=1,
        ),
        timeout=30,
    )


def _stream_complete(stub: chat_grpc.ChatServiceStub) -> aio.UnaryStreamCall:
    request = chat_pb.ChatRequest(
        model=MODEL,
        messages=[
            chat_pb.Message(role=chat_pb.ROLE_USER, content=[chat_pb.ContentPart(text=PROMPT)])
        ],
        max_tokens=1024,
    )
    return stub.StreamComplete(
        chat_pb.StreamCompleteRequest(request=request, reservation_id=chat_reservation(MODEL)),
        timeout=30,
    )


@pytest.mark.parametrize("start", [_messages, _respond, _stream_complete])
async def test_an_open_stream_holds_nothing_of_its_prompt(
    chat_server: RunningServer,
    fake: FakeAnthropic,
    start: Callable[[chat_grpc.ChatServiceStub], Any],
) -> None:
    fake.enqueue(text="A short story about nothing much at all.", chunks=20, delay_s=0.05)
    call = start(chat_grpc.ChatServiceStub(chat_server.local.channel()))
    try:
        for _ in range(4):  # the answer under way: its head and first events
            assert await call.read() is not aio.EOF
        assert fake.last_request.body["model"]  # the prompt reached the upstream
        assert MARKER.decode() in str(fake.last_request.body)
        assert not holds(call, MARKER)
    finally:
        call.cancel()
