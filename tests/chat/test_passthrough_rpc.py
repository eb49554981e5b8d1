"""The Messages passthrough RPC as an internal consumer calls it: the body reaches the
upstream unchanged but ``model``, Claude Code's mid-conversation system messages on
claude-opus-5-5 included."""

from __future__ import annotations

import orjson

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.reservations import chat_reservation

OPUS = "claude-opus-5-5"


async def test_a_mid_conversation_system_message_passes_through_unchanged(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    body = {
        "model": "claude-opus-5-5",
        "max_tokens": 1024,
        "thinking": {"type": "adaptive", "display": "omitted"},
        "messages": [
            {"role": "user", "content": "Fix the failing test."},
            {
                "role": "system",
                "content": "The user prefers short answers.",
                "output_config": {"effort": "low"},
            },
        ],
        "metadata": {"user_id": "user_abc"},
    }
    request = chat_pb.MessagesRequest(
        reservation_id=chat_reservation(OPUS),
        model=OPUS,
        body=orjson.dumps(body),
        headers=[chat_pb.HttpHeader(name="anthropic-version", value="2023-06-01")],
    )

    answers = [answer async for answer in chat_stub.Messages(request, timeout=10)]

    assert answers[0].head.status == 200, answers
    assert fake.last_request.body == body  # the table's upstream id is the same here
    assert answers[-1].WhichOneof("event") == "usage"
