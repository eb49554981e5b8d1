"""Chat completions end to end, request translation: the official OpenAI SDK against
``drafter up``, asserting what the fake Anthropic upstream received."""

from __future__ import annotations

import json
import uuid
from typing import Any

import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply, ToolUse
from tests.support.stack import DrafterStack

HAIKU, OPUS = "claude-haiku-4-5", "claude-opus-4-6"
WEATHER: Any = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "integer"}},
    "required": ["answer"],
    "additionalProperties": False,
}
PNG = "data:image/png;base64,iVBORw0KGgo="


@pytest.fixture(scope="module")
def client(drafter_up: DrafterStack) -> openai.OpenAI:
    key = drafter_up.create_user_with_key(f"chat-e2e-{uuid.uuid4().hex[:8]}@example.com", "plus")
    return openai.OpenAI(api_key=key, base_url=drafter_up.api_url, max_retries=0)


def sent(fake: FakeAnthropic, index: int = -1) -> dict[str, Any]:
    return fake.requests[index].body


def user(text: str) -> Any:  # a message param; Any spares the SDK TypedDict overloads
    return {"role": "user", "content": text}


def test_roles_merging_max_completion_tokens_and_user(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    client.chat.completions.create(
        model=HAIKU,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": "Answer in French."},
            user("one"),
            user("two"),
        ],
        max_completion_tokens=77,
        user="end-user-7",
    )

    body = sent(fake_anthropic)
    assert body["system"] == "Be brief.\n\nAnswer in French."
    assert body["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
        }
    ]
    assert body["max_tokens"] == 77
    assert body["metadata"] == {"user_id": "end-user-7"}


@pytest.mark.parametrize("stop", ["END", ["END", "###"]])
def test_stop_sequences(client: openai.OpenAI, fake_anthropic: FakeAnthropic, stop: Any) -> None:
    fake_anthropic.enqueue(text="first part END second part")
    completion = client.chat.completions.create(model=HAIKU, messages=[user("go")], stop=stop)

    assert sent(fake_anthropic)["stop_sequences"] == ([stop] if isinstance(stop, str) else stop)
    assert completion.choices[0].message.content == "first part "
    assert completion.choices[0].finish_reason == "stop"


def test_sampling_parameters_reach_the_upstream_and_out_of_range_is_a_400(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    completion = client.chat.completions.create(model=HAIKU, messages=[user("hi")], top_p=0.5)

    assert completion.choices[0].finish_reason == "stop"
    body = sent(fake_anthropic)
    assert body["top_p"] == 0.5 and "temperature" not in body  # Haiku 4.5 takes one of them
    for temperature in (1.7, -1):
        with pytest.raises(openai.BadRequestError) as exc:
            client.chat.completions.create(
                model=HAIKU, messages=[user("hi")], temperature=temperature
            )
        assert exc.value.body["param"] == "temperature"  # type: ignore[index]


def test_image_inputs(client: openai.OpenAI, fake_anthropic: FakeAnthropic) -> None:
    content: Any = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": PNG}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
    ]
    client.chat.completions.create(model=HAIKU, messages=[{"role": "user", "content": content}])

    assert sent(fake_anthropic)["messages"][0]["content"] == [
        {"type": "text", "text": "What is this?"},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]


def test_tools_tool_calls_and_tool_results(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        text="",
        tool_uses=[ToolUse("weather", {"city": "Paris"}, "toolu_1"), ToolUse("weather", {}, "t2")],
    )
    first = client.chat.completions.create(
        model=HAIKU,
        messages=[user("Weather in Paris and here?")],
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "weather"}},
        parallel_tool_calls=False,
    )

    body = sent(fake_anthropic)
    assert body["tools"] == [
        {
            "name": "weather",
            "description": "Weather in a city",
            "input_schema": WEATHER["function"]["parameters"],  # type: ignore[index]
        }
    ]
    assert body["tool_choice"] == {
        "type": "tool",
        "name": "weather",
        "disable_parallel_tool_use": True,
    }
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    functions = [(c.id, c.function) for c in calls if c.type == "function"]
    assert [(i, f.name, json.loads(f.arguments)) for i, f in functions] == [
        ("toolu_1", "weather", {"city": "Paris"}),
        ("t2", "weather", {}),
    ]

    client.chat.completions.create(
        model=HAIKU,
        messages=[
            user("Weather in Paris and here?"),
            choice.message,  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"},
            {"role": "tool", "tool_call_id": "t2", "content": "rain"},
        ],
        tools=[WEATHER],  # type: ignore[list-item]
    )
    assert sent(fake_anthropic)["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "weather",
                    "input": {"city": "Paris"},
                },
                {"type": "tool_use", "id": "t2", "name": "weather", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "sunny"}],
                },
                {
                    "type": "tool_result",
                    "tool_use_id": "t2",
                    "content": [{"type": "text", "text": "rain"}],
                },
            ],
        },
    ]


@pytest.mark.parametrize(
    ("fields", "budget"),
    [
        ({"thinking": "medium"}, 2_000),
        ({"thinking": "high"}, 8_000),
        ({"thinking": "max"}, 32_000),
        ({"reasoning_effort": "low"}, 1_024),
        ({"reasoning_effort": "medium"}, 2_000),
        ({"reasoning_effort": "high"}, 8_000),
    ],
)
def test_thinking_levels_and_budgets(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic, fields: dict[str, str], budget: int
) -> None:
    fake_anthropic.enqueue(thinking="secret plan", text="Answer")
    effort: Any = fields.get("reasoning_effort", openai.omit)  # the SDK's own parameter
    completion = client.chat.completions.create(
        model=HAIKU,
        messages=[user("think")],
        max_tokens=100,
        reasoning_effort=effort,
        extra_body={k: v for k, v in fields.items() if k != "reasoning_effort"},
    )

    body = sent(fake_anthropic)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert body["max_tokens"] == budget + 100
    message = completion.choices[0].message
    assert message.content == "Answer"
    assert "secret" not in message.model_dump_json()  # hidden unless include_reasoning


@pytest.mark.parametrize(("thinking", "effort"), [("medium", "medium"), ("max", "max")])
def test_adaptive_thinking_takes_an_effort(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic, thinking: str, effort: str
) -> None:
    client.chat.completions.create(
        model=OPUS, messages=[user("think")], extra_body={"thinking": thinking}
    )

    body = sent(fake_anthropic)
    assert body["thinking"] == {"type": "adaptive"}
    assert body["output_config"] == {"effort": effort}


def test_include_reasoning_returns_reasoning_content(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(thinking="Let me think.", text="42")
    completion = client.chat.completions.create(
        model=HAIKU,
        messages=[user("6*7?")],
        extra_body={"thinking": "medium", "include_reasoning": True},
    )

    message = completion.choices[0].message
    assert message.content == "42"
    assert (message.model_extra or {})["reasoning_content"] == "Let me think."


def test_impossible_combinations_are_a_precise_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(
            model=HAIKU,
            messages=[user("x")],
            tools=[WEATHER],  # type: ignore[list-item]
            tool_choice="required",
            extra_body={"thinking": "high"},
        )
    assert exc.value.body["param"] == "tool_choice"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as exc:
        client.chat.completions.create(
            model=HAIKU,
            messages=[user("x")],
            response_format={"type": "json_object"},
            extra_body={"thinking": "high"},
        )
    assert exc.value.body["param"] == "response_format"  # type: ignore[index]


def test_response_format_json_object_through_a_forced_tool(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(text="", tool_uses=[ToolUse("json_object", {"answer": 42})])
    completion = client.chat.completions.create(
        model=HAIKU,
        messages=[user("6*7? Answer in JSON.")],
        response_format={"type": "json_object"},
    )

    body = sent(fake_anthropic)
    assert [t["name"] for t in body["tools"]] == ["json_object"]
    assert body["tool_choice"] == {"type": "tool", "name": "json_object"}
    choice = completion.choices[0]
    assert json.loads(choice.message.content or "") == {"answer": 42}
    assert choice.finish_reason == "stop" and not choice.message.tool_calls


def test_response_format_json_schema_with_structured_outputs(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(text='{"answer": 42}')
    response_format: Any = {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": SCHEMA},
    }
    completion = client.chat.completions.create(
        model=OPUS,
        messages=[user("6*7?")],
        response_format=response_format,  # type: ignore[arg-type]
    )

    body = sent(fake_anthropic)
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}
    assert "tools" not in body
    assert json.loads(completion.choices[0].message.content or "") == {"answer": 42}


def test_response_format_json_object(client: openai.OpenAI, fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(text="", tool_uses=[ToolUse("json_object", {"colour": "blue"})])
    completion = client.chat.completions.create(
        model=OPUS, messages=[user("a colour as JSON")], response_format={"type": "json_object"}
    )

    assert sent(fake_anthropic)["tool_choice"] == {"type": "tool", "name": "json_object"}
    assert json.loads(completion.choices[0].message.content or "") == {"colour": "blue"}
    assert completion.choices[0].finish_reason == "stop"


def test_n_3_is_three_upstream_calls(client: openai.OpenAI, fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(
        *[
            Reply(text=f"answer {i}", usage={"input_tokens": 3, "output_tokens": 2})
            for i in range(3)
        ]
    )
    completion = client.chat.completions.create(model=HAIKU, messages=[user("x")], n=3)

    assert len(fake_anthropic.requests) == 3
    assert [c.index for c in completion.choices] == [0, 1, 2]
    assert sorted(c.message.content or "" for c in completion.choices) == [
        "answer 0",
        "answer 1",
        "answer 2",
    ]
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (9, 6)


def test_usage_with_cached_and_reasoning_tokens(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    usage = {
        "input_tokens": 10,
        "cache_read_input_tokens": 30,
        "cache_creation_input_tokens": 5,
        "output_tokens": 20,
        "thinking_tokens": 12,
    }
    fake_anthropic.enqueue(thinking="hmm", text="done", usage=usage)
    completion = client.chat.completions.create(
        model=HAIKU, messages=[user("x")], extra_body={"thinking": "medium"}
    )

    got = completion.usage
    assert got is not None
    assert (got.prompt_tokens, got.completion_tokens, got.total_tokens) == (45, 20, 65)
    assert got.prompt_tokens_details and got.prompt_tokens_details.cached_tokens == 30
    assert got.completion_tokens_details
    assert got.completion_tokens_details.reasoning_tokens == 12
