"""The chat service with an API key never imports the anthropic SDK (some 40 MB and over a
second of start-up): not when it starts, and not while it serves chat completions, streams,
the Messages passthrough and an upstream refusal. Checked in a fresh interpreter, as this
one has imported the SDK long ago."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.anthropic_server import FakeAnthropic, Reply
from tests.support.fresh_interpreter import run_script
from tests.support.stack import base_env

SCRIPT = """
import asyncio, json, sys

import grpc
import orjson

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.services.chat.main import start
from drafter.services.chat.settings import ChatSettings
from tests.support.reservations import TEST_RESERVATION_KEY, chat_reservation

MODEL = "claude-haiku-4-5"


async def main(base_url):
    seen = {"imported": "anthropic" in sys.modules}
    settings = ChatSettings(
        anthropic_base_url=base_url,
        anthropic_api_key="test-key",
        reservation_key=TEST_RESERVATION_KEY,
    )
    running = await start(settings, "127.0.0.1:0")
    seen["started"] = "anthropic" in sys.modules
    stub = chat_grpc.ChatServiceStub(running.local.channel())
    hi = chat_pb.Message(role=chat_pb.ROLE_USER, content=[chat_pb.ContentPart(text="hi")])
    request = chat_pb.ChatRequest(model=MODEL, messages=[hi])

    def complete():
        reservation = chat_reservation(MODEL)
        return stub.Complete(chat_pb.CompleteRequest(request=request, reservation_id=reservation))

    await complete()
    stream = chat_pb.StreamCompleteRequest(request=request, reservation_id=chat_reservation(MODEL))
    async for _ in stub.StreamComplete(stream):
        pass
    body = {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    passthrough = chat_pb.MessagesRequest(
        reservation_id=chat_reservation(MODEL), model=MODEL, body=orjson.dumps(body)
    )
    async for _ in stub.Messages(passthrough):
        pass
    try:
        await complete()
    except grpc.aio.AioRpcError as refused:
        seen["refused"] = refused.code().name
    seen["served"] = "anthropic" in sys.modules
    await running.stop(0)
    print(json.dumps(seen))


asyncio.run(main(sys.argv[1]))
"""


def test_the_chat_service_serves_without_importing_the_sdk(
    tmp_path: Path, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(text="one"), Reply(text="two"), Reply(text="three"))
    fake_anthropic.enqueue(Reply(status=400, error_type="invalid_request_error"))
    # A home without the SDK's config directory, and no other credential but the key.
    env = base_env(tmp_path / "data", HOME=str(tmp_path), DRAFTER_LOG_LEVEL="WARNING")

    seen = run_script(SCRIPT, fake_anthropic.base_url, env=env, timeout=60)

    assert seen == {
        "imported": False,
        "started": False,
        "refused": "INVALID_ARGUMENT",
        "served": False,
    }
    assert len(fake_anthropic.requests) == 4
