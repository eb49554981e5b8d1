"""Every chat model of the table, through the real chat service and the anthropic SDK,
against the strict fake upstream (which answers as the live API does: unknown ids 404,
per-model thinking, effort and sampling rules, anthropic-version): a plain, a streamed,
a thinking (each level and each reasoning_effort the model honours) and a sampling
request each succeed, and what the upstream would refuse is refused first, by Drafter.
What to try comes from each model's row: the sampling it takes, whether its thinking is
always on, whether it takes a forced tool choice."""

from __future__ import annotations

from typing import Any

import pytest
from grpc import aio

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.common.v1 import errors_pb2
from drafter.model_table import ModelSpec, load_model_table
from drafter.rpc.errors import error_from_rpc
from drafter.services.chat.model_rules import REASONING_EFFORTS
from drafter.services.chat.upstream.config import ANTHROPIC_VERSION
from tests.chat.conftest import chat_request, complete_request, stream_request
from tests.fakes.anthropic_server import FakeAnthropic, ToolUse

USER = chat_pb.ROLE_USER
CHAT_MODELS = [m for m in load_model_table() if m.kind == "chat"]
LEVELS = {
    "medium": chat_pb.THINKING_LEVEL_MEDIUM,
    "high": chat_pb.THINKING_LEVEL_HIGH,
    "max": chat_pb.THINKING_LEVEL_MAX,
}
by_id = pytest.mark.parametrize("model", CHAT_MODELS, ids=lambda m: m.id)


def request(model: ModelSpec, **fields: Any) -> chat_pb.ChatRequest:
    return chat_request((USER, "hello there"), model=model.id, **fields)


async def complete(stub: chat_grpc.ChatServiceStub, req: chat_pb.ChatRequest) -> str:
    response = await stub.Complete(complete_request(req), timeout=10)
    return response.choices[0].content


async def stream(stub: chat_grpc.ChatServiceStub, req: chat_pb.ChatRequest) -> str:
    call = stub.StreamComplete(stream_request(req), timeout=10)
    return "".join([e.delta.text async for e in call if e.WhichOneof("event") == "delta"])


def honoured_efforts(model: ModelSpec) -> list[str]:
    """The reasoning_effort values ``model`` can honour (budget models: all of them)."""
    if model.thinking_style == "budget":
        return [e for e in REASONING_EFFORTS if e != "none"]
    return [e for e, level in REASONING_EFFORTS.items() if level in model.efforts]


@by_id
async def test_plain_and_streamed(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic, model: ModelSpec
) -> None:
    assert await complete(chat_stub, request(model)) == "Echo: hello there"
    sent = fake.last_request
    assert sent.body["model"] == model.upstream
    assert sent.headers["anthropic-version"] == ANTHROPIC_VERSION
    if model.accepts("temperature"):
        assert sent.body["temperature"] == 0.7  # the reference's default
    else:
        assert "temperature" not in sent.body
    assert "thinking" not in sent.body  # always-on models think at their own default

    assert await stream(chat_stub, request(model)) == "Echo: hello there"
    assert fake.last_request.body["stream"] is True


@by_id
@pytest.mark.parametrize("level", LEVELS)
async def test_thinking_at_every_level(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic, model: ModelSpec, level: str
) -> None:
    fake.enqueue(thinking="Let me think.", text="Thought it through.")

    answer = await stream(chat_stub, request(model, thinking=LEVELS[level]))

    assert answer == "Thought it through."
    body = fake.last_request.body
    assert (
        body["thinking"]["type"]
        == {"budget": "enabled", "adaptive": "adaptive"}[model.thinking_style or ""]
    )
    assert "temperature" not in body


@by_id
async def test_every_reasoning_effort_the_model_honours(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic, model: ModelSpec
) -> None:
    for effort in honoured_efforts(model):
        assert await complete(chat_stub, request(model, reasoning_effort=effort)), effort


@by_id
async def test_efforts_it_cannot_honour_are_refused_before_the_upstream(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic, model: ModelSpec
) -> None:
    refused = [
        e
        for e in REASONING_EFFORTS
        if e not in honoured_efforts(model) and (e != "none" or model.thinking_always_on)
    ]
    for effort in refused:
        with pytest.raises(aio.AioRpcError) as info:
            await complete(chat_stub, request(model, reasoning_effort=effort))
        assert error_from_rpc(info.value).metadata["param"] == "reasoning_effort"
    assert not fake.requests


@by_id
@pytest.mark.parametrize(
    "sampling",
    [{"temperature": 0.2}, {"top_p": 0.5}, {"top_k": 20}, {"temperature": 0.0, "top_k": 5}],
    ids=["temperature", "top_p", "top_k", "temperature-and-top_k"],
)
async def test_sampling(
    chat_stub: chat_grpc.ChatServiceStub,
    fake: FakeAnthropic,
    model: ModelSpec,
    sampling: dict[str, float],
) -> None:
    if all(model.accepts(name) for name in sampling):
        assert await complete(chat_stub, request(model, **sampling)) == "Echo: hello there"
        body = fake.last_request.body
        assert {k: body[k] for k in sampling} == sampling
        return
    with pytest.raises(aio.AioRpcError) as info:
        await complete(chat_stub, request(model, **sampling))
    refused = next(name for name in sampling if not model.accepts(name))
    assert error_from_rpc(info.value).metadata["param"] == refused
    assert not fake.requests


@by_id
async def test_default_sampling_values_are_taken_by_every_model(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic, model: ModelSpec
) -> None:
    assert await complete(chat_stub, request(model, temperature=1.0)) == "Echo: hello there"


WEATHER = chat_pb.Tool(name="weather", parameters_json='{"type": "object"}')
FORCED = [
    chat_pb.ToolChoice(mode=chat_pb.ToolChoice.MODE_REQUIRED),
    chat_pb.ToolChoice(mode=chat_pb.ToolChoice.MODE_NAMED, name="weather"),
]
SCHEMA = '{"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"],' + (
    ' "additionalProperties": false}'
)


@by_id
async def test_forced_tool_choice_where_the_model_takes_it(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic, model: ModelSpec
) -> None:
    for choice in FORCED:
        req = request(model, tools=[WEATHER], tool_choice=choice)
        if model.forced_tool_use:
            assert await complete(chat_stub, req) is not None
            assert fake.last_request.body["tool_choice"]["type"] in {"any", "tool"}
            continue
        with pytest.raises(aio.AioRpcError) as info:
            await complete(chat_stub, req)
        error = error_from_rpc(info.value)
        assert error.reason == errors_pb2.ERROR_REASON_INVALID_REQUEST
        assert error.metadata["param"] == "tool_choice"
    if not model.forced_tool_use:
        assert not fake.requests


@by_id
async def test_json_schema_answers_on_every_model(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic, model: ModelSpec
) -> None:
    fmt = chat_pb.ResponseFormat(
        type=chat_pb.ResponseFormat.TYPE_JSON_SCHEMA, name="answer", schema_json=SCHEMA
    )
    fake.enqueue(text='{"a": "b"}')
    await complete(chat_stub, request(model, response_format=fmt))
    body = fake.last_request.body
    if model.structured_outputs:
        assert body["output_config"]["format"]["type"] == "json_schema"
        assert "tool_choice" not in body
    else:
        assert body["tool_choice"] == {"type": "tool", "name": "answer"}


@by_id
async def test_json_object_needs_a_forced_tool(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic, model: ModelSpec
) -> None:
    fmt = chat_pb.ResponseFormat(type=chat_pb.ResponseFormat.TYPE_JSON_OBJECT)
    if model.forced_tool_use:
        fake.enqueue(tool_uses=[ToolUse("json_object", {"a": "b"})], stop_reason="tool_use")
        await complete(chat_stub, request(model, response_format=fmt))
        assert fake.last_request.body["tool_choice"]["type"] == "tool"
        return
    with pytest.raises(aio.AioRpcError) as info:
        await complete(chat_stub, request(model, response_format=fmt))
    assert error_from_rpc(info.value).metadata["param"] == "response_format"
    assert not fake.requests


@by_id
async def test_sampling_the_model_refuses_is_a_400_and_never_sent(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic, model: ModelSpec
) -> None:
    for fields in (
        {"temperature": 0.5, "top_p": 0.9},
        {"temperature": 0.5, "thinking": chat_pb.THINKING_LEVEL_MEDIUM},
        {"top_k": 5, "thinking": chat_pb.THINKING_LEVEL_HIGH},
        {"max_tokens": (model.max_output_tokens or 0) + 1},
    ):
        with pytest.raises(aio.AioRpcError) as info:
            await complete(chat_stub, request(model, **fields))
        assert error_from_rpc(info.value).reason == errors_pb2.ERROR_REASON_INVALID_REQUEST, fields
    assert not fake.requests
