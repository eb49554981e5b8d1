"""The openai Node SDK against ``drafter up``: a chat completion, a stream with usage, a
tool round trip and the errors it raises, asserting what the fake Anthropic upstream got."""

from __future__ import annotations

from typing import Any

import httpx

from tests.clients.conftest import new_key
from tests.fakes.anthropic_server import FakeAnthropic, Reply, ToolUse
from tests.support import node_clients
from tests.support.stack import DrafterStack

CHAT = "POST /api/v1/chat/completions"


def run(case: str, env: dict[str, str]) -> Any:
    return node_clients.run_script("openai_chat.mjs", args=[case], env=env)


def test_chat_completion(drafter_env: dict[str, str], fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(text="Hello, Node.")

    out = run("completion", drafter_env)

    assert out["attempts"] == [CHAT]
    result = out["result"]
    assert result["object"] == "chat.completion"
    assert result["model"] == "claude-haiku-4-5"
    assert (result["content"], result["finish_reason"]) == ("Hello, Node.", "stop")
    usage = result["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    [request] = fake_anthropic.requests
    # Drafter's upstream key went upstream, the client's key did not
    credential = request.headers.get("x-api-key") or request.headers["authorization"]
    assert credential.removeprefix("Bearer ") == "sk-ant-test"
    assert drafter_env["DRAFTER_API_KEY"] not in str(request.headers)
    assert request.body["system"] == "Be brief."
    assert request.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Hello from Node"}]}
    ]
    assert request.body["max_tokens"] == 64


def test_stream_with_include_usage(
    drafter_env: dict[str, str], fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(text="one two three four", chunks=4)

    result = run("stream", drafter_env)["result"]

    assert result["content"] == "one two three four"
    assert result["finish_reason"] == "stop"
    # one usage chunk, last, with no choices (OpenAI's include_usage shape)
    [usage] = result["usage"]
    assert usage["choices"] == 0
    assert usage["usage"]["completion_tokens"] == 4
    assert fake_anthropic.last_request.body["stream"] is True


def test_tool_round_trip(drafter_env: dict[str, str], fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(
        Reply(text="", tool_uses=[ToolUse("weather", {"city": "Paris"}, "toolu_node_1")]),
        Reply(text="Sunny in Paris."),
    )

    out = run("tools", drafter_env)

    assert out["attempts"] == [CHAT, CHAT]
    result = out["result"]
    assert result["finish_reason"] == "tool_calls"
    [call] = result["tool_calls"]
    assert call["id"] == "toolu_node_1"
    assert call["function"] == {"name": "weather", "arguments": '{"city":"Paris"}'}
    assert result["answer"] == "Sunny in Paris."
    first, second = (r.body for r in fake_anthropic.requests)
    assert first["tools"] == [
        {
            "name": "weather",
            "description": "Weather in a city",
            "input_schema": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        }
    ]
    assert second["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "toolu_node_1",
                    "name": "weather",
                    "input": {"city": "Paris"},
                }
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_node_1",
                    "content": [{"type": "text", "text": "sunny, 21 °C"}],
                }
            ],
        },
    ]


def test_unknown_key_is_an_authentication_error(
    drafter_env: dict[str, str], fake_anthropic: FakeAnthropic
) -> None:
    out = run("error", {**drafter_env, "DRAFTER_API_KEY": "dp_" + "x" * 43})

    assert out["attempts"] == [CHAT]
    error = out["result"]
    assert (error["class"], error["status"]) == ("AuthenticationError", 401)
    assert (error["type"], error["code"]) == ("authentication_error", "invalid_api_key")
    assert fake_anthropic.requests == []


def test_exhausted_quota_is_a_rate_limit_error_the_sdk_does_not_retry(
    drafter_up: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    key = new_key(drafter_up, plan="free")
    for _ in range(20):  # the free plan's daily chats
        response = httpx.post(
            f"{drafter_up.api_url}/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hi"}]},
            timeout=30,
        )
        assert response.status_code == 200, response.text
    assert len(fake_anthropic.requests) == 20

    env = {"DRAFTER_BASE_URL": drafter_up.api_url, "DRAFTER_API_KEY": key}
    out = run("error", env)

    assert out["attempts"] == [CHAT]  # x-should-retry: false, so no retry by the SDK
    error = out["result"]
    assert (error["class"], error["status"]) == ("RateLimitError", 429)
    assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limit_exceeded")
    assert error["headers"]["x-should-retry"] == "false"
    assert 1 <= int(error["headers"]["retry-after"]) <= 86_400
    assert len(fake_anthropic.requests) == 20


def test_an_overloaded_upstream_costs_three_attempts_and_no_sdk_retry(
    drafter_env: dict[str, str], fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(*[Reply(status=529)] * 9)

    out = run("error", drafter_env)

    assert out["attempts"] == [CHAT]
    assert out["result"]["class"] == "InternalServerError"
    assert out["result"]["status"] == 503
    assert len(fake_anthropic.requests) == 3
