"""The anthropic Python SDK, unchanged, on Drafter's Messages API: create, the stream
helper, a tool loop with signed thinking, token counting, the model list; asserting what
the fake upstream (strict as the live API) received each time."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest

from tests.anthropic_api.conftest import HAIKU, UPSTREAM_KEY, new_key
from tests.fakes.anthropic_server import FakeAnthropic, Reply, ToolUse
from tests.support.stack import DrafterStack

pytestmark = pytest.mark.slow

WEATHER_TOOL: Any = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}

USER_HI = {"role": "user", "content": "hi"}


def usage_today(stack: DrafterStack, key: str) -> dict[str, int]:
    answer = httpx.get(stack.api_url + "/usage", headers={"x-api-key": key}, timeout=10)
    today: dict[str, int] = answer.json()["today"]
    return today


def test_create_sends_the_body_unchanged_but_model_with_drafters_key(
    client: anthropic.Anthropic, pro_key: str, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(text="Hi from upstream.")
    sent: Any = {
        "max_tokens": 256,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}],
        "metadata": {"user_id": "user-42"},
        "tools": [{**WEATHER_TOOL, "defer_loading": True}],
    }
    # What Claude Code sends beside them, whatever the SDK's typed parameters know.
    extra = {"context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]}}

    message = client.beta.messages.create(
        model=HAIKU,
        betas=["interleaved-thinking-2025-05-14", "context-management-2025-06-27"],
        extra_body=extra,
        extra_query={"beta": "true"},  # as Claude Code's client sends it
        **sent,
    )

    assert message.content[0].text == "Hi from upstream."  # type: ignore[union-attr]
    assert message.usage.output_tokens > 0
    request = fake_anthropic.last_request
    assert (request.path, request.query) == ("/v1/messages", "beta=true")
    assert request.body == {**sent, **extra, "model": "claude-haiku-4-5-20251001"}
    assert request.headers["anthropic-beta"] == (
        "interleaved-thinking-2025-05-14,context-management-2025-06-27"
    )
    assert request.headers["anthropic-version"] == client.default_headers["anthropic-version"]
    # Drafter's upstream key went upstream; the client's key did not.
    assert request.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert pro_key not in str(request.headers)


def test_the_stream_helper_gets_every_event_and_the_final_message(
    client: anthropic.Anthropic, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(text="one two three four", chunks=4)

    with client.messages.stream(
        model=HAIKU, max_tokens=64, messages=[{"role": "user", "content": "Count"}]
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()

    assert ("".join(pieces), len(pieces)) == ("one two three four", 4)
    assert final.content[0].text == "one two three four"  # type: ignore[union-attr]
    assert (final.stop_reason, final.usage.output_tokens) == ("end_turn", 4)
    assert fake_anthropic.last_request.body["stream"] is True


def test_a_silent_upstream_stream_gets_pings_as_the_live_api_sends_them(
    stack: DrafterStack, pro_key: str, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(text="slow answer", chunks=2, delay_s=0.5)
    body = {
        "model": HAIKU,
        "max_tokens": 32,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    headers = {"x-api-key": pro_key, "anthropic-version": "2023-06-01"}

    with httpx.stream(
        "POST", stack.base_url + "/v1/messages", json=body, headers=headers
    ) as answer:
        frames = answer.read().decode().split("\n\n")

    names = [frame.split("\n")[0] for frame in frames if frame]
    assert names[-1] == "event: message_stop"
    # the upstream's own ping after message_start, and Drafter's while the upstream waits
    assert names.count("event: ping") > 1
    assert 'event: ping\ndata: {"type": "ping"}' in frames


def test_a_tool_loop_sends_the_signed_thinking_back_unchanged(
    client: anthropic.Anthropic, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        Reply(
            thinking="The user wants the weather; call the tool.",
            signature="sig-weather-1",
            tool_uses=[ToolUse("get_weather", {"city": "Paris"}, id="toolu_paris")],
        ),
        Reply(text="Sunny in Paris."),
    )
    thinking: Any = {"type": "enabled", "budget_tokens": 1024}
    history: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]

    first = client.messages.create(
        model=HAIKU, max_tokens=2048, thinking=thinking, tools=[WEATHER_TOOL], messages=history
    )
    assert first.stop_reason == "tool_use"
    assistant = [block.model_dump(exclude_none=True) for block in first.content]
    history += [
        {"role": "assistant", "content": assistant},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_paris", "content": "sunny"}],
        },
    ]
    second = client.messages.create(
        model=HAIKU, max_tokens=2048, thinking=thinking, tools=[WEATHER_TOOL], messages=history
    )

    assert second.content[0].text == "Sunny in Paris."  # type: ignore[union-attr]
    sent_back = fake_anthropic.requests[-1].body["messages"][1]["content"]
    assert sent_back[0] == {
        "type": "thinking",
        "thinking": "The user wants the weather; call the tool.",
        "signature": "sig-weather-1",
    }
    # A changed thinking block is refused by the upstream, and the refusal passed on.
    history[1]["content"][0]["thinking"] = "Something else."
    with pytest.raises(anthropic.BadRequestError) as refused:
        client.messages.create(
            model=HAIKU, max_tokens=2048, thinking=thinking, tools=[WEATHER_TOOL], messages=history
        )
    assert "Invalid `signature` in `thinking` block" in refused.value.message


def test_count_tokens_is_an_api_call_not_a_chat_unit(
    stack: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    key = new_key(stack)
    client = anthropic.Anthropic(api_key=key, base_url=stack.base_url, max_retries=0)
    before = usage_today(stack, key)

    counted = client.messages.count_tokens(
        model=HAIKU, messages=[{"role": "user", "content": "three words here"}]
    )

    assert counted.input_tokens == 3
    request = fake_anthropic.last_request
    assert request.path == "/v1/messages/count_tokens"
    assert request.body["model"] == "claude-haiku-4-5-20251001"
    after = usage_today(stack, key)
    assert after["chat"] == before["chat"]
    # the count and the usage call itself
    assert after["apiCalls"] == before["apiCalls"] + 2


def test_each_request_shows_in_the_usage_api(
    stack: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    key = new_key(stack)
    client = anthropic.Anthropic(auth_token=key, base_url=stack.base_url, max_retries=0)
    fake_anthropic.enqueue(Reply(text="a b", usage={"cache_read_input_tokens": 7}), Reply(text="c"))

    client.messages.create(model=HAIKU, max_tokens=16, messages=[{"role": "user", "content": "x"}])
    with client.messages.stream(
        model=HAIKU, max_tokens=16, messages=[{"role": "user", "content": "y"}]
    ) as stream:
        stream.until_done()

    today = usage_today(stack, key)
    assert today["chat"] == 2
    assert today["tokens"] > 0
    assert today.get("cachedTokens", 7) == 7


def test_models_list_and_retrieve_answer_in_anthropics_shape(client: anthropic.Anthropic) -> None:
    page = client.models.list()
    ids = [model.id for model in page.data]

    assert {"claude-haiku-4-5", "claude-sonnet-4-5", "claude-sonnet-4-6"} <= set(ids)
    assert (page.first_id, page.last_id, page.has_more) == (ids[0], ids[-1], False)
    haiku = client.models.retrieve("claude-haiku-4-5-20251001")
    assert (haiku.id, haiku.type, haiku.display_name) == (HAIKU, "model", "Claude Haiku 4.5")


def test_the_base_url_answers_a_probe(stack: DrafterStack) -> None:
    assert httpx.head(stack.base_url + "/", timeout=5).status_code == 200
