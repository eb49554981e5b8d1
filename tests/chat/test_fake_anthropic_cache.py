"""The fake upstream on prompt caching, strict tools and document blocks: refused as the
live API refuses them (tests/fakes/anthropic_cache.py and anthropic_documents.py cite the
rules), and cache reads and writes reported for a repeated prefix."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.fakes.anthropic_models import HAIKU_4_5, SONNET_4_5
from tests.fakes.anthropic_server import SAMPLING_VERSION, FakeAnthropic

HAIKU = HAIKU_4_5.id
EPHEMERAL = {"type": "ephemeral"}
LONG = "word " * 5_000  # 5,000 tokens as the fake counts them: over every model's minimum


@pytest.fixture
async def http(fake: FakeAnthropic) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"x-api-key": "test", "anthropic-version": SAMPLING_VERSION}
    async with httpx.AsyncClient(base_url=fake.base_url, headers=headers) as http:
        yield http


def request(model: str = HAIKU, **fields: Any) -> dict[str, Any]:
    body = {"model": model, "max_tokens": 100, "messages": [user("hi")]}
    return body | fields


def user(*blocks: Any) -> dict[str, Any]:
    content = [{"type": "text", "text": b} if isinstance(b, str) else b for b in blocks]
    return {"role": "user", "content": content}


def text(value: str, **cache: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, "cache_control": {"type": "ephemeral", **cache}}


async def error_of(http: httpx.AsyncClient, body: dict[str, Any]) -> str:
    response = await http.post("/v1/messages", json=body)
    assert response.status_code == 400, response.text
    message: str = response.json()["error"]["message"]
    return message


async def usage_of(http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, int]:
    response = await http.post("/v1/messages", json=body)
    assert response.status_code == 200, response.text
    usage: dict[str, int] = response.json()["usage"]
    return usage


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"messages": [user(*(text(f"p{i}") for i in range(5)))]},
            "A maximum of 4 blocks with cache_control may be provided. Found 5.",
        ),
        (
            {"messages": [user(text("a", ttl="1d"))]},
            "messages.0.content.0.cache_control.ephemeral.ttl: Input should be '5m' or '1h'",
        ),
        (
            {"messages": [user({"type": "text", "text": "a", "cache_control": {"type": "x"}})]},
            "messages.0.content.0.cache_control.type: Input should be 'ephemeral'",
        ),
        (
            {"system": [text("s", ttl="5m")], "messages": [user(text("a", ttl="1h"))]},
            "cache_control: a ttl='1h' cache_control block must not come after a ttl='5m' "
            "cache_control block",
        ),
    ],
)
async def test_cache_control_refused_as_live(
    http: httpx.AsyncClient, fields: dict[str, Any], message: str
) -> None:
    assert await error_of(http, request(**fields)) == message


async def test_a_repeated_prefix_is_written_then_read(http: httpx.AsyncClient) -> None:
    body = request(system=[text(LONG)], messages=[user("first question")])
    first = await usage_of(http, body)
    second = await usage_of(http, request(system=[text(LONG)], messages=[user("another one")]))
    assert (first["cache_creation_input_tokens"], first["cache_read_input_tokens"]) == (5_000, 0)
    assert first["input_tokens"] == 2
    assert (second["cache_creation_input_tokens"], second["cache_read_input_tokens"]) == (0, 5_000)
    assert second["input_tokens"] == 2


async def test_the_conversation_breakpoint_reads_the_system_entry_and_writes_the_rest(
    http: httpx.AsyncClient,
) -> None:
    await usage_of(http, request(system=[text(LONG)], messages=[user("q")]))
    usage = await usage_of(http, request(system=[text(LONG)], messages=[user(text("more " * 9))]))
    assert (usage["cache_read_input_tokens"], usage["cache_creation_input_tokens"]) == (5_000, 9)


async def test_a_prefix_below_the_models_minimum_is_not_cached(http: httpx.AsyncClient) -> None:
    """2,000 tokens: under Haiku 4.5's 4,096, over Sonnet 4.5's 1,024."""
    medium = "word " * 2_000
    for _ in range(2):
        haiku = await usage_of(http, request(system=[text(medium)]))
        sonnet = await usage_of(http, request(SONNET_4_5.id, system=[text(medium)]))
    assert (haiku["cache_read_input_tokens"], haiku["cache_creation_input_tokens"]) == (0, 0)
    assert haiku["input_tokens"] == 2_001
    assert (sonnet["cache_read_input_tokens"], sonnet["input_tokens"]) == (2_000, 1)


async def test_the_stream_reports_cache_usage_in_message_start(http: httpx.AsyncClient) -> None:
    await usage_of(http, request(system=[text(LONG)]))
    response = await http.post("/v1/messages", json=request(system=[text(LONG)], stream=True))
    assert '"cache_read_input_tokens":5000' in response.text.split("\n\n")[0]


async def test_strict_tools(http: httpx.AsyncClient) -> None:
    tool = {"name": "f", "input_schema": {"type": "object"}, "strict": True}
    response = await http.post("/v1/messages", json=request(tools=[tool]))
    assert response.status_code == 200
    assert await error_of(http, request(tools=[tool | {"strict": "yes"}])) == (
        "tools.0.custom.strict: Input should be a valid boolean"
    )
    plain = dataclasses.replace(HAIKU_4_5, id="claude-plain", aliases=(), structured_outputs=False)
    with FakeAnthropic(models=[plain]) as fake:
        headers = {"x-api-key": "k", "anthropic-version": SAMPLING_VERSION}
        async with httpx.AsyncClient(base_url=fake.base_url, headers=headers) as other:
            message = await error_of(other, request("claude-plain", tools=[tool]))
    assert message == "tools.0.strict: strict tool use is not supported for this model"


def document(source: dict[str, Any]) -> dict[str, Any]:
    return {"type": "document", "source": source}


PDF = base64.b64encode(b"%PDF-1.7\n%%EOF\n").decode()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            {"type": "base64", "media_type": "text/plain", "data": PDF},
            "messages.0.content.1.source.base64.media_type: Input should be 'application/pdf'",
        ),
        (
            {"type": "base64", "media_type": "application/pdf", "data": "%%%"},
            "messages.0.content.1.source.base64.data: invalid base64 data",
        ),
        (
            {"type": "base64", "media_type": "application/pdf", "data": "aGVsbG8="},
            "The PDF specified was not valid.",
        ),
        (
            {"type": "text", "media_type": "text/markdown", "data": "# a"},
            "messages.0.content.1.source.text.media_type: Input should be 'text/plain'",
        ),
    ],
)
async def test_documents_refused_as_live(
    http: httpx.AsyncClient, source: dict[str, Any], message: str
) -> None:
    body = request(messages=[user("read", document(source))])
    assert await error_of(http, body) == message


async def test_pdf_and_text_documents_are_served(http: httpx.AsyncClient) -> None:
    pdf = document({"type": "base64", "media_type": "application/pdf", "data": PDF})
    plain = document({"type": "text", "media_type": "text/plain", "data": "a,b"})
    await usage_of(http, request(messages=[user("read", pdf, plain)]))
