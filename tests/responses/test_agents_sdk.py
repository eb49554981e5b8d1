"""The OpenAI Agents SDK (``openai-agents``) running an agent with a function tool against
Drafter through its default model provider, which speaks the Responses API."""

from __future__ import annotations

import openai
import pytest
from agents import Agent, RunConfig, Runner, function_tool, set_tracing_disabled
from agents.models.openai_provider import OpenAIProvider

from tests.fakes.anthropic_server import FakeAnthropic, Reply, ToolUse
from tests.support.stack import DrafterStack

pytestmark = pytest.mark.slow

HAIKU = "claude-haiku-4-5"


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def test_an_agent_completes_a_tool_using_task(
    stack: DrafterStack, pro_key: str, fake_anthropic: FakeAnthropic
) -> None:
    set_tracing_disabled(True)  # traces would go to OpenAI
    fake_anthropic.enqueue(
        Reply(text="", tool_uses=[ToolUse("get_weather", {"city": "Oslo"})]),
        Reply(text="It is sunny in Oslo."),
    )
    client = openai.AsyncOpenAI(api_key=pro_key, base_url=stack.base_url + "/v1", max_retries=0)
    provider = OpenAIProvider(openai_client=client)  # the default: the Responses API
    agent = Agent(name="weather", instructions="Use the tool.", model=HAIKU, tools=[get_weather])

    result = Runner.run_sync(
        agent, "Weather in Oslo?", run_config=RunConfig(model_provider=provider)
    )

    assert result.final_output == "It is sunny in Oslo."
    first, second = fake_anthropic.requests[-2:]
    assert first.body["tools"][0]["name"] == "get_weather"
    assert first.body["system"] in ("Use the tool.", [{"type": "text", "text": "Use the tool."}])
    results = [
        block
        for message in second.body["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block["type"] == "tool_result"
    ]
    assert results[0]["content"] == [{"type": "text", "text": "sunny in Oslo"}]
