"""OpenAI chat request → proto at the edge (``edge/openai/to_proto.py``): pure, table-driven."""

from __future__ import annotations

import orjson
import pytest

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.edge.errors import APIError
from drafter.edge.openai.protocol import ChatCompletionRequest
from drafter.edge.openai.to_proto import chat_request_from_openai


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


def test_every_parameter_of_the_installed_openai_sdk_is_accepted() -> None:
    from openai.types.chat import completion_create_params

    sdk = set(completion_create_params.CompletionCreateParamsBase.__annotations__) | {"stream"}
    assert sdk - set(ChatCompletionRequest.model_fields) == set()


def test_parameters_without_an_upstream_equivalent_are_accepted_and_not_carried() -> None:
    body = _req(
        seed=7,
        store=True,
        metadata={"k": "v"},
        service_tier="auto",
        verbosity="low",
        prediction={"type": "content", "content": "x"},
        presence_penalty=0.5,
        frequency_penalty=-0.5,
        logit_bias={"50256": -100},
        prompt_cache_key="tenant-1",
        logprobs=False,
        top_logprobs=0,
        modalities=["text"],
        n=None,
        stream=None,
    )
    proto = chat_request_from_openai(body)
    assert proto == chat_request_from_openai(_req())


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"logprobs": True}, "logprobs"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"audio": {"voice": "alloy", "format": "mp3"}}, "audio"),
    ],
)
def test_values_that_cannot_be_honoured_are_a_400_naming_the_parameter(
    fields: dict, param: str
) -> None:
    with pytest.raises(APIError) as info:
        chat_request_from_openai(_req(**fields))
    assert (info.value.status, info.value.param) == (400, param)
    assert param in info.value.message


@pytest.mark.parametrize(
    ("fields", "user"),
    [
        ({"user": "u1"}, "u1"),
        ({"safety_identifier": "s1"}, "s1"),
        ({"user": "u1", "safety_identifier": "s1"}, "s1"),
    ],
)
def test_safety_identifier_or_user_is_the_end_user(fields: dict, user: str) -> None:
    assert chat_request_from_openai(_req(**fields)).user == user


def test_the_deprecated_functions_api_travels_as_tools() -> None:
    body = _req(
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "weather", "arguments": '{"city":"Oslo"}'},
            },
            {"role": "function", "name": "weather", "content": "sunny"},
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]},
        ],
        functions=[{"name": "weather", "parameters": {"type": "object"}}],
        function_call={"name": "weather"},
    )
    proto = chat_request_from_openai(body)
    assert [t.name for t in proto.tools] == ["weather"]
    assert proto.tool_choice == chat_pb.ToolChoice(
        mode=chat_pb.ToolChoice.MODE_NAMED, name="weather"
    )
    call, result, refusal = proto.messages[1], proto.messages[2], proto.messages[3]
    assert call.tool_calls[0].name == "weather" and call.tool_calls[0].id
    assert (result.role, result.tool_call_id) == (chat_pb.ROLE_TOOL, call.tool_calls[0].id)
    assert refusal.content[0].text == "No."
