"""Proto ChatRequest → Messages API arguments, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.model_table import ModelSpec, load_model_table
from drafter.rpc.errors import InvalidRequest
from drafter.services.chat.to_anthropic import message_params_from_request

MODELS = load_model_table()
HAIKU = MODELS.resolve("claude-haiku-4-5")  # thinking = ["budget"]
OPUS = MODELS.resolve("claude-opus-4-6")  # thinking = ["adaptive", "budget"]
NO_THINKING = HAIKU.model_copy(update={"thinking": ()})

S, D, U, A, T = (
    chat_pb.ROLE_SYSTEM,
    chat_pb.ROLE_DEVELOPER,
    chat_pb.ROLE_USER,
    chat_pb.ROLE_ASSISTANT,
    chat_pb.ROLE_TOOL,
)


def msg(role: chat_pb.Role, *texts: str, **fields: Any) -> chat_pb.Message:
    return chat_pb.Message(
        role=role, content=[chat_pb.ContentPart(text=t) for t in texts], **fields
    )


def image(url: str) -> chat_pb.Message:
    return chat_pb.Message(role=U, content=[chat_pb.ContentPart(image=chat_pb.ImagePart(url=url))])


def text(*texts: str) -> list[dict[str, str]]:
    return [{"type": "text", "text": t} for t in texts]


def req(*messages: chat_pb.Message, **fields: Any) -> chat_pb.ChatRequest:
    return chat_pb.ChatRequest(model="x", messages=messages or [msg(U, "hi")], **fields)


WEATHER = chat_pb.Tool(name="weather", description="Weather", parameters_json='{"type":"object"}')
CASES: list[tuple[str, chat_pb.ChatRequest, ModelSpec, dict[str, Any]]] = [
    (
        "minimal",
        req(msg(U, "hi")),
        HAIKU,
        {
            "model": "claude-haiku-4-5-20251001",
            "messages": [{"role": "user", "content": text("hi")}],
            "max_tokens": 1024,
            "temperature": 0.7,
            "top_p": None,
            "top_k": None,
        },
    ),
    (
        "system and developer fold into system",
        req(msg(S, "Be brief."), msg(U, "hi"), msg(D, "Use French.")),
        HAIKU,
        {
            "system": "Be brief.\n\nUse French.",
            "messages": [{"role": "user", "content": text("hi")}],
        },
    ),
    (
        "consecutive same-role messages merge; empty text dropped",
        req(msg(U, "a"), msg(U, "b", ""), msg(A, "c"), msg(U, "d")),
        HAIKU,
        {
            "messages": [
                {"role": "user", "content": text("a", "b")},
                {"role": "assistant", "content": text("c")},
                {"role": "user", "content": text("d")},
            ]
        },
    ),
    (
        "stop, user and max_tokens",
        req(stop=["END", "###"], user="user-42", max_tokens=55),
        HAIKU,
        {"stop_sequences": ["END", "###"], "metadata": {"user_id": "user-42"}, "max_tokens": 55},
    ),
    (
        "budget thinking adds the budget to max_tokens",
        req(thinking=chat_pb.THINKING_LEVEL_HIGH, max_tokens=100),
        HAIKU,
        {"thinking": {"type": "enabled", "budget_tokens": 8000}, "max_tokens": 8100},
    ),
    (
        "adaptive thinking takes an effort",
        req(thinking=chat_pb.THINKING_LEVEL_MAX),
        OPUS,
        {
            "thinking": {"type": "adaptive"},
            "output_config": {"effort": "max"},
            "max_tokens": 32000 + 1024,
        },
    ),
    (
        "sampling forwarded as given, in the wire format",
        req(temperature=0.2, top_k=40),
        HAIKU,
        {"temperature": 0.2, "top_k": 40, "top_p": None},
    ),
    (
        "top_p alone: no default temperature beside it on a model that refuses both",
        req(top_p=0.9),
        HAIKU,
        {"top_p": 0.9, "temperature": None},
    ),
    (
        "thinking: no default temperature; values the upstream takes while thinking pass",
        req(temperature=1.0, top_p=0.95, thinking=chat_pb.THINKING_LEVEL_MEDIUM),
        OPUS.model_copy(update={"temperature_with_top_p": True}),
        {"temperature": 1.0, "top_p": 0.95, "output_config": {"effort": "medium"}},
    ),
    (
        "empty and whitespace-only turns and blocks are left out",
        req(msg(U, "a"), msg(A, ""), msg(A, "  \n"), msg(U, " ", "b")),
        HAIKU,
        {"messages": [{"role": "user", "content": text("a", "b")}]},
    ),
    (
        "whitespace-only stop sequences stay here (Drafter enforces them)",
        req(stop=["END", "\n", " ", ""]),
        HAIKU,
        {"stop_sequences": ["END"]},
    ),
    (
        "only whitespace stop sequences: none upstream",
        req(stop=["\n\n"]),
        HAIKU,
        {"stop_sequences": None},
    ),
    (
        "a history as clients send it: null content, tool calls alone, a system message "
        "in the middle, consecutive same-role turns",
        req(
            msg(S, "Be brief."),
            msg(U, "weather?"),
            msg(A, tool_calls=[chat_pb.ToolCall(id="t1", name="weather", arguments_json="{}")]),
            msg(T, "sunny", tool_call_id="t1"),
            msg(A),
            msg(D, "Now answer in French."),
            msg(U, "and tomorrow?"),
            msg(U, "please"),
        ),
        HAIKU,
        {
            "system": "Be brief.\n\nNow answer in French.",
            "messages": [
                {"role": "user", "content": text("weather?")},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t1", "name": "weather", "input": {}}],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "t1", "content": text("sunny")},
                        *text("and tomorrow?", "please"),
                    ],
                },
            ],
        },
    ),
    (
        "a final assistant turn (prefill) loses its trailing whitespace",
        req(msg(U, "hi"), msg(A, "Sure:\n ")),
        OPUS,
        {
            "messages": [
                {"role": "user", "content": text("hi")},
                {"role": "assistant", "content": text("Sure:")},
            ]
        },
    ),
    (
        "medium budget",
        req(thinking=chat_pb.THINKING_LEVEL_MEDIUM, max_tokens=10),
        HAIKU,
        {"thinking": {"type": "enabled", "budget_tokens": 2000}, "max_tokens": 2010},
    ),
    (
        "max budget",
        req(thinking=chat_pb.THINKING_LEVEL_MAX, max_tokens=10),
        HAIKU,
        {"thinking": {"type": "enabled", "budget_tokens": 32000}, "max_tokens": 32010},
    ),
    (
        "adaptive medium effort",
        req(thinking=chat_pb.THINKING_LEVEL_MEDIUM),
        OPUS,
        {"thinking": {"type": "adaptive"}, "output_config": {"effort": "medium"}},
    ),
    (
        "auto tool choice allowed while thinking",
        req(
            tools=[WEATHER],
            tool_choice=chat_pb.ToolChoice(mode=chat_pb.ToolChoice.MODE_AUTO),
            thinking=chat_pb.THINKING_LEVEL_MEDIUM,
        ),
        HAIKU,
        {"tool_choice": {"type": "auto"}},
    ),
    (
        "data: and https image URLs",
        req(image("data:image/png;base64,iVBORw0K"), image("https://x.test/cat.jpg")),
        HAIKU,
        {
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {
                                "type": "base64",
                                "media_type": "image/png",
                                "data": "iVBORw0K",
                            },
                        },
                        {
                            "type": "image",
                            "source": {"type": "url", "url": "https://x.test/cat.jpg"},
                        },
                    ],
                }
            ]
        },
    ),
    (
        "tools, required choice and no parallel calls",
        req(
            tools=[WEATHER],
            tool_choice=chat_pb.ToolChoice(mode=chat_pb.ToolChoice.MODE_REQUIRED),
            parallel_tool_calls=False,
        ),
        HAIKU,
        {
            "tools": [
                {"name": "weather", "description": "Weather", "input_schema": {"type": "object"}}
            ],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
        },
    ),
    (
        "named tool choice",
        req(
            tools=[WEATHER],
            tool_choice=chat_pb.ToolChoice(mode=chat_pb.ToolChoice.MODE_NAMED, name="weather"),
        ),
        HAIKU,
        {"tool_choice": {"type": "tool", "name": "weather"}},
    ),
    (
        "assistant tool calls and tool results",
        req(
            msg(U, "weather?"),
            msg(A, tool_calls=[chat_pb.ToolCall(id="t1", name="weather", arguments_json="{}")]),
            msg(T, "sunny", tool_call_id="t1"),
        ),
        HAIKU,
        {
            "messages": [
                {"role": "user", "content": text("weather?")},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t1", "name": "weather", "input": {}}],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "t1", "content": text("sunny")}
                    ],
                },
            ]
        },
    ),
]


@pytest.mark.parametrize(
    ("request_", "model", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_message_params_from_request(
    request_: chat_pb.ChatRequest, model: ModelSpec, expected: dict[str, Any]
) -> None:
    params = message_params_from_request(request_, model)

    assert {key: params.get(key) for key in expected} == expected


@pytest.mark.parametrize(
    ("request_", "model", "param"),
    [
        (req(msg(S, "only a system prompt")), HAIKU, "messages"),
        (req(msg(chat_pb.ROLE_UNSPECIFIED, "who?")), HAIKU, "messages"),
        (req(image("ftp://x.test/cat.png")), HAIKU, "messages"),
        (req(image("data:image/tiff;base64,AAAA")), HAIKU, "messages"),
        (
            req(tools=[chat_pb.Tool(name="f", parameters_json="[1, 2]")]),
            HAIKU,
            "tools.function.parameters",
        ),
        (
            req(msg(A, tool_calls=[chat_pb.ToolCall(id="t", name="f", arguments_json="{oops")])),
            HAIKU,
            "tool_calls.function.arguments",
        ),
        (req(thinking=chat_pb.THINKING_LEVEL_HIGH), NO_THINKING, "thinking"),
        (
            req(
                tools=[WEATHER],
                tool_choice=chat_pb.ToolChoice(mode=chat_pb.ToolChoice.MODE_REQUIRED),
                thinking=chat_pb.THINKING_LEVEL_MEDIUM,
            ),
            HAIKU,
            "tool_choice",
        ),
    ],
    ids=[
        "no-turns",
        "no-role",
        "ftp-image",
        "tiff-image",
        "schema-not-object",
        "bad-args",
        "no-thinking",
        "forced-tool-while-thinking",
    ],
)
def test_invalid_requests_name_the_parameter(
    request_: chat_pb.ChatRequest, model: ModelSpec, param: str
) -> None:
    with pytest.raises(InvalidRequest) as info:
        message_params_from_request(request_, model)

    assert info.value.metadata["param"] == param
