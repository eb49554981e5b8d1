"""Stored responses continued with ``previous_response_id`` (thinking included), and a
stream that fails mid-way, through the openai SDK."""

from __future__ import annotations

import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply, ToolUse

pytestmark = pytest.mark.slow

HAIKU = "claude-haiku-4-5"
TOOL = {
    "type": "function",
    "name": "lookup",
    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
}


def test_previous_response_id_continues_a_stored_thinking_tool_loop(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        Reply(
            text="",
            thinking="Look it up first.",
            signature="sig-stored-1",
            tool_uses=[ToolUse("lookup", {"q": "x"})],
        )
    )
    first = client.responses.create(
        model=HAIKU,
        input="What is x?",
        instructions="Answer briefly.",
        tools=[TOOL],  # type: ignore[list-item]
        reasoning={"effort": "low"},
    )
    reasoning = next(item for item in first.output if item.type == "reasoning")
    assert reasoning.encrypted_content is None  # not included: kept on the server only
    call = next(item for item in first.output if item.type == "function_call")

    fake_anthropic.enqueue(Reply(text="x is 42."))
    second = client.responses.create(
        model=HAIKU,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "42"}],
        tools=[TOOL],  # type: ignore[list-item]
        reasoning={"effort": "low"},
    )

    assert second.output_text == "x is 42."
    assert second.previous_response_id == first.id
    body = fake_anthropic.last_request.body
    assert "system" not in body  # instructions are not carried over, as on OpenAI
    assert body["messages"][0] == {
        "role": "user",
        "content": [{"type": "text", "text": "What is x?"}],
    }
    assert body["messages"][1]["content"][0] == {
        "type": "thinking",
        "thinking": "Look it up first.",
        "signature": "sig-stored-1",
    }
    assert client.responses.retrieve(second.id).output_text == "x is 42."


def test_an_unknown_previous_response_id_is_a_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.responses.create(model=HAIKU, input="hi", previous_response_id="resp_missing")
    assert info.value.body["code"] == "previous_response_not_found"  # type: ignore[index]


def test_a_stream_failing_mid_way_ends_with_error_and_response_failed(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(text="a b c d e f", chunks=6, error_after=5))

    events = list(client.responses.create(model=HAIKU, input="hi", stream=True, store=False))

    types = [event.type for event in events]
    assert "response.output_text.delta" in types
    assert types[-2:] == ["error", "response.failed"]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[-1].response.status == "failed"  # type: ignore[union-attr]
