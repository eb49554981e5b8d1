"""Chat completions end to end, streaming, tool loops and failures: the official OpenAI
SDK against ``drafter up`` and the fake Anthropic upstream."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply, ToolUse
from tests.support.stack import DrafterStack

HAIKU = "claude-haiku-4-5"
WEATHER: Any = {
    "type": "function",
    "function": {"name": "weather", "parameters": {"type": "object"}},
}
CLOCK: Any = {"type": "function", "function": {"name": "time", "parameters": {"type": "object"}}}
SCHEMA = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}


def new_key(stack: DrafterStack) -> str:
    return stack.create_user_with_key(f"chat-stream-{uuid.uuid4().hex[:8]}@example.com", "plus")


@pytest.fixture(scope="module")
def client(drafter_up: DrafterStack) -> openai.OpenAI:
    return openai.OpenAI(api_key=new_key(drafter_up), base_url=drafter_up.api_url, max_retries=0)


def user(text: str) -> Any:  # a message param; Any spares the SDK TypedDict overloads
    return {"role": "user", "content": text}


@dataclass
class Answer:
    """What a client made of one choice, streamed or not."""

    content: str = ""
    reasoning: str = ""
    tool_calls: dict[int, dict[str, str]] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None

    def assistant_message(self) -> dict[str, Any]:
        calls = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": c["arguments"]},
            }
            for c in self.tool_calls.values()
        ]
        return {"role": "assistant", "content": self.content or None, "tool_calls": calls}


def streamed(chunks: Iterable[Any]) -> Answer:
    answer = Answer()
    for chunk in chunks:
        if chunk.usage is not None:
            answer.usage = chunk.usage.model_dump()
        for choice in chunk.choices:
            delta = choice.delta
            answer.content += delta.content or ""
            answer.reasoning += (delta.model_extra or {}).get("reasoning_content") or ""
            for call in delta.tool_calls or []:
                entry = answer.tool_calls.setdefault(
                    call.index, {"id": "", "name": "", "arguments": ""}
                )
                entry["id"] = call.id or entry["id"]
                entry["name"] = (call.function and call.function.name) or entry["name"]
                entry["arguments"] += (call.function and call.function.arguments) or ""
            answer.finish_reason = choice.finish_reason or answer.finish_reason
    return answer


def whole(completion: Any) -> Answer:
    choice = completion.choices[0]
    calls = {
        i: {"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
        for i, c in enumerate(choice.message.tool_calls or [])
    }
    extra = choice.message.model_extra or {}
    return Answer(
        content=choice.message.content or "",
        reasoning=extra.get("reasoning_content") or "",
        tool_calls=calls,
        finish_reason=choice.finish_reason,
        usage=completion.usage.model_dump(),
    )


def test_streamed_tool_call_deltas_carry_indexes(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        text="Checking.",
        tool_uses=[
            ToolUse("weather", {"city": "Paris"}, "toolu_1"),
            ToolUse("time", {}, "toolu_2"),
        ],
        delay_s=0.005,  # paced like a real model, so the pieces are not coalesced
    )
    chunks = list(
        client.chat.completions.create(
            model=HAIKU,
            messages=[user("x")],
            tools=[WEATHER, CLOCK],
            stream=True,  # type: ignore[list-item]
        )
    )

    assert chunks[0].choices[0].delta.role == "assistant"
    deltas = [
        c for chunk in chunks for choice in chunk.choices for c in choice.delta.tool_calls or []
    ]
    firsts = [(d.index, d.id, d.type, d.function and d.function.name) for d in deltas if d.id]
    assert firsts == [(0, "toolu_1", "function", "weather"), (1, "toolu_2", "function", "time")]
    assert len([d for d in deltas if d.index == 0]) > 2  # the arguments arrive in pieces
    answer = streamed(chunks)
    assert json.loads(answer.tool_calls[0]["arguments"]) == {"city": "Paris"}
    assert answer.tool_calls[1]["arguments"] == "{}"
    assert answer.content == "Checking." and answer.finish_reason == "tool_calls"
    assert all(chunk.usage is None for chunk in chunks)  # no include_usage, no usage chunk


def test_three_turn_tool_loop_with_thinking(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    thinking = {"thinking": "high"}
    tools: Any = [WEATHER, CLOCK]
    fake_anthropic.enqueue(
        Reply(
            thinking="Weather first.",
            signature="sig-1",
            text="",
            tool_uses=[ToolUse("weather", {"city": "Oslo"}, "toolu_a")],
        ),
        Reply(
            thinking="Now the time.",
            signature="sig-2",
            text="",
            tool_uses=[ToolUse("time", {}, "toolu_b")],
        ),
        Reply(text="Sunny, and it is noon."),
    )
    messages: list[Any] = [user("Weather and time in Oslo?")]
    first = client.chat.completions.create(
        model=HAIKU, messages=messages, tools=tools, extra_body=thinking
    )
    messages += [
        first.choices[0].message,
        {"role": "tool", "tool_call_id": "toolu_a", "content": "sunny"},
    ]
    second = streamed(
        client.chat.completions.create(
            model=HAIKU, messages=messages, tools=tools, extra_body=thinking, stream=True
        )
    )
    messages += [
        second.assistant_message(),
        {"role": "tool", "tool_call_id": "toolu_b", "content": "12:00"},
    ]
    third = client.chat.completions.create(
        model=HAIKU, messages=messages, tools=tools, extra_body=thinking
    )

    assert third.choices[0].message.content == "Sunny, and it is noon."
    turn_1 = {"type": "thinking", "thinking": "Weather first.", "signature": "sig-1"}
    turn_2 = {"type": "thinking", "thinking": "Now the time.", "signature": "sig-2"}
    second_sent, third_sent = (r.body["messages"] for r in fake_anthropic.requests[1:])
    assert second_sent[1]["content"][0] == turn_1
    assert [m["content"][0] for m in third_sent if m["role"] == "assistant"] == [turn_1, turn_2]
    assert third_sent[1]["content"][1]["id"] == "toolu_a"


SCRIPTS: list[tuple[str, Reply, dict[str, Any]]] = [
    ("text", Reply(text="The quick brown fox jumps.", chunks=5), {}),
    ("length", Reply(text="cut short", stop_reason="max_tokens"), {}),
    ("stop sequence", Reply(text="keep this STOP not this"), {"stop": ["STOP"]}),
    (
        "thinking with reasoning",
        Reply(
            thinking="Step by step.", text="42", usage={"output_tokens": 9, "thinking_tokens": 4}
        ),
        {"extra_body": {"thinking": "medium", "include_reasoning": True}},
    ),
    (
        "parallel tool calls",
        Reply(
            text="",
            tool_uses=[ToolUse("weather", {"city": "Rome"}, "t1"), ToolUse("time", {}, "t2")],
        ),
        {"tools": [WEATHER, CLOCK]},
    ),
    (
        "cached prompt",
        Reply(
            text="hi",
            usage={
                "input_tokens": 3,
                "cache_read_input_tokens": 40,
                "cache_creation_input_tokens": 2,
            },
        ),
        {},
    ),
    (
        "json through a forced tool",
        Reply(text="", tool_uses=[ToolUse("json_object", {"answer": 42})]),
        {"response_format": {"type": "json_object"}},
    ),
]


@pytest.mark.parametrize(("reply", "fields"), [s[1:] for s in SCRIPTS], ids=[s[0] for s in SCRIPTS])
def test_streamed_and_whole_answers_are_equivalent(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic, reply: Reply, fields: dict[str, Any]
) -> None:
    fake_anthropic.enqueue(reply, reply)
    request: dict[str, Any] = {"model": HAIKU, "messages": [user("the same question")], **fields}
    one = whole(client.chat.completions.create(**request))
    chunks = client.chat.completions.create(
        **request, stream=True, stream_options={"include_usage": True}
    )
    two = streamed(chunks)

    assert two == one
    assert one.content or one.tool_calls
    # The whole answer was asked for whole, the stream streamed; the rest is the same.
    first, second = (r.body for r in fake_anthropic.requests)
    assert (first.pop("stream"), second.pop("stream")) == (False, True)
    assert first == second
