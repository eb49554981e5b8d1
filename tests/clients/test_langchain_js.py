"""LangChain JS (``ChatOpenAI`` of @langchain/openai) against ``drafter up``: invoke, stream
and bindTools as applications call them, asserting what the fake Anthropic upstream got."""

from __future__ import annotations

from typing import Any

from tests.fakes.anthropic_server import FakeAnthropic, Reply, ToolUse
from tests.support import node_clients

CHAT = "POST /api/v1/chat/completions"


def run(case: str, env: dict[str, str]) -> Any:
    return node_clients.run_script("langchain_chat.mjs", args=[case], env=env)


def test_invoke(drafter_env: dict[str, str], fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(text="Bonjour, LangChain.")

    out = run("invoke", drafter_env)

    assert out["attempts"] == [CHAT]
    result = out["result"]
    assert (result["content"], result["finish_reason"]) == ("Bonjour, LangChain.", "stop")
    usage = result["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    [request] = fake_anthropic.requests
    assert request.body["model"] == "claude-haiku-4-5-20251001"
    assert request.body["system"] == "Be brief."
    assert request.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Hello from LangChain"}]}
    ]
    assert request.body["stream"] is False


def test_stream_reports_usage(drafter_env: dict[str, str], fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(text="streamed to LangChain JS", chunks=3)

    out = run("stream", drafter_env)

    assert out["attempts"] == [CHAT]
    result = out["result"]
    assert result["content"] == "streamed to LangChain JS"
    # ChatOpenAI asks for stream_options.include_usage by default (streamUsage)
    assert result["usage"]["output_tokens"] == 3
    assert result["usage"]["input_tokens"] > 0
    assert fake_anthropic.last_request.body["stream"] is True


def test_bind_tools_without_strict(
    drafter_env: dict[str, str], fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        Reply(text="", tool_uses=[ToolUse("weather", {"city": "Paris"}, "toolu_lc_1")])
    )

    out = run("tools", drafter_env)

    assert out["result"]["tool_calls"] == [
        {"name": "weather", "args": {"city": "Paris"}, "type": "tool_call", "id": "toolu_lc_1"}
    ]
    [tool] = fake_anthropic.last_request.body["tools"]
    assert tool["name"] == "weather"
    assert tool["description"] == "Weather in a city"
    assert tool["input_schema"]["properties"] == {
        "city": {"type": "string", "description": "the city"}
    }
    assert tool["input_schema"]["required"] == ["city"]
    assert "strict" not in tool
