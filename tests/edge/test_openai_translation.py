"""OpenAI ⇄ proto translation at the edge: pure, table-driven."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from edge.errors import APIError
from edge.openai import sse
from edge.openai.from_proto import completion_from_proto, delta_from_proto, usage_from_proto
from edge.openai.protocol import ChatCompletionRequest
from edge.openai.to_proto import chat_request_from_openai


def _req(**fields: object) -> ChatCompletionRequest:
    body = {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hi"}]}
    return ChatCompletionRequest.model_validate({**body, **fields})


def test_defaults() -> None:
    proto = chat_request_from_openai(_req())
    assert proto.model == "claude-haiku-4-5"
    assert proto.max_tokens == 1024
    assert proto.n == 1
    assert not proto.HasField("temperature") and not proto.HasField("top_p")
    assert proto.thinking == chat_pb.THINKING_LEVEL_OFF
    assert [m.role for m in proto.messages] == [chat_pb.ROLE_USER]
    assert proto.messages[0].content[0].text == "hi"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"max_tokens": 256}, 256),
        ({"max_completion_tokens": 300}, 300),
        ({"max_tokens": 100, "max_completion_tokens": 300}, 300),
    ],
)
def test_max_tokens(fields: dict, expected: int) -> None:
    assert chat_request_from_openai(_req(**fields)).max_tokens == expected


@pytest.mark.parametrize(
    ("stop", "expected"), [("END", ["END"]), (["a", "b"], ["a", "b"]), (None, [])]
)
def test_stop(stop: object, expected: list[str]) -> None:
    assert list(chat_request_from_openai(_req(stop=stop)).stop) == expected


@pytest.mark.parametrize(
    ("fields", "level", "effort"),
    [
        ({"thinking": "medium"}, chat_pb.THINKING_LEVEL_MEDIUM, ""),
        ({"thinking": "high"}, chat_pb.THINKING_LEVEL_HIGH, ""),
        ({"thinking": "max"}, chat_pb.THINKING_LEVEL_MAX, ""),
        ({"reasoning_effort": "minimal"}, chat_pb.THINKING_LEVEL_OFF, "minimal"),
        ({"reasoning_effort": "xhigh"}, chat_pb.THINKING_LEVEL_OFF, "xhigh"),
        ({"thinking": "high", "reasoning_effort": "low"}, chat_pb.THINKING_LEVEL_HIGH, "low"),
    ],
)
def test_thinking_and_reasoning_effort_reach_the_chat_service_as_sent(
    fields: dict, level: int, effort: str
) -> None:
    """What they become is the model table's to say (services/chat/model_rules.py)."""
    request = chat_request_from_openai(_req(**fields))
    assert (request.thinking, request.reasoning_effort) == (level, effort)


def test_sampling_reaches_the_chat_service_as_sent() -> None:
    request = chat_request_from_openai(_req(temperature=1.5, top_p=0.5, top_k=7))
    assert (request.temperature, request.top_p, request.top_k) == (1.5, 0.5, 7)
    assert not chat_request_from_openai(_req()).HasField("temperature")


def test_roles_parts_and_tools() -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "developer", "content": [{"type": "text", "text": "dev"}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what is this"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "look", "arguments": '{"x": 1}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "a cat"},
    ]
    tools = [
        {
            "type": "function",
            "function": {
                "name": "look",
                "parameters": {
                    "type": "object",
                    "properties": {"x": {"type": "integer", "maximum": 3}},
                },
            },
        }
    ]
    proto = chat_request_from_openai(
        _req(messages=messages, tools=tools, tool_choice="required", user="u-1")
    )
    roles = [m.role for m in proto.messages]
    assert roles == [
        chat_pb.ROLE_SYSTEM,
        chat_pb.ROLE_DEVELOPER,
        chat_pb.ROLE_USER,
        chat_pb.ROLE_ASSISTANT,
        chat_pb.ROLE_TOOL,
    ]
    assert proto.messages[2].content[1].image.url == "data:image/png;base64,AAAA"
    assert proto.messages[3].tool_calls[0].arguments_json == '{"x": 1}'
    assert proto.messages[4].tool_call_id == "call_1"
    assert orjson.loads(proto.tools[0].parameters_json)["properties"]["x"]["maximum"] == 3
    assert proto.tool_choice.mode == chat_pb.ToolChoice.MODE_REQUIRED
    assert proto.user == "u-1"


def test_sampling_parameters_are_carried_when_set() -> None:
    proto = chat_request_from_openai(_req(temperature=0.5, top_p=0.9))
    assert proto.temperature == 0.5 and proto.top_p == pytest.approx(0.9)


def test_usage_counts_cache_in_prompt_tokens() -> None:
    usage = chat_pb.Usage(
        input_tokens=10,
        output_tokens=7,
        reasoning_tokens=3,
        cache_read_input_tokens=100,
        cache_creation_input_tokens=5,
    )
    assert usage_from_proto(usage) == {
        "prompt_tokens": 115,
        "completion_tokens": 7,
        "total_tokens": 122,
        "prompt_tokens_details": {"cached_tokens": 100},
        "completion_tokens_details": {"reasoning_tokens": 3},
    }


def test_completion_object() -> None:
    response = chat_pb.CompleteResponse(
        choices=[
            chat_pb.Choice(index=0, content="hello", finish_reason=chat_pb.FINISH_REASON_STOP)
        ],
        usage=chat_pb.Usage(input_tokens=3, output_tokens=2),
    )
    body = completion_from_proto(
        response, completion_id="chatcmpl-x", created=1, model="claude-haiku"
    )
    assert body["object"] == "chat.completion" and body["model"] == "claude-haiku"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "hello"}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["total_tokens"] == 5


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (chat_pb.Delta(text="hi"), {"content": "hi"}),
        (chat_pb.Delta(reasoning="hmm"), {"reasoning_content": "hmm"}),
        (
            chat_pb.Delta(
                tool_call=chat_pb.ToolCallDelta(index=1, id="c", name="f", arguments_json="")
            ),
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "c",
                        "type": "function",
                        "function": {"name": "f", "arguments": ""},
                    }
                ]
            },
        ),
        (
            chat_pb.Delta(tool_call=chat_pb.ToolCallDelta(index=1, arguments_json='{"a"')),
            {"tool_calls": [{"index": 1, "function": {"arguments": '{"a"'}}]},
        ),
    ],
)
def test_deltas(delta: chat_pb.Delta, expected: dict) -> None:
    assert delta_from_proto(delta) == expected


def test_chunk_writer_puts_role_on_first_delta_of_each_choice() -> None:
    writer = sse.ChunkWriter("chatcmpl-1", 5, "m")
    frames = [
        writer.delta(0, {"content": "a"}),
        writer.delta(0, {"content": "b"}),
        writer.finish(1, "stop"),
        writer.finish(0, "stop"),
    ]
    bodies = [orjson.loads(f.removeprefix(b"data: ")) for f in frames]
    assert all(f.endswith(b"\n\n") for f in frames)
    assert bodies[0]["choices"][0]["delta"] == {"role": "assistant", "content": "a"}
    assert bodies[1]["choices"][0]["delta"] == {"content": "b"}
    assert bodies[2]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert bodies[3]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert bodies[0]["object"] == "chat.completion.chunk" and bodies[0]["id"] == "chatcmpl-1"


SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}}


@pytest.mark.parametrize(
    ("response_format", "expected"),
    [
        (None, chat_pb.ResponseFormat()),
        ({"type": "text"}, chat_pb.ResponseFormat(type=chat_pb.ResponseFormat.TYPE_TEXT)),
        (
            {"type": "json_object"},
            chat_pb.ResponseFormat(type=chat_pb.ResponseFormat.TYPE_JSON_OBJECT),
        ),
        (
            {"type": "json_schema", "json_schema": {"name": "a", "schema": SCHEMA, "strict": True}},
            chat_pb.ResponseFormat(
                type=chat_pb.ResponseFormat.TYPE_JSON_SCHEMA,
                name="a",
                schema_json=orjson.dumps(SCHEMA).decode(),
                strict=True,
            ),
        ),
    ],
    ids=["absent", "text", "json_object", "json_schema"],
)
def test_response_format(response_format: dict | None, expected: chat_pb.ResponseFormat) -> None:
    proto = chat_request_from_openai(_req(response_format=response_format))
    assert proto.response_format == expected


def test_json_schema_without_its_schema_is_a_400_naming_it() -> None:
    with pytest.raises(APIError) as exc:
        chat_request_from_openai(_req(response_format={"type": "json_schema"}))
    assert exc.value.status == 400 and exc.value.param == "response_format.json_schema"


def test_reasoning_n_and_parallel_calls_are_carried() -> None:
    proto = chat_request_from_openai(_req(include_reasoning=True, n=3, parallel_tool_calls=False))
    assert proto.include_reasoning and proto.n == 3
    assert proto.HasField("parallel_tool_calls") and not proto.parallel_tool_calls


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (chat_pb.FINISH_REASON_STOP, "stop"),
        (chat_pb.FINISH_REASON_LENGTH, "length"),
        (chat_pb.FINISH_REASON_TOOL_CALLS, "tool_calls"),
        (chat_pb.FINISH_REASON_CONTENT_FILTER, "content_filter"),
    ],
)
def test_finish_reasons_and_reasoning_content(reason: Any, expected: str) -> None:
    call = chat_pb.ToolCall(id="c", name="f", arguments_json="{}")
    choice = chat_pb.Choice(reasoning="hmm", tool_calls=[call], finish_reason=reason)
    body = completion_from_proto(
        chat_pb.CompleteResponse(choices=[choice]), completion_id="chatcmpl-x", created=1, model="m"
    )
    assert body["choices"][0]["finish_reason"] == expected
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": None,
        "reasoning_content": "hmm",
        "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ],
    }


def test_usage_chunk_and_error_frame() -> None:
    writer = sse.ChunkWriter("chatcmpl-1", 5, "m")
    usage = orjson.loads(writer.usage({"prompt_tokens": 1}).removeprefix(b"data: "))
    assert usage["choices"] == [] and usage["usage"] == {"prompt_tokens": 1}
    error = {"error": {"message": "boom", "type": "overloaded_error", "code": 503}}
    assert sse.error_frame(error) == b"data: " + orjson.dumps(error) + b"\n\n"
