"""The Vercel AI SDK's default OpenAI provider (``openai(model)`` of @ai-sdk/openai, the
Responses API) from Node against Drafter: generateText and streamText with a tool the SDK
runs itself, a two-step loop through ``function_call`` / ``function_call_output``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply, ToolUse
from tests.support import node_clients
from tests.support.stack import DrafterStack

pytestmark = pytest.mark.slow

RESPONSES = "POST /api/v1/responses"


@pytest.fixture(scope="module", autouse=True)
def node_installed() -> str:
    """Skips (fails on CI) before a stack starts when the Node clients are not installed."""
    return node_clients.require_node_clients()


def run(case: str, stack: DrafterStack, key: str) -> Any:
    env = {"DRAFTER_BASE_URL": stack.api_url, "DRAFTER_API_KEY": key}
    return node_clients.run_script("ai_sdk_responses.mjs", args=[case], env=env)


def assert_tool_loop_upstream(fake: FakeAnthropic, city: str, call_id: str) -> None:
    first, second = fake.requests
    assert [tool["name"] for tool in first.body["tools"]] == ["weather"]
    schema = first.body["tools"][0]["input_schema"]
    assert schema["properties"] == {"city": {"type": "string"}}
    assert first.body["system"] == "Be brief."
    assert first.body["max_tokens"] == 200
    call, result = second.body["messages"][-2:]
    assert call["content"] == [
        {"type": "tool_use", "id": call_id, "name": "weather", "input": {"city": city}}
    ]
    (block,) = result["content"]
    assert (block["type"], block["tool_use_id"]) == ("tool_result", call_id)
    (output,) = block["content"]  # the tool's JSON output, as text
    assert json.loads(output["text"]) == {"city": city, "forecast": "sunny"}


def test_generate_text_runs_a_tool_through_the_responses_api(
    stack: DrafterStack, pro_key: str, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        Reply(text="", tool_uses=[ToolUse("weather", {"city": "Paris"}, id="toolu_paris")]),
        Reply(text="Sunny in Paris."),
    )

    out = run("generate", stack, pro_key)

    # the default provider speaks the Responses API, not Chat Completions
    assert out["attempts"] == [RESPONSES, RESPONSES]
    result = out["result"]
    assert result["calls"] == ["Paris"]
    assert (result["text"], result["finish_reason"]) == ("Sunny in Paris.", "stop")
    assert [step["finish_reason"] for step in result["steps"]] == ["tool-calls", "stop"]
    assert result["steps"][0]["tool_calls"] == [{"name": "weather", "input": {"city": "Paris"}}]
    usage = result["usage"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"] > 0
    assert_tool_loop_upstream(fake_anthropic, "Paris", "toolu_paris")


def test_stream_text_runs_a_tool_through_the_responses_api(
    stack: DrafterStack, pro_key: str, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        Reply(text="", tool_uses=[ToolUse("weather", {"city": "Rome"}, id="toolu_rome")]),
        Reply(text="Sunny in Rome today.", chunks=3),
    )

    out = run("stream", stack, pro_key)

    assert out["attempts"] == [RESPONSES, RESPONSES]
    result = out["result"]
    assert result["calls"] == ["Rome"]
    assert "".join(result["parts"]) == result["text"] == "Sunny in Rome today."
    assert result["finish_reason"] == "stop"
    assert [step["finish_reason"] for step in result["steps"]] == ["tool-calls", "stop"]
    assert result["usage"]["outputTokens"] > 0
    assert_tool_loop_upstream(fake_anthropic, "Rome", "toolu_rome")
