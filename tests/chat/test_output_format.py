"""response_format and restored thinking in the Messages API arguments, table-driven."""

from __future__ import annotations

import json
from typing import Any

import pytest

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.model_table import ModelSpec
from drafter.rpc.errors import InvalidRequest
from drafter.services.chat.output_format import FORMAT_TOOL_DESCRIPTION, format_tool_name
from drafter.services.chat.to_anthropic import message_params_from_request
from tests.chat.test_to_anthropic import HAIKU, OPUS, WEATHER, A, T, U, msg, req, text

F = chat_pb.ResponseFormat
# Every model of the built-in table takes structured outputs; an operator's may not.
UNSTRUCTURED = HAIKU.model_copy(update={"structured_outputs": False})
SCHEMA = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}


def fmt(kind: Any, schema: dict[str, Any] | None = None, name: str = "") -> F:
    return F(type=kind, name=name, schema_json=json.dumps(schema) if schema else "")


def forced(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "tools": [{"name": name, "description": FORMAT_TOOL_DESCRIPTION, "input_schema": schema}],
        "tool_choice": {"type": "tool", "name": name},
    }


FORMAT_CASES: list[tuple[str, chat_pb.ChatRequest, ModelSpec, dict[str, Any], str | None]] = [
    (
        "json_schema with structured outputs",
        req(response_format=fmt(F.TYPE_JSON_SCHEMA, SCHEMA, "answer")),
        OPUS,
        {"output_config": {"format": {"type": "json_schema", "schema": SCHEMA}}, "tools": None},
        None,
    ),
    (
        "json_schema with structured outputs keeps the thinking effort",
        req(
            response_format=fmt(F.TYPE_JSON_SCHEMA, SCHEMA, "answer"),
            thinking=chat_pb.THINKING_LEVEL_HIGH,
        ),
        OPUS,
        {
            "output_config": {
                "effort": "high",
                "format": {"type": "json_schema", "schema": SCHEMA},
            }
        },
        None,
    ),
    (
        "json_schema without structured outputs: forced tool named after the schema",
        req(response_format=fmt(F.TYPE_JSON_SCHEMA, SCHEMA, "answer")),
        UNSTRUCTURED,
        forced("answer", SCHEMA) | {"output_config": None},
        "answer",
    ),
    (
        "json_object: forced tool taking any object, on every model",
        req(response_format=fmt(F.TYPE_JSON_OBJECT)),
        OPUS,
        forced("json_object", {"type": "object", "additionalProperties": True}),
        "json_object",
    ),
    (
        "text: nothing added",
        req(response_format=fmt(F.TYPE_TEXT)),
        HAIKU,
        {"tools": None, "tool_choice": None, "output_config": None},
        None,
    ),
]


@pytest.mark.parametrize(
    ("request_", "model", "expected", "tool"),
    [c[1:] for c in FORMAT_CASES],
    ids=[c[0] for c in FORMAT_CASES],
)
def test_response_format(
    request_: chat_pb.ChatRequest, model: ModelSpec, expected: dict[str, Any], tool: str | None
) -> None:
    params = message_params_from_request(request_, model)

    assert {key: params.get(key) for key in expected} == expected
    assert format_tool_name(request_, model) == tool


@pytest.mark.parametrize(
    ("request_", "model", "param"),
    [
        (
            req(response_format=fmt(F.TYPE_JSON_OBJECT), thinking=chat_pb.THINKING_LEVEL_MEDIUM),
            HAIKU,
            "response_format",
        ),
        (req(response_format=fmt(F.TYPE_JSON_OBJECT), tools=[WEATHER]), HAIKU, "response_format"),
        (
            req(response_format=fmt(F.TYPE_JSON_SCHEMA, {"type": "array"}, "a")),
            UNSTRUCTURED,
            "response_format.json_schema.schema",
        ),
        (
            req(response_format=F(type=F.TYPE_JSON_SCHEMA, name="a", schema_json="{nope")),
            OPUS,
            "response_format.json_schema.schema",
        ),
    ],
    ids=["forced-tool-while-thinking", "own-tools", "array-schema-as-tool", "bad-json"],
)
def test_impossible_formats_are_a_400_naming_the_field(
    request_: chat_pb.ChatRequest, model: ModelSpec, param: str
) -> None:
    with pytest.raises(InvalidRequest) as info:
        message_params_from_request(request_, model)

    assert info.value.metadata["param"] == param


KEPT = [{"type": "thinking", "thinking": "plan", "signature": "sig"}]


def test_kept_thinking_is_restored_in_front_of_the_turn_that_called_the_tools() -> None:
    calls = [
        chat_pb.ToolCall(id="t1", name="weather", arguments_json="{}"),
        chat_pb.ToolCall(id="t2", name="weather", arguments_json='{"city":"Oslo"}'),
    ]
    request_ = req(
        msg(U, "weather?"),
        msg(A, "Checking.", tool_calls=calls),
        msg(T, "sunny", tool_call_id="t1"),
        msg(T, "rain", tool_call_id="t2"),
        thinking=chat_pb.THINKING_LEVEL_MEDIUM,
    )

    params = message_params_from_request(request_, HAIKU, kept_thinking={"t2": KEPT})

    assert params["messages"][1] == {
        "role": "assistant",
        "content": [
            *KEPT,
            *text("Checking."),
            {"type": "tool_use", "id": "t1", "name": "weather", "input": {}},
            {"type": "tool_use", "id": "t2", "name": "weather", "input": {"city": "Oslo"}},
        ],
    }
    assert [b["type"] for b in params["messages"][2]["content"]] == ["tool_result"] * 2
