"""The requests every instant-answer benchmark sends: one short prompt, on each API a
gateway may serve (chat completions, the Anthropic Messages API, the OpenAI Responses
API), and the same request straight at the fake upstream.

Each target carries the bytes that show its answer has content: the first-token marker
of a stream, and the proof a JSON answer is not empty, so a probe can tell "served" from
"answered 200 with something else".
"""

from __future__ import annotations

import orjson

from bench.gateways import Gateway
from bench.loadgen import Target

PROMPT = [{"role": "user", "content": "Hello there, how are you today?"}]
# chat: /v1/chat/completions; messages: /v1/messages (Anthropic's API, passed through by
# Drafter); responses: /v1/responses (OpenAI's Responses API, translated by Drafter).
APIS = ("chat", "messages", "responses")


def gateway_target(gateway: Gateway, stream: bool) -> Target:
    """A chat completion, with the gateway's own routing headers (Portkey's)."""
    body = {"model": "claude-haiku-4-5", "messages": PROMPT, "max_tokens": 64, "stream": stream}
    return Target(
        gateway.chat_url,
        orjson.dumps(body),
        {"Authorization": f"Bearer {gateway.api_key}", **gateway.extra_headers},
        b'"content":"',
    )


def messages_target(gateway: Gateway, stream: bool) -> Target:
    """The same request on the Messages API, authenticated as Anthropic's SDK does."""
    body = {"model": "claude-haiku-4-5", "messages": PROMPT, "max_tokens": 64, "stream": stream}
    return Target(
        f"{gateway.base_url}/v1/messages",
        orjson.dumps(body),
        {
            "x-api-key": gateway.api_key,
            "anthropic-version": "2023-06-01",
            **gateway.extra_headers,
        },
        b"text_delta" if stream else b'"text":"',
    )


def responses_target(gateway: Gateway, stream: bool) -> Target:
    """The same request on the Responses API (not stored, as Codex sends it)."""
    body = {
        "model": "claude-haiku-4-5",
        "input": PROMPT,
        "max_output_tokens": 64,
        "stream": stream,
        "store": False,
    }
    return Target(
        f"{gateway.base_url}/v1/responses",
        orjson.dumps(body),
        {"Authorization": f"Bearer {gateway.api_key}", **gateway.extra_headers},
        b"output_text.delta" if stream else b'"output_text"',
    )


def api_target(gateway: Gateway, api: str, stream: bool) -> Target:
    if api == "responses":
        return responses_target(gateway, stream)
    if api == "messages":
        return messages_target(gateway, stream)
    return gateway_target(gateway, stream)


def upstream_target(upstream: str, stream: bool) -> Target:
    """The request a gateway makes of the fake upstream, sent straight to it."""
    body = {
        "model": "claude-haiku-4-5-20251001",
        "messages": PROMPT,
        "max_tokens": 64,
        "stream": stream,
    }
    return Target(
        f"{upstream}/v1/messages",
        orjson.dumps(body),
        {"x-api-key": "sk-ant-bench", "anthropic-version": "2023-06-01"},
        b"text_delta",
    )
