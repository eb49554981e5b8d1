"""``strict`` function tools: strict tool use on models with structured outputs, dropped
elsewhere (the model table's rule)."""

from __future__ import annotations

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.model_table import ModelSpec, load_model_table
from drafter.services.chat.to_anthropic import message_params_from_request

HAIKU = load_model_table().resolve("claude-haiku-4-5")
WITHOUT_STRUCTURED_OUTPUTS = HAIKU.model_copy(update={"structured_outputs": False})
SCHEMA = (
    '{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],'
    ' "additionalProperties": false}'
)


def tools_sent(model: ModelSpec, *, strict: bool) -> list[dict[str, object]]:
    request = chat_pb.ChatRequest(
        model=model.id,
        messages=[
            chat_pb.Message(role=chat_pb.ROLE_USER, content=[chat_pb.ContentPart(text="hi")])
        ],
        tools=[chat_pb.Tool(name="weather", parameters_json=SCHEMA, strict=strict)],
    )
    tools: list[dict[str, object]] = message_params_from_request(request, model)["tools"]
    return tools


def test_strict_reaches_the_upstream_on_a_model_with_structured_outputs() -> None:
    assert tools_sent(HAIKU, strict=True)[0]["strict"] is True
    assert "strict" not in tools_sent(HAIKU, strict=False)[0]


def test_strict_is_dropped_on_a_model_without_structured_outputs() -> None:
    tool = tools_sent(WITHOUT_STRUCTURED_OUTPUTS, strict=True)[0]
    assert "strict" not in tool
    assert tool["name"] == "weather"
