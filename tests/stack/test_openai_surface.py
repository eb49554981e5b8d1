"""What real OpenAI clients send (issue 17, Chat Completions): the official openai SDK
against ``drafter up``, asserting what the fake Anthropic upstream (strict as the live API)
received each time."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply, ToolUse
from tests.support.stack import DrafterStack

HAIKU = "claude-haiku-4-5"


@pytest.fixture(scope="module")
def key(drafter_up: DrafterStack) -> str:
    return drafter_up.create_user_with_key(f"surface-{uuid.uuid4().hex[:8]}@example.com", "plus")


@pytest.fixture(scope="module")
def client(drafter_up: DrafterStack, key: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=drafter_up.api_url, max_retries=0)


def user(text: str) -> Any:
    return {"role": "user", "content": text}


def test_parameters_frameworks_send_by_default_are_accepted_and_not_forwarded(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    completion = client.chat.completions.create(
        model=HAIKU,
        messages=[user("hi")],
        seed=42,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        logit_bias={"1": 2},
        logprobs=False,
        metadata={"run": "7"},
        store=False,
        service_tier="auto",
        verbosity="low",
        prompt_cache_key="tenant-1",
        prediction={"type": "content", "content": "Echo"},
        modalities=["text"],
        parallel_tool_calls=True,
        safety_identifier="hashed-user-1",
        max_completion_tokens=50,
    )

    assert completion.choices[0].logprobs is None
    body = fake_anthropic.last_request.body
    assert body["metadata"] == {"user_id": "hashed-user-1"}
    assert body["max_tokens"] == 50
    for name in ("seed", "store", "service_tier", "logit_bias", "prompt_cache_key", "verbosity"):
        assert name not in body


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"logprobs": True}, "logprobs"),
        ({"logprobs": True, "top_logprobs": 2}, "logprobs"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"audio": {"voice": "alloy", "format": "wav"}}, "audio"),
        ({"n": 9}, "n"),
    ],
)
def test_values_that_cannot_be_honoured_are_a_400_naming_the_parameter(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic, fields: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=HAIKU, messages=[user("hi")], **fields)

    body = info.value.body
    assert isinstance(body, dict)
    assert (body["type"], body["param"]) == ("invalid_request_error", param)
    assert not fake_anthropic.requests


def test_a_history_as_clients_send_it_reaches_the_upstream_valid(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(text="Rain tomorrow.")
    messages: Any = [
        {"role": "system", "content": "Be brief."},
        user("Weather in Oslo?"),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "toolu_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"},
        {"role": "assistant", "content": ""},
        {"role": "system", "content": "Answer in one line."},
        user("And tomorrow?"),
        user("Please."),
        {"role": "assistant", "content": "  "},
        user("?"),
    ]
    completion = client.chat.completions.create(model=HAIKU, messages=messages)

    assert completion.choices[0].message.content == "Rain tomorrow."
    body = fake_anthropic.last_request.body
    assert body["system"] == "Be brief.\n\nAnswer in one line."
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert [b["type"] for b in body["messages"][2]["content"]] == [
        "tool_result",
        "text",
        "text",
        "text",
    ]


def test_an_empty_answer_sent_back_next_turn_is_left_out(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(text="", tool_uses=[ToolUse("weather", {}, "toolu_e")]))
    weather: Any = {"type": "function", "function": {"name": "weather", "parameters": {}}}
    first = client.chat.completions.create(model=HAIKU, messages=[user("w?")], tools=[weather])
    messages: Any = [
        user("w?"),
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": "toolu_e", "content": ""},
        user("thanks"),
    ]
    client.chat.completions.create(model=HAIKU, messages=messages, tools=[weather])

    assistant = fake_anthropic.last_request.body["messages"][1]
    assert [b["type"] for b in assistant["content"]] == ["tool_use"]


def test_whitespace_stop_sequence_is_enforced_by_drafter(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(text="First line.\nSecond line.", chunks=6)
    completion = client.chat.completions.create(
        model=HAIKU, messages=[user("hi")], stop=["\n", "END"]
    )

    assert completion.choices[0].message.content == "First line."
    assert completion.choices[0].finish_reason == "stop"
    assert fake_anthropic.last_request.body["stop_sequences"] == ["END"]


def test_whitespace_stop_sequence_streamed_ends_the_upstream_call(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(text="One.\n\nTwo. " + "More words. " * 40, chunks=40, delay_s=0.02)
    chunks = list(
        client.chat.completions.create(model=HAIKU, messages=[user("hi")], stop="\n\n", stream=True)
    )

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finish = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert (text, finish) == ("One.", ["stop"])
    assert "stop_sequences" not in fake_anthropic.last_request.body
    assert fake_anthropic.wait_for_disconnect_blocking(10)  # the upstream call was ended
    assert fake_anthropic.completed_streams == 0


@pytest.mark.parametrize("prefix", ["/v1", "/api/v1"])
def test_retrieve_a_model_by_id_or_alias(
    drafter_up: DrafterStack, key: str, client: openai.OpenAI, prefix: str
) -> None:
    model = client.models.retrieve(HAIKU)
    assert (model.id, model.object) == (HAIKU, "model")

    base = drafter_up.api_url.removesuffix("/v1").removesuffix("/api")
    headers = {"Authorization": f"Bearer {key}"}
    listed = httpx.get(f"{base}{prefix}/models", headers=headers).json()["data"]
    alias = httpx.get(f"{base}{prefix}/models/{listed[0]['id'].upper()}", headers=headers)
    assert alias.status_code == 200 and alias.json()["id"] == listed[0]["id"]

    anthropic_shape = httpx.get(
        f"{base}{prefix}/models/{HAIKU}", headers={**headers, "anthropic-version": "2023-06-01"}
    ).json()
    assert anthropic_shape["type"] == "model" and anthropic_shape["id"] == HAIKU


def test_an_unknown_or_disallowed_model_is_404_model_not_found(
    drafter_up: DrafterStack, client: openai.OpenAI
) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("gpt-4o")
    body = info.value.body
    assert isinstance(body, dict)
    assert (body["code"], body["param"]) == ("model_not_found", "model")

    free = drafter_up.create_user_with_key(f"surface-free-{uuid.uuid4().hex[:8]}@example.com")
    free_client = openai.OpenAI(api_key=free, base_url=drafter_up.api_url, max_retries=0)
    allowed = {m.id for m in free_client.models.list()}
    for model in client.models.list():
        if model.id not in allowed:
            with pytest.raises(openai.NotFoundError):
                free_client.models.retrieve(model.id)
            break


def test_one_sdk_call_costs_at_most_three_upstream_attempts(
    drafter_up: DrafterStack, key: str, fake_anthropic: FakeAnthropic
) -> None:
    retrying = openai.OpenAI(api_key=key, base_url=drafter_up.api_url, max_retries=2)
    fake_anthropic.enqueue(*[Reply(status=529)] * 9)

    with pytest.raises(openai.APIStatusError) as info:
        retrying.chat.completions.create(model=HAIKU, messages=[user("x")])

    assert info.value.response.headers["x-should-retry"] == "false"
    assert len(fake_anthropic.requests) == 3


WEATHER_FUNCTION = {
    "name": "weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def test_the_deprecated_functions_api_is_answered_in_its_own_shape(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(text="", tool_uses=[ToolUse("weather", {"city": "Oslo"}, "tu_1")]))
    completion = client.chat.completions.create(
        model=HAIKU, messages=[user("weather in Oslo?")], functions=[WEATHER_FUNCTION]
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "function_call"
    assert choice.message.tool_calls is None
    assert choice.message.function_call is not None
    assert choice.message.function_call.name == "weather"
    assert choice.message.function_call.arguments == '{"city":"Oslo"}'
    body = fake_anthropic.last_request.body
    assert body["tools"][0]["name"] == "weather"
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}


def test_the_deprecated_functions_api_streams_function_call_pieces(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(Reply(text="", tool_uses=[ToolUse("weather", {"city": "Oslo"}, "tu_2")]))
    stream = client.chat.completions.create(
        model=HAIKU, messages=[user("weather in Oslo?")], functions=[WEATHER_FUNCTION], stream=True
    )

    chunks = list(stream)
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    pieces = [d.function_call for d in deltas if d.function_call is not None]
    assert pieces and pieces[0].name == "weather"
    assert "".join(p.arguments or "" for p in pieces) == '{"city":"Oslo"}'
    assert all(d.tool_calls is None for d in deltas)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "function_call"
