"""The Vercel AI SDK (``ai`` with @ai-sdk/openai in chat mode, ``openai.chat(model)``)
against ``drafter up``: generateText and streamText, asserting what the fake Anthropic
upstream got."""

from __future__ import annotations

from typing import Any

from tests.fakes.anthropic_server import FakeAnthropic
from tests.support import node_clients

CHAT = "POST /api/v1/chat/completions"


def run(case: str, env: dict[str, str]) -> Any:
    return node_clients.run_script("ai_sdk_chat.mjs", args=[case], env=env)


def test_generate_text(drafter_env: dict[str, str], fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(text="Generated for Vercel.")

    out = run("generate", drafter_env)

    # chat mode: Chat Completions, not the Responses API
    assert out["attempts"] == [CHAT]
    result = out["result"]
    assert (result["text"], result["finish_reason"]) == ("Generated for Vercel.", "stop")
    usage = result["usage"]
    assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"] > 0
    [request] = fake_anthropic.requests
    assert request.body["system"] == "Be brief."
    assert request.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Hello from the AI SDK"}]}
    ]
    assert request.body["max_tokens"] == 100
    assert request.body["stream"] is False


def test_stream_text(drafter_env: dict[str, str], fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(text="streamed for Vercel", chunks=3)

    out = run("stream", drafter_env)

    assert out["attempts"] == [CHAT]
    result = out["result"]
    assert "".join(result["parts"]) == result["text"] == "streamed for Vercel"
    assert result["finish_reason"] == "stop"
    # usage from the stream's last chunk (the provider sends stream_options.include_usage)
    assert result["usage"]["outputTokens"] == 3
    assert result["usage"]["inputTokens"] > 0
    request = fake_anthropic.last_request
    assert request.body["stream"] is True
    assert request.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Stream to the AI SDK"}]}
    ]
