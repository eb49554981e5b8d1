"""Strict tools, prompt caching and file parts (issue 17) with the official openai SDK
against ``drafter up`` (DRAFTER_PROMPT_CACHE at its default, auto), asserting what the
fake Anthropic upstream (strict as the live API, caching as it does) received."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.stack import DrafterStack

HAIKU = "claude-haiku-4-5"
LONG = "The handbook says: " + "always write small modules. " * 1_200  # ~4,800 words
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EPHEMERAL = {"type": "ephemeral"}


@pytest.fixture(scope="module")
def key(drafter_up: DrafterStack) -> str:
    return drafter_up.create_user_with_key(f"cache-{uuid.uuid4().hex[:8]}@example.com", "plus")


@pytest.fixture(scope="module")
def client(drafter_up: DrafterStack, key: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=drafter_up.api_url, max_retries=0)


def todays_usage(stack: DrafterStack, key: str) -> dict[str, int]:
    response = httpx.get(f"{stack.api_url}/usage", headers={"Authorization": f"Bearer {key}"})
    today: dict[str, int] = response.json()["today"]
    return today


def data_url(media_type: str, content: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(content).decode()}"


def test_strict_tools_reach_the_upstream(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    }
    client.chat.completions.create(
        model=HAIKU,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[
            {
                "type": "function",
                "function": {"name": "weather", "parameters": schema, "strict": True},
            },
            {"type": "function", "function": {"name": "time", "parameters": {"type": "object"}}},
        ],
    )
    tools = fake_anthropic.last_request.body["tools"]
    assert tools[0] == {"name": "weather", "input_schema": schema, "strict": True}
    assert "strict" not in tools[1]
    assert "anthropic-beta" not in fake_anthropic.last_request.headers


def test_the_callers_cache_control_is_forwarded_and_the_system_stays_structured(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    system: Any = [
        {"type": "text", "text": "You answer from the handbook."},
        {"type": "text", "text": LONG, "cache_control": {"type": "ephemeral", "ttl": "1h"}},
    ]
    tool: Any = {
        "type": "function",
        "function": {"name": "search", "parameters": {"type": "object"}},
        "cache_control": {"type": "ephemeral", "ttl": "1h"},
    }
    image: Any = {
        "type": "image_url",
        "image_url": {"url": "https://example.com/chart.png"},
        "cache_control": EPHEMERAL,
    }
    client.chat.completions.create(
        model=HAIKU,
        messages=[
            {"role": "system", "content": system},
            {"role": "user", "content": [image, {"type": "text", "text": "What does it say?"}]},
        ],
        tools=[tool],
    )
    body = fake_anthropic.last_request.body
    assert body["system"] == [
        {"type": "text", "text": "You answer from the handbook."},
        {"type": "text", "text": LONG, "cache_control": {"type": "ephemeral", "ttl": "1h"}},
    ]
    assert body["tools"][0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    content = body["messages"][0]["content"]
    assert content[0]["cache_control"] == EPHEMERAL
    assert "cache_control" not in content[1]  # the caller placed breakpoints: none added


def test_a_pdf_file_part_becomes_a_document(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    client.chat.completions.create(
        model=HAIKU,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Summarise this report."},
                    {
                        "type": "file",
                        "file": {
                            "file_data": data_url("application/pdf", PDF),
                            "filename": "r.pdf",
                        },
                    },
                ],
            }
        ],
    )
    document = fake_anthropic.last_request.body["messages"][0]["content"][1]
    assert document == {
        "type": "document",
        "source": {
            "type": "base64",
            "media_type": "application/pdf",
            "data": base64.b64encode(PDF).decode(),
        },
        "title": "r.pdf",
    }


def test_a_text_file_part_becomes_a_plain_text_document(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    csv: Any = {
        "type": "file",
        "file": {"file_data": data_url("text/csv", b"city,temp\nParis,21\n")},
    }
    client.chat.completions.create(
        model=HAIKU, messages=[{"role": "user", "content": [csv, {"type": "text", "text": "Hot?"}]}]
    )
    document = fake_anthropic.last_request.body["messages"][0]["content"][0]
    assert document == {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "city,temp\nParis,21\n"},
    }


@pytest.mark.parametrize(
    ("file", "param", "says"),
    [
        (
            {"file_data": data_url("application/zip", b"PK\x03\x04")},
            "messages.0.content.0.file.file_data",
            "supported types are application/json, application/pdf",
        ),
        ({"file_id": "file-123"}, "messages.0.content.0.file.file_id", "no Files API"),
    ],
)
def test_an_unsupported_file_is_a_400_naming_the_parameter(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic, file: Any, param: str, says: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model=HAIKU, messages=[{"role": "user", "content": [{"type": "file", "file": file}]}]
        )
    body: Any = info.value.body
    assert body["param"] == param and says in body["message"]
    assert fake_anthropic.requests == []


def test_a_repeated_long_prompt_reports_cached_tokens(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic, drafter_up: DrafterStack, key: str
) -> None:
    messages: Any = [
        {"role": "system", "content": LONG},
        {"role": "user", "content": "Which modules?"},
    ]
    before = todays_usage(drafter_up, key)
    first = client.chat.completions.create(model=HAIKU, messages=messages)
    sent = fake_anthropic.last_request.body
    assert sent["system"] == [{"type": "text", "text": LONG, "cache_control": EPHEMERAL}]
    assert sent["messages"][-1]["content"][-1]["cache_control"] == EPHEMERAL
    stream = client.chat.completions.create(
        model=HAIKU, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    second = [chunk.usage for chunk in stream if chunk.usage is not None][-1]

    assert first.usage is not None and first.usage.prompt_tokens_details is not None
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    # Everything up to the last user turn is written to the cache, then read from it;
    # the fake reports at least one uncached input token, as prompt_tokens includes.
    prompt = first.usage.prompt_tokens
    cached = prompt - 1
    assert cached > 4_096
    assert second.prompt_tokens == prompt
    assert second.prompt_tokens_details is not None
    assert second.prompt_tokens_details.cached_tokens == cached

    after = todays_usage(drafter_up, key)
    assert after["cachedTokens"] - before["cachedTokens"] == cached
    assert after["cacheCreationTokens"] - before["cacheCreationTokens"] == cached
    assert after["tokens"] - before["tokens"] == 2 * prompt + 2 * first.usage.completion_tokens
