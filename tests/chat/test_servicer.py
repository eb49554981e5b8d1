"""ChatService over a real grpc.aio server, the real anthropic SDK and the fake upstream."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc import aio

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.common.v1 import errors_pb2
from drafter.common.v1 import usage_pb2 as usage_pb
from drafter.rpc.channels import open_channel
from drafter.rpc.errors import RemoteError, error_from_rpc
from drafter.services.chat.main import start
from tests.chat.conftest import chat_request, chat_settings, complete_request, stream_request
from tests.fakes.anthropic_server import FakeAnthropic, Reply, ToolUse

USER, SYSTEM, DEVELOPER = chat_pb.ROLE_USER, chat_pb.ROLE_SYSTEM, chat_pb.ROLE_DEVELOPER
FAST_RETRY = {"retry-after-ms": "10"}


async def _complete(
    stub: chat_grpc.ChatServiceStub, req: chat_pb.ChatRequest
) -> chat_pb.CompleteResponse:
    return await stub.Complete(complete_request(req), timeout=10)


async def _stream(
    stub: chat_grpc.ChatServiceStub, req: chat_pb.ChatRequest
) -> list[chat_pb.StreamCompleteResponse]:
    call = stub.StreamComplete(stream_request(req), timeout=10)
    return [event async for event in call]


async def _complete_error(stub: chat_grpc.ChatServiceStub, req: chat_pb.ChatRequest) -> RemoteError:
    with pytest.raises(aio.AioRpcError) as info:
        await _complete(stub, req)
    return error_from_rpc(info.value)


async def test_complete_returns_the_upstream_text_and_usage(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(text="Hello there!", usage={"input_tokens": 11, "output_tokens": 5})

    response = await _complete(chat_stub, chat_request((USER, "hi")))

    assert [c.content for c in response.choices] == ["Hello there!"]
    assert response.choices[0].finish_reason == chat_pb.FINISH_REASON_STOP
    assert response.usage == usage_pb.TokenUsage(input_tokens=11, output_tokens=5)
    assert response.upstream_model == "claude-haiku-4-5-20251001"
    assert fake.last_request.body["stream"] is False  # a short answer is asked for whole


async def test_stream_complete_forwards_deltas_then_finished_then_usage(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    # Paced like a real model: each piece is forwarded on its own as it arrives.
    fake.enqueue(text="abcdefgh", chunks=4, usage={"cache_read_input_tokens": 7}, delay_s=0.01)

    events = await _stream(chat_stub, chat_request((USER, "hi")))

    kinds = [e.WhichOneof("event") for e in events]
    assert kinds == ["delta"] * 4 + ["finished", "usage"]
    assert [e.delta.text for e in events[:4]] == ["ab", "cd", "ef", "gh"]
    assert events[4].finished.finish_reason == chat_pb.FINISH_REASON_STOP
    assert events[5].usage.cache_read_input_tokens == 7
    assert events[5].usage.output_tokens == 4


async def test_stop_sequences_are_sent_and_end_the_answer(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(text="one two END three")

    response = await _complete(chat_stub, chat_request((USER, "count"), stop=["END"]))

    assert fake.last_request.body["stop_sequences"] == ["END"]
    assert response.choices[0].content == "one two "
    assert response.choices[0].finish_reason == chat_pb.FINISH_REASON_STOP


async def test_max_tokens_stop_is_reported_as_length(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(text="a long answer", chunks=8)

    response = await _complete(chat_stub, chat_request((USER, "go"), max_tokens=3))

    assert fake.last_request.body["max_tokens"] == 3
    assert response.choices[0].finish_reason == chat_pb.FINISH_REASON_LENGTH


async def test_system_and_developer_messages_fold_into_the_system_prompt(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    req = chat_request((SYSTEM, "Be brief."), (DEVELOPER, "Use French."), (USER, "hello"))

    response = await _complete(chat_stub, req)

    body = fake.last_request.body
    assert body["system"] == "Be brief.\n\nUse French."
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hello"}]}]
    assert body["max_tokens"] == 1024
    assert response.choices[0].content == "Echo: hello"


@pytest.mark.parametrize(
    ("name", "upstream"),
    [
        ("claude-haiku", "claude-haiku-4-5-20251001"),
        ("claude-haiku-4-5-20250506", "claude-haiku-4-5-20251001"),
        ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"),
        ("claude-sonnet-4-6-20250610", "claude-sonnet-4-6"),
        ("claude-opus-4-5-20250514", "claude-opus-4-5-20251101"),
        ("CLAUDE-OPUS-4-6", "claude-opus-4-6"),
    ],
)
async def test_model_aliases_resolve_to_the_upstream_id(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic, name: str, upstream: str
) -> None:
    response = await _complete(chat_stub, chat_request((USER, "hi"), model=name))

    assert fake.last_request.body["model"] == upstream
    assert response.upstream_model == upstream


async def test_unknown_model_is_not_found_without_calling_upstream(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    error = await _complete_error(chat_stub, chat_request((USER, "hi"), model="gpt-4o"))

    assert error.code == grpc.StatusCode.NOT_FOUND
    assert error.reason == errors_pb2.ERROR_REASON_MODEL_NOT_FOUND
    assert error.metadata["param"] == "model"
    assert fake.requests == []


async def test_overloaded_upstream_is_retried_then_recovers(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(Reply(status=529, headers=FAST_RETRY), Reply(text="recovered"))

    response = await _complete(chat_stub, chat_request((USER, "hi")))

    assert response.choices[0].content == "recovered"
    assert [r.headers["x-stainless-retry-count"] for r in fake.requests] == ["0", "1"]


async def test_failing_upstream_after_retries_is_unavailable(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(*[Reply(status=500, headers=FAST_RETRY)] * 3)

    error = await _complete_error(chat_stub, chat_request((USER, "hi")))

    assert error.code == grpc.StatusCode.UNAVAILABLE
    assert error.reason == errors_pb2.ERROR_REASON_UPSTREAM_UNAVAILABLE
    assert len(fake.requests) == 3  # the first try and max_retries=2


async def test_upstream_rate_limit_is_unavailable_with_retry_after(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(*[Reply(status=429, headers={"retry-after-ms": "10", "retry-after": "7"})] * 3)

    error = await _complete_error(chat_stub, chat_request((USER, "hi")))

    assert error.code == grpc.StatusCode.UNAVAILABLE
    assert error.reason == errors_pb2.ERROR_REASON_UPSTREAM_RATE_LIMITED
    assert error.metadata["retry_after_s"] == "1"  # retry-after-ms wins, rounded up


async def test_upstream_rejecting_our_key_is_internal(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(status=401)

    error = await _complete_error(chat_stub, chat_request((USER, "hi")))

    assert error.code == grpc.StatusCode.INTERNAL
    assert error.reason == errors_pb2.ERROR_REASON_UPSTREAM_AUTH
    assert len(fake.requests) == 1


async def test_service_without_a_key_starts_and_reports_upstream_auth(
    fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    running = await start(chat_settings(fake, anthropic_api_key=None), "127.0.0.1:0")
    channel = open_channel(f"127.0.0.1:{running.port}", running.auth)
    try:
        error = await _complete_error(
            chat_grpc.ChatServiceStub(channel), chat_request((USER, "hi"))
        )
    finally:
        await channel.close()
        await running.stop(0)

    assert (error.code, error.reason) == (
        grpc.StatusCode.INTERNAL,
        errors_pb2.ERROR_REASON_UPSTREAM_AUTH,
    ), error
    assert "authorization" not in fake.last_request.headers


async def test_error_event_mid_stream_ends_the_call_with_an_error_status(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(
        text="abcdefgh", chunks=4, error_after=5, delay_s=0.01
    )  # start, ping, block start, 2 deltas
    call = chat_stub.StreamComplete(stream_request(chat_request((USER, "hi"))), timeout=10)
    received = []

    with pytest.raises(aio.AioRpcError) as info:
        async for event in call:
            received.append(event)

    assert [e.delta.text for e in received] == ["ab", "cd"]
    error = error_from_rpc(info.value)
    assert (error.code, error.reason) == (
        grpc.StatusCode.UNAVAILABLE,
        errors_pb2.ERROR_REASON_UPSTREAM_UNAVAILABLE,
    )


async def test_cancelled_stream_closes_the_upstream_request(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(text="x" * 100, chunks=100, delay_s=0.02)
    call = chat_stub.StreamComplete(stream_request(chat_request((USER, "hi"))), timeout=10)

    first = await call.read()
    call.cancel()

    assert first.delta.text == "x"
    assert await fake.wait_for_disconnect(5.0)
    assert fake.completed_streams == 0


async def test_tool_calls_and_reasoning_are_translated(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(
        text="Let me check.",
        thinking="The user wants weather.",
        tool_uses=[ToolUse("get_weather", {"city": "Paris"}, id="toolu_1")],
        usage={"thinking_tokens": 6},
    )
    req = chat_request(
        (USER, "weather?"),
        thinking=chat_pb.THINKING_LEVEL_MEDIUM,
        include_reasoning=True,
        tools=[chat_pb.Tool(name="get_weather", parameters_json='{"type": "object"}')],
    )

    response = await _complete(chat_stub, req)

    body = fake.last_request.body
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2000}
    assert body["max_tokens"] == 2000 + 1024
    choice = response.choices[0]
    assert choice.reasoning == "The user wants weather."
    assert choice.content == "Let me check."
    assert list(choice.tool_calls) == [
        chat_pb.ToolCall(id="toolu_1", name="get_weather", arguments_json='{"city":"Paris"}')
    ]
    assert choice.finish_reason == chat_pb.FINISH_REASON_TOOL_CALLS
    assert response.usage.reasoning_tokens == 6


async def test_several_choices_are_parallel_upstream_calls(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(Reply(text="first"), Reply(text="second"))

    response = await _complete(chat_stub, chat_request((USER, "hi"), n=2))

    assert sorted(c.content for c in response.choices) == ["first", "second"]
    assert [c.index for c in response.choices] == [0, 1]
    assert len(fake.requests) == 2
    assert response.usage.output_tokens == 4 + 4  # four chunks each


async def test_cancelled_complete_closes_the_upstream_request(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(text="y" * 100, chunks=100, delay_s=0.02)
    call = chat_stub.Complete(complete_request(chat_request((USER, "hi"))))

    await asyncio.sleep(0.3)  # the upstream stream is running by now (it takes 2 s)
    call.cancel()

    assert len(fake.requests) == 1
    assert await fake.wait_for_disconnect(5.0)
    assert fake.completed_streams == 0


async def test_a_burst_of_pieces_travels_as_one_message(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    """Pieces already waiting (here: one network read with every event) are coalesced,
    in order, without changing the answer."""
    fake.enqueue(text="abcdefghijklmnop", chunks=16)

    events = await _stream(chat_stub, chat_request((USER, "hi")))

    deltas = [e.delta.text for e in events if e.WhichOneof("event") == "delta"]
    assert "".join(deltas) == "abcdefghijklmnop"
    assert len(deltas) < 16
    assert [e.WhichOneof("event") for e in events][-2:] == ["finished", "usage"]


async def test_pieces_before_a_failure_in_the_same_burst_are_delivered(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(text="abcdefgh", chunks=4, error_after=6)  # all in one burst, then an error
    received: list[chat_pb.StreamCompleteResponse] = []
    call = chat_stub.StreamComplete(stream_request(chat_request((USER, "hi"))))
    with pytest.raises(aio.AioRpcError) as info:
        async for event in call:
            received.append(event)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "".join(e.delta.text for e in received) == "abcdef"


async def test_several_streamed_choices_interleave_then_one_usage_over_all(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    fake.enqueue(
        Reply(text="abcd", chunks=4, delay_s=0.01), Reply(text="uvwxyz", chunks=3, delay_s=0.01)
    )

    events = await _stream(chat_stub, chat_request((USER, "hi"), n=2))

    texts = {0: "", 1: ""}
    for event in events:
        if event.WhichOneof("event") == "delta":
            texts[event.delta.choice_index] += event.delta.text
    assert sorted(texts.values()) == ["abcd", "uvwxyz"]
    finished = [e.finished.choice_index for e in events if e.WhichOneof("event") == "finished"]
    assert sorted(finished) == [0, 1]
    assert [e.WhichOneof("event") for e in events].count("usage") == 1
    assert events[-1].usage.output_tokens == 4 + 3
