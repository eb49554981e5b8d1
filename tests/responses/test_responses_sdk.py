"""The openai Python SDK's ``responses`` methods against Drafter, unchanged: plain and
streamed answers, tool loops, reasoning round-trips, structured output, the token limit,
quota and usage; each time asserting what the fake upstream (strict as the live API)
received."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply, ToolUse
from tests.responses.conftest import new_key
from tests.support.stack import DrafterStack

pytestmark = pytest.mark.slow

HAIKU = "claude-haiku-4-5"
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


def test_a_plain_response_has_openai_shape_and_usage(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(text="Hello there", usage={"cache_read_input_tokens": 3}))

    response = client.responses.create(
        model=HAIKU,
        input="Say hello",
        instructions="Be brief.",
        max_output_tokens=100,
        safety_identifier="hashed-user",
        metadata={"run": "1"},
        prompt_cache_key="tenant-1",
        store=False,
    )

    assert response.status == "completed"
    assert response.output_text == "Hello there"
    assert response.id.startswith("resp_")
    assert response.metadata == {"run": "1"}
    assert response.usage is not None
    assert response.usage.input_tokens_details.cached_tokens == 3
    assert response.usage.input_tokens >= 3 + 1
    assert response.usage.output_tokens >= 1
    body = fake_anthropic.last_request.body
    assert body["system"] == "Be brief." or body["system"][0]["text"] == "Be brief."
    assert body["messages"][0]["role"] == "user"
    assert body["max_tokens"] == 100
    assert body["metadata"] == {"user_id": "hashed-user"}
    assert "prompt_cache_key" not in body
    assert body["stream"] is False  # short and not streamed: asked for whole


def test_a_long_answer_is_streamed_from_the_upstream_even_when_the_client_does_not_stream(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(text="Hello there"))

    response = client.responses.create(
        model=HAIKU, input="Say hello", max_output_tokens=16_000, store=False
    )

    assert response.output_text == "Hello there"
    assert fake_anthropic.last_request.body["stream"] is True  # as Anthropic advises


def test_a_streamed_response_sends_the_full_event_sequence(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(text="one two three four"))

    events = list(client.responses.create(model=HAIKU, input="count", stream=True, store=False))

    types = [event.type for event in events]
    assert types[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert types[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert "".join(deltas) == "one two three four"
    assert len(deltas) > 1
    assert events[-1].response.output_text == "one two three four"  # type: ignore[union-attr]


def test_responses_stream_helper_gives_the_final_response(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(text="streamed helper"))

    with client.responses.stream(model=HAIKU, input="hi", store=False) as stream:
        texts = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()

    assert "".join(texts) == "streamed helper"
    assert final.output_text == "streamed helper"


def test_a_function_tool_loop_with_function_call_output(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(text="", tool_uses=[ToolUse("get_weather", {"city": "Oslo"})]))
    first = client.responses.create(
        model=HAIKU, input="Weather in Oslo?", tools=[WEATHER_TOOL], store=False
    )
    call = next(item for item in first.output if item.type == "function_call")
    assert call.name == "get_weather"
    assert call.arguments == '{"city":"Oslo"}'
    tool = fake_anthropic.last_request.body["tools"][0]
    assert tool["name"] == "get_weather"
    assert tool["strict"] is True

    fake_anthropic.enqueue(Reply(text="It is sunny in Oslo."))
    second = client.responses.create(
        model=HAIKU,
        input=[
            {"role": "user", "content": "Weather in Oslo?"},
            *[item.model_dump(exclude_none=True) for item in first.output],
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
        tools=[WEATHER_TOOL],
        store=False,
    )

    assert second.output_text == "It is sunny in Oslo."
    messages = fake_anthropic.last_request.body["messages"]
    assert messages[1]["content"] == [
        {"type": "tool_use", "id": call.call_id, "name": "get_weather", "input": {"city": "Oslo"}}
    ]
    assert messages[2]["content"][0]["type"] == "tool_result"
    assert messages[2]["content"][0]["tool_use_id"] == call.call_id


def test_a_custom_tool_round_trips_as_one_string_input(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    patch = "*** Begin Patch\n*** End Patch"
    fake_anthropic.enqueue(Reply(text="", tool_uses=[ToolUse("apply_patch", {"input": patch})]))
    custom = {"type": "custom", "name": "apply_patch", "description": "Applies a patch."}
    first = client.responses.create(model=HAIKU, input="patch it", tools=[custom], store=False)

    call = next(item for item in first.output if item.type == "custom_tool_call")
    assert call.input == patch
    tool = fake_anthropic.last_request.body["tools"][0]
    assert tool["input_schema"]["required"] == ["input"]

    fake_anthropic.enqueue(Reply(text="done"))
    client.responses.create(
        model=HAIKU,
        input=[
            {"role": "user", "content": "patch it"},
            call.model_dump(exclude_none=True),
            {"type": "custom_tool_call_output", "call_id": call.call_id, "output": "applied"},
        ],
        tools=[custom],  # type: ignore[list-item]
        store=False,
    )
    messages = fake_anthropic.last_request.body["messages"]
    assert messages[1]["content"][0]["input"] == {"input": patch}


def test_a_thinking_tool_loop_round_trips_through_encrypted_content(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        Reply(
            text="",
            thinking="The user wants the weather; call the tool.",
            signature="sig-weather-1",
            tool_uses=[ToolUse("get_weather", {"city": "Oslo"})],
        )
    )
    first = client.responses.create(
        model=HAIKU,
        input="Weather in Oslo?",
        tools=[WEATHER_TOOL],
        reasoning={"effort": "low", "summary": "auto"},
        include=["reasoning.encrypted_content"],
        store=False,
    )
    reasoning = next(item for item in first.output if item.type == "reasoning")
    assert reasoning.encrypted_content
    assert "sig-weather-1" not in reasoning.encrypted_content  # sealed, not readable
    assert reasoning.summary[0].text == "The user wants the weather; call the tool."
    assert fake_anthropic.last_request.body["thinking"]["type"] == "enabled"
    call = next(item for item in first.output if item.type == "function_call")

    fake_anthropic.enqueue(Reply(text="Sunny."))
    history = [
        {"role": "user", "content": "Weather in Oslo?"},
        *[item.model_dump(exclude_none=True) for item in first.output],
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
    ]
    second = client.responses.create(
        model=HAIKU,
        input=history,  # type: ignore[arg-type]
        tools=[WEATHER_TOOL],
        reasoning={"effort": "low"},
        include=["reasoning.encrypted_content"],
        store=False,
    )

    assert second.output_text == "Sunny."
    assistant = fake_anthropic.last_request.body["messages"][1]
    assert assistant["content"][0] == {
        "type": "thinking",
        "thinking": "The user wants the weather; call the tool.",
        "signature": "sig-weather-1",
    }
    assert assistant["content"][1]["type"] == "tool_use"

    token = reasoning.encrypted_content
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    history[1] = {**history[1], "encrypted_content": tampered}
    requests_before = len(fake_anthropic.requests)
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(
            model=HAIKU,
            input=history,
            tools=[WEATHER_TOOL],
            reasoning={"effort": "low"},
            store=False,  # type: ignore[arg-type]
        )
    assert info.value.body["param"] == "input[1].encrypted_content"  # type: ignore[index]
    assert len(fake_anthropic.requests) == requests_before


def test_structured_output_through_text_format(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(text='{"city": "Oslo"}'))
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    }
    response = client.responses.create(
        model=HAIKU,
        input="Which city?",
        text={"format": {"type": "json_schema", "name": "city", "schema": schema, "strict": True}},
        store=False,
    )

    assert response.output_text == '{"city": "Oslo"}'
    body = fake_anthropic.last_request.body
    assert body["output_config"]["format"] == {"type": "json_schema", "schema": schema}


def test_max_output_tokens_cut_is_incomplete(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(text="a b c d e f g h", chunks=8))

    response = client.responses.create(model=HAIKU, input="long", max_output_tokens=3, store=False)

    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert fake_anthropic.last_request.body["max_tokens"] == 3


def test_values_that_cannot_be_honoured_are_a_400_naming_them(client: openai.OpenAI) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"background": True}, "background"),
        ({"tools": [{"type": "file_search", "vector_store_ids": ["vs_1"]}]}, "tools[0].type"),
        ({"tools": [{"type": "computer_use_preview"}]}, "tools[0].type"),
        ({"tools": [{"type": "image_generation"}]}, "tools[0].type"),
        ({"reasoning": {"effort": "high"}, "max_output_tokens": 64_000}, "max_output_tokens"),
        ({"made_up": 1}, "made_up"),
    ]
    for fields, param in cases:
        with pytest.raises(openai.BadRequestError) as info:
            client.responses.create(model=HAIKU, input="hi", store=False, extra_body=fields)
        assert info.value.body["param"] == param, fields  # type: ignore[index]


def test_hosted_web_search_is_the_upstream_web_search_tool(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    response = client.responses.create(
        model=HAIKU,
        input="hi",
        tools=[{"type": "web_search"}, WEATHER_TOOL],  # type: ignore[list-item]
        store=False,
    )

    assert response.status == "completed"
    tools = fake_anthropic.last_request.body["tools"]
    assert [t["name"] for t in tools] == ["get_weather", "web_search"]
    assert tools[1]["type"] == "web_search_20250305"  # more in test_web_search.py


def test_one_unit_per_request_and_the_usage_api_shows_it(
    stack: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    key = new_key(stack, "tiny")  # 2 chat units a day
    tiny = openai.OpenAI(api_key=key, base_url=stack.base_url + "/v1", max_retries=0)
    tiny.responses.create(model=HAIKU, input="one", store=False)
    list(tiny.responses.create(model=HAIKU, input="two", stream=True, store=False))

    with pytest.raises(openai.RateLimitError):
        tiny.responses.create(model=HAIKU, input="three", store=False)
    usage = httpx.get(
        stack.api_url + "/usage", headers={"Authorization": f"Bearer {key}"}, timeout=10
    ).json()
    assert _chat_used(usage) == 2
    assert usage["today"]["tokens"] > 0


def test_an_upstream_failure_before_answering_is_refunded(
    stack: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    key = new_key(stack, "tiny")
    tiny = openai.OpenAI(api_key=key, base_url=stack.base_url + "/v1", max_retries=0)
    # The chat service's own attempts (3) all overloaded.
    fake_anthropic.enqueue(*[Reply(status=529, headers={"retry-after": "0"})] * 3)
    with pytest.raises(openai.APIStatusError) as info:
        tiny.responses.create(model=HAIKU, input="fails", store=False)
    assert info.value.status_code == 503

    usage = httpx.get(
        stack.api_url + "/usage", headers={"Authorization": f"Bearer {key}"}, timeout=10
    ).json()
    assert _chat_used(usage) == 0


def _chat_used(usage: dict[str, Any]) -> int:
    return int(usage["today"]["chat"])
