"""A local HTTP server speaking Anthropic's Messages API wire format (JSON and SSE).

Tests run it in-process (:class:`FakeAnthropic`, a real uvicorn server on a background
thread); benchmarks run it as a process::

    python -m tests.fakes.anthropic_server --port 8900 --chunks 20 --delay-ms 0

Each ``POST /v1/messages`` is recorded in ``requests`` (not when run as a process),
checked as strictly as the live API checks it (:func:`validate`: the
``anthropic-version`` header, the live model ids of :mod:`tests.fakes.anthropic_models`
and each model's limits) and refused in the live API's
words, or answered with the next scripted :class:`Reply` from ``enqueue(...)``, by default
an echo of the last user text split into ``chunks`` text deltas. A scripted error status
wins over validation; a scripted answer waits for a request the live API would serve.
Token counts are deterministic: input tokens are the words of the request's text, output
tokens the chunks streamed (``POST /v1/messages/count_tokens`` answers the same input
count). A thinking block sent back must carry a signature the fake issued for its text,
unchanged (:mod:`tests.fakes.anthropic_thinking`). Responses name the model by the id the
live API echoes.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import itertools
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn

from tests.fakes.anthropic_cache import PromptCache, cache_control_error
from tests.fakes.anthropic_documents import document_error
from tests.fakes.anthropic_models import MODELS, AnthropicModel, find_model
from tests.fakes.anthropic_thinking import SignedThinking
from tests.fakes.anthropic_web_search import (
    WebSearch,
    search_blocks,
    web_search_tool,
    web_search_tool_error,
)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Frame = tuple[str, dict[str, Any]]

MESSAGES = "/v1/messages"  # ``?beta=true`` (what Claude Code sends) is the same endpoint
COUNT_TOKENS = "/v1/messages/count_tokens"
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


@dataclass(frozen=True)
class ToolUse:
    """A ``tool_use`` block the fake answers with; ``id`` is generated when empty."""

    name: str
    input: Mapping[str, Any]
    id: str = ""


@dataclass(frozen=True)
class Reply:
    """One scripted answer. ``text=None`` echoes the last user text; ``status`` other
    than 200 answers with Anthropic's error body; ``error_after=k`` sends an
    ``event: error`` after k stream events; ``delay_s`` sleeps before every event (a
    whole answer waits as long as its stream would have taken)."""

    text: str | None = None
    thinking: str | None = None
    signature: str = "fake-signature"
    tool_uses: Sequence[ToolUse] = ()
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: Mapping[str, int] | None = None
    chunks: int | None = None
    delay_s: float | None = None
    status: int = 200
    error_type: str | None = None
    error_message: str = "scripted error from the fake Anthropic server"
    headers: Mapping[str, str] = field(default_factory=dict)
    error_after: int | None = None
    # Searches the upstream runs before its text (only with the web search tool sent).
    web_searches: Sequence[WebSearch] = ()


@dataclass(frozen=True)
class ReceivedRequest:
    """A request as the fake received it; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    query: str = ""  # the query string, without "?" (``beta=true``)


def _split(text: str, n: int) -> list[str]:
    n = max(1, min(n, len(text)))
    size, extra = divmod(len(text), n)
    pieces, pos = [], 0
    for i in range(n):
        end = pos + size + (1 if i < extra else 0)
        pieces.append(text[pos:end])
        pos = end
    return pieces


def _words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_words(v) for v in value)
    if isinstance(value, dict):
        return sum(_words(value.get(k)) for k in ("text", "content"))
    return 0


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        texts = [b.get("text", "") for b in content or [] if b.get("type") == "text"]
        if texts:
            return " ".join(texts)
    return ""


def _error_body(error_type: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}}


# --- Validation: what the live API refuses, in the words it refuses it with ------------
#
# Sources: the model rules cite theirs in tests/fakes/anthropic_models.py. The
# ``anthropic-version`` rules are the upstream behaviour the project observed: 2023-06-01
# (what Claude Code sends) takes sampling parameters, 2026-10-21 (the anthropic SDK's
# default, ``anthropic._constants.ANTHROPIC_API_VERSION``) refuses them, and a request
# without the header or with another value is a 400. The other messages are the live
# API's, as seen in its 400 bodies (the Messages API reference, the extended thinking,
# effort and structured outputs pages, and answers quoted in public bug reports); the few
# the fake words itself are marked "the fake's wording".

SAMPLING_VERSION = "2023-06-01"  # sampling parameters accepted (per model)
SDK_VERSION = "2026-10-21"  # the anthropic SDK's default; sampling parameters refused
API_VERSIONS = (SAMPLING_VERSION, SDK_VERSION)
SAMPLING_PARAMS = ("temperature", "top_p", "top_k")
THINKING_TYPES = ("enabled", "disabled", "adaptive")
MIN_THINKING_BUDGET = 1024
THINKING_MIN_TOP_P = 0.95
FORCED_TOOL_CHOICES = ("any", "tool")
TOOL_CHOICE_TYPES = ("auto", "any", "tool", "none")
OUTPUT_CONFIG_KEYS = ("effort", "format")
NOT_AN_OBJECT = "Input should be a valid dictionary or object to extract fields from"


class Invalid(Exception):
    """A request the live API refuses: ``status`` with Anthropic's error body."""

    def __init__(self, message: str, status: int = 400, error_type: str | None = None) -> None:
        super().__init__(message)
        self.message, self.status = message, status
        self.error_type = error_type or ERROR_TYPES.get(status, "api_error")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _one_of(values: Sequence[str]) -> str:
    """Pydantic's enumeration: ``'a', 'b' or 'c'``."""
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def validate(
    headers: Mapping[str, str], body: Any, models: Sequence[AnthropicModel]
) -> AnthropicModel:
    """The model a valid request names; raises :class:`Invalid` as the live API refuses."""
    version = _check_version(headers)
    _check_shape(body)
    model = find_model(models, body["model"])
    if model is None:
        raise Invalid(f"model: {body['model']}", 404)
    if body["max_tokens"] > model.max_output_tokens:
        raise Invalid(
            f"max_tokens: {body['max_tokens']} > {model.max_output_tokens}, which is the "
            f"maximum allowed number of output tokens for {model.id}"
        )
    _check_sampling(body, model, version)
    _check_tool_choice(body)
    _check_thinking(body, model)
    _check_forced_tool(body, model)
    _check_output_config(body, model)
    turns = _check_system_messages(body, model)
    _check_content({**body, "messages": turns}, model)  # the conversation's own turns
    _check_stop_sequences(body)
    _check_tools(body, model)
    cache_error = cache_control_error(body)
    if cache_error:
        raise Invalid(cache_error)
    return model


def _check_version(headers: Mapping[str, str]) -> str:
    version = headers.get("anthropic-version")
    if version is None:
        raise Invalid("anthropic-version: header is required")
    if version not in API_VERSIONS:
        raise Invalid(f"anthropic-version: unknown version '{version}'")
    return version


def _check_shape(body: Any) -> None:
    if not isinstance(body, dict):
        raise Invalid("The request body is not a valid JSON object.")  # the fake's wording
    if "model" not in body:
        raise Invalid("model: Field required")
    if not isinstance(body["model"], str):
        raise Invalid("model: Input should be a valid string")
    if "max_tokens" not in body:
        raise Invalid("max_tokens: Field required")
    if not _is_int(body["max_tokens"]):
        raise Invalid("max_tokens: Input should be a valid integer")
    if body["max_tokens"] < 1:
        raise Invalid("max_tokens: Input should be greater than or equal to 1")
    if "messages" not in body:
        raise Invalid("messages: Field required")
    messages = body["messages"]
    if not isinstance(messages, list):
        raise Invalid("messages: Input should be a valid array")
    if not messages:
        raise Invalid("messages: at least one message is required")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise Invalid(f"messages.{i}: {NOT_AN_OBJECT}")
        if message.get("role") not in ("user", "assistant", "system"):
            raise Invalid("messages: roles must be 'user' or 'assistant'")
        if "content" not in message:
            raise Invalid(f"messages.{i}.content: Field required")
        content = message["content"]
        if not isinstance(content, str | list):
            raise Invalid(f"messages.{i}.content: Input should be a valid array")
        for j, block in enumerate(content if isinstance(content, list) else []):
            if not isinstance(block, dict):
                raise Invalid(f"messages.{i}.content.{j}: Input should be an object")
            if "type" not in block:
                raise Invalid(f"messages.{i}.content.{j}.type: Field required")


def _check_sampling(body: dict[str, Any], model: AnthropicModel, version: str) -> None:
    sent = [name for name in SAMPLING_PARAMS if name in body]
    if sent and version == SDK_VERSION:
        # The fake's wording: the project observed the refusal, not its exact sentence.
        raise Invalid(
            f"`{sent[0]}` is not supported with anthropic-version {SDK_VERSION}; send "
            f"anthropic-version {SAMPLING_VERSION} to set sampling parameters."
        )
    for name in ("temperature", "top_p"):
        if name in body and not _is_number(body[name]):
            raise Invalid(f"{name}: Input should be a valid number")
        if name in body and not 0 <= body[name] <= 1:
            raise Invalid(f"{name}: range: 0..1")
    if "top_k" in body and not _is_int(body["top_k"]):
        raise Invalid("top_k: Input should be a valid integer")
    if "top_k" in body and body["top_k"] < 0:
        raise Invalid("top_k: Input should be greater than or equal to 0")
    if model.sampling_defaults_only:
        for name in sent:
            if name == "top_k" or body[name] != 1:
                raise Invalid(f"`{name}` is deprecated for this model.")
    elif "temperature" in body and "top_p" in body and not model.temperature_with_top_p:
        raise Invalid(
            "`temperature` and `top_p` cannot both be specified for this model. "
            "Please use only one."
        )


def _check_tool_choice(body: dict[str, Any]) -> None:
    if "tool_choice" not in body:
        return
    choice = body["tool_choice"]
    if not isinstance(choice, dict):
        raise Invalid(f"tool_choice: {NOT_AN_OBJECT}")
    if "type" not in choice:
        raise Invalid("tool_choice.type: Field required")
    if choice["type"] not in TOOL_CHOICE_TYPES:
        raise Invalid(
            f"tool_choice: Input tag '{choice['type']}' found using 'type' does not match "
            f"any of the expected tags: {', '.join(repr(t) for t in TOOL_CHOICE_TYPES)}"
        )


def _check_forced_tool(body: dict[str, Any], model: AnthropicModel) -> None:
    # Quoted live with thinking left out (can1357/oh-my-pi#12939); with thinking sent, the
    # older "Thinking may not be enabled ..." answer is kept (which comes first there is
    # not documented).
    if body.get("tool_choice", {}).get("type") in FORCED_TOOL_CHOICES and not (
        model.forced_tool_use
    ):
        raise Invalid('tool_choice: type "tool" and "any" are not supported for this model.')


def _check_thinking(body: dict[str, Any], model: AnthropicModel) -> None:
    if "thinking" not in body:
        if model.thinking_always_on:  # it thinks anyway: the thinking rules apply
            _check_forced_tool(body, model)
            _check_while_thinking(body)
        return
    thinking = body["thinking"]
    if not isinstance(thinking, dict):
        raise Invalid(f"thinking: {NOT_AN_OBJECT}")
    if "type" not in thinking:
        raise Invalid("thinking.type: Field required")
    kind = thinking["type"]
    if kind not in THINKING_TYPES:
        raise Invalid(
            f"thinking: Input tag '{kind}' found using 'type' does not match any of the "
            f"expected tags: {', '.join(repr(t) for t in THINKING_TYPES)}"
        )
    if kind == "enabled":
        if "budget_tokens" not in thinking:
            raise Invalid("thinking.enabled.budget_tokens: Field required")
        if not _is_int(thinking["budget_tokens"]):
            raise Invalid("thinking.enabled.budget_tokens: Input should be a valid integer")
        if thinking["budget_tokens"] < MIN_THINKING_BUDGET:
            raise Invalid(
                "thinking.enabled.budget_tokens: Input should be greater than or equal to "
                f"{MIN_THINKING_BUDGET}"
            )
    if kind not in model.thinking_types:
        if kind == "adaptive":
            raise Invalid("adaptive thinking is not supported on this model")
        raise Invalid(
            f'"thinking.type.{kind}" is not supported for this model. Use '
            '"thinking.type.adaptive" and "output_config.effort" to control thinking behavior.'
        )
    if kind == "enabled" and thinking["budget_tokens"] >= body["max_tokens"]:
        raise Invalid("`max_tokens` must be greater than `thinking.budget_tokens`.")
    if kind == "disabled":
        return
    _check_while_thinking(body)


def _check_while_thinking(body: dict[str, Any]) -> None:
    if "temperature" in body and body["temperature"] != 1:
        raise Invalid("`temperature` may only be set to 1 when thinking is enabled.")
    if "top_p" in body and body["top_p"] < THINKING_MIN_TOP_P:
        raise Invalid(
            "`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled."
        )
    if "top_k" in body:
        raise Invalid("`top_k` must be unset when thinking is enabled.")
    if body.get("tool_choice", {}).get("type") in FORCED_TOOL_CHOICES:
        raise Invalid("Thinking may not be enabled when tool_choice forces tool use.")


def _check_output_config(body: dict[str, Any], model: AnthropicModel) -> None:
    if "output_config" not in body:
        return
    config = body["output_config"]
    if not isinstance(config, dict):
        raise Invalid(f"output_config: {NOT_AN_OBJECT}")
    for key in config:
        if key not in OUTPUT_CONFIG_KEYS:
            raise Invalid(f"output_config.{key}: Extra inputs are not permitted")
    if "effort" in config:
        if not model.effort_levels:
            raise Invalid("This model does not support the effort parameter.")
        if config["effort"] not in model.effort_levels:
            raise Invalid(f"output_config.effort: Input should be {_one_of(model.effort_levels)}")
    if "format" in config:
        if not model.structured_outputs:
            # The fake's wording.
            raise Invalid(
                "output_config.format: structured outputs are not supported for this model"
            )
        fmt = config["format"]
        if not isinstance(fmt, dict):
            raise Invalid(f"output_config.format: {NOT_AN_OBJECT}")
        if fmt.get("type") != "json_schema":
            raise Invalid("output_config.format.type: Input should be 'json_schema'")
        if not isinstance(fmt.get("schema"), dict):
            raise Invalid("output_config.format.schema: Field required")


def _check_text(text: Any, where: str) -> None:
    if not isinstance(text, str):
        raise Invalid(f"{where}.text: Input should be a valid string")
    if not text:
        raise Invalid("messages: text content blocks must be non-empty")
    if not text.strip():
        raise Invalid("messages: text content blocks must contain non-whitespace text")


CLEAR_AT = ("next_user_message", "never")


def _check_system_messages(body: dict[str, Any], model: AnthropicModel) -> list[Any]:
    """Mid-conversation ``system`` messages: only on models that take them, right after a
    user turn, text only (the placement and content rules of anthropic_models.py); the
    messages without them."""
    messages = body["messages"]
    for i, message in enumerate(messages):
        if message["role"] != "system":
            continue
        if not model.mid_conversation_system:
            raise Invalid("messages: roles must be 'user' or 'assistant'")
        if i == 0 or messages[i - 1]["role"] != "user":
            raise Invalid(  # the fake's wording of the placement rule
                f"messages.{i}: a system message must come right after a user message"
            )
        content = message["content"]
        blocks = [{"type": "text"}] if isinstance(content, str) else content
        if any(block.get("type") != "text" for block in blocks):
            raise Invalid(f"messages.{i}.content: system messages take text blocks only")
        if message.get("clear_at", "never") not in CLEAR_AT:
            raise Invalid(f"messages.{i}.clear_at: Input should be 'next_user_message' or 'never'")
    return [m for m in messages if m["role"] != "system"]


def _check_content(body: dict[str, Any], model: AnthropicModel) -> None:
    system = body.get("system")
    if "system" in body and not isinstance(system, str | list):
        raise Invalid("system: Input should be a valid array")
    for j, block in enumerate(system if isinstance(system, list) else []):
        if isinstance(block, dict) and block.get("type") == "text":
            _check_text(block.get("text"), f"system.{j}")
    messages = body["messages"]
    last = len(messages) - 1
    for i, message in enumerate(messages):
        content = message["content"]
        final_assistant = i == last and message["role"] == "assistant"
        if not content:
            if final_assistant:
                continue
            raise Invalid(
                f"messages.{i}: all messages must have non-empty content except for the "
                "optional final assistant message"
            )
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for j, block in enumerate(blocks):
            if block["type"] == "text":
                _check_text(block.get("text"), f"messages.{i}.content.{j}")
            if block["type"] == "document":
                error = document_error(block, f"messages.{i}.content.{j}")
                if error:
                    raise Invalid(error)
    if messages[last]["role"] != "assistant":
        return
    if not model.assistant_prefill:
        raise Invalid(
            "This model does not support assistant message prefill. "
            "The conversation must end with a user message."
        )
    final = messages[last]["content"]
    if isinstance(final, list):
        final = final[-1]["text"] if final and final[-1]["type"] == "text" else ""
    if final != final.rstrip():
        raise Invalid("messages: final assistant content cannot end with trailing whitespace")


def _check_stop_sequences(body: dict[str, Any]) -> None:
    stops = body.get("stop_sequences")
    if stops is None:
        return
    if not isinstance(stops, list):
        raise Invalid("stop_sequences: Input should be a valid array")
    for j, stop in enumerate(stops):
        if not isinstance(stop, str):
            raise Invalid(f"stop_sequences.{j}: Input should be a valid string")
        if not stop.strip():
            raise Invalid(
                "stop_sequences: each stop sequence must contain non-whitespace characters"
            )


def _check_tools(body: dict[str, Any], model: AnthropicModel) -> None:
    tools = body.get("tools")
    if tools is None:
        return
    if not isinstance(tools, list):
        raise Invalid("tools: Input should be a valid list")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise Invalid(f"tools.{i}: {NOT_AN_OBJECT}")
        if tool.get("type") == "web_search_20250305":
            error = web_search_tool_error(tool, f"tools.{i}")
            if error:
                raise Invalid(error)
        if "strict" not in tool:
            continue
        if not isinstance(tool["strict"], bool):
            raise Invalid(f"tools.{i}.custom.strict: Input should be a valid boolean")
        if tool["strict"] and not model.structured_outputs:
            # The fake's wording: strict tools are structured outputs (anthropic_models).
            raise Invalid(f"tools.{i}.strict: strict tool use is not supported for this model")


class _Script:
    """Turns a request and a :class:`Reply` into a Message and its stream frames;
    ``cache`` is the request's (cache read, cache creation) tokens."""

    def __init__(
        self,
        body: dict[str, Any],
        model: str,
        reply: Reply,
        chunks: int,
        msg_id: str,
        cache: tuple[int, int] = (0, 0),
    ) -> None:
        self.body, self.model, self.reply = body, model, reply
        self.cache_read, self.cache_creation = cache
        self.chunks = reply.chunks or chunks
        text = reply.text if reply.text is not None else self._echo()
        self.stop_reason, self.stop_sequence = reply.stop_reason, reply.stop_sequence
        for stop in body.get("stop_sequences") or []:
            if stop and stop in text:
                text = text[: text.index(stop)]
                self.stop_reason = self.stop_reason or "stop_sequence"
                self.stop_sequence = self.stop_sequence or stop
        self.text_pieces = _split(text, self.chunks) if text else []
        if len(self.text_pieces) > body.get("max_tokens", 1 << 30):
            self.text_pieces = self.text_pieces[: body["max_tokens"]]
            self.stop_reason = self.stop_reason or "max_tokens"
        self.thinking_pieces = _split(reply.thinking, self.chunks) if reply.thinking else []
        self.tools = [
            ToolUse(t.name, t.input, t.id or f"toolu_fake_{msg_id}_{i}")
            for i, t in enumerate(reply.tool_uses)
        ]
        self.stop_reason = self.stop_reason or ("tool_use" if self.tools else "end_turn")
        self.msg_id = msg_id
        searches = reply.web_searches if web_search_tool(body) is not None else ()
        self.search_blocks = search_blocks(searches, msg_id)

    def _echo(self) -> str:
        last = _last_user_text(self.body)
        return f"Echo: {last}" if last else "Hello from the fake Anthropic server."

    def usage(self) -> dict[str, Any]:
        output = len(self.text_pieces) + len(self.thinking_pieces) + len(self.tools)
        usage: dict[str, Any] = {
            "input_tokens": max(1, self._prompt_words() - self.cache_read - self.cache_creation),
            "output_tokens": max(1, output),
            "cache_creation_input_tokens": self.cache_creation,
            "cache_read_input_tokens": self.cache_read,
        }
        if self.search_blocks:
            searches = len(self.search_blocks) // 2
            usage["server_tool_use"] = {"web_search_requests": searches}
        usage |= dict(self.reply.usage or {})
        if "thinking_tokens" in usage:
            usage["output_tokens_details"] = {"thinking_tokens": usage.pop("thinking_tokens")}
        return usage

    def _prompt_words(self) -> int:
        return _words(self.body.get("system")) + _words(self.body["messages"])

    def blocks(self) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if self.thinking_pieces:
            thinking = "".join(self.thinking_pieces)
            blocks.append(
                {"type": "thinking", "thinking": thinking, "signature": self.reply.signature}
            )
        blocks.extend(self.search_blocks)
        if self.text_pieces:
            blocks.append({"type": "text", "text": "".join(self.text_pieces)})
        for tool in self.tools:
            blocks.append(
                {"type": "tool_use", "id": tool.id, "name": tool.name, "input": tool.input}
            )
        return blocks

    def message(self, *, streaming: bool) -> dict[str, Any]:
        usage = self.usage()
        if streaming:
            usage = {k: v for k, v in usage.items() if k != "output_tokens_details"}
            usage["output_tokens"] = 1
        return {
            "id": self.msg_id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [] if streaming else self.blocks(),
            "stop_reason": None if streaming else self.stop_reason,
            "stop_sequence": None if streaming else self.stop_sequence,
            "usage": usage,
        }

    def frames(self) -> list[Frame]:
        frames: list[Frame] = [
            ("message_start", {"type": "message_start", "message": self.message(streaming=True)}),
            ("ping", {"type": "ping"}),
        ]
        for index, block in enumerate(self.blocks()):
            frames.extend(self._block_frames(index, block))
        usage = self.usage()
        delta = {"stop_reason": self.stop_reason, "stop_sequence": self.stop_sequence}
        frames.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
        frames.append(("message_stop", {"type": "message_stop"}))
        return frames

    def _block_frames(self, index: int, block: dict[str, Any]) -> list[Frame]:
        kind = block["type"]
        start: dict[str, Any]
        if kind == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": t} for t in self.thinking_pieces]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif kind == "text":
            start = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": t} for t in self.text_pieces]
        elif kind == "web_search_tool_result":  # streamed whole in its start
            start, deltas = block, []
        else:
            start = {**block, "input": {}}
            # Like the real API, a call without arguments streams one empty fragment.
            args = orjson.dumps(block["input"]).decode() if block["input"] else ""
            pieces = _split(args, 3) if args else [""]
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
        frames: list[Frame] = [
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
        ]
        frames += [
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
            for d in deltas
        ]
        frames.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        return frames


def _sse(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class FakeAnthropic:
    """The fake server: ``start()`` / ``stop()`` or a ``with`` block; ``base_url`` for
    ``AsyncAnthropic(base_url=...)``. Counts streams the client abandoned in
    ``disconnects`` and streams sent to the end in ``completed_streams``.

    It is as strict as the live API: every request is checked against ``models`` (the live
    catalog, :data:`tests.fakes.anthropic_models.MODELS`, unless a test passes its own)
    and the rules of :func:`validate`, and refused in the live API's words."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        chunks: int = 4,
        delay_s: float = 0.0,
        api_key: str | None = None,
        models: Sequence[AnthropicModel] = MODELS,
        keep_requests: bool = True,
    ) -> None:
        self.host, self.port, self.chunks, self.delay_s = host, port, chunks, delay_s
        self.keep_requests = keep_requests
        self.api_key = api_key
        self.models: tuple[AnthropicModel, ...] = tuple(models)
        self.requests: list[ReceivedRequest] = []
        self.prompt_cache = PromptCache()
        self.disconnects = 0
        self.completed_streams = 0
        self.in_flight = 0  # requests being answered now
        self._replies: collections.deque[Reply] = collections.deque()
        # Error replies by API key: every Messages request carrying that key gets it.
        self.key_replies: dict[str, Reply] = {}
        self.signed_thinking = SignedThinking()  # kept across reset(): signatures don't expire
        self._disconnected = threading.Event()
        self._ids = itertools.count(1)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def last_request(self) -> ReceivedRequest:
        return self.requests[-1]

    def enqueue(self, *replies: Reply, **reply_fields: Any) -> None:
        """Scripts the next answers, in order: ``enqueue(Reply(...), ...)`` or
        ``enqueue(text="hi", stop_reason="max_tokens")`` for one reply."""
        self._replies.extend(replies or (Reply(**reply_fields),))

    def reset(self) -> None:
        """Forgets requests, scripted replies and counters (between tests)."""
        self.requests.clear()
        self._replies.clear()
        self.key_replies.clear()
        self.prompt_cache.clear()
        self.disconnects = self.completed_streams = 0
        self._disconnected.clear()

    async def wait_for_disconnect(self, wait_s: float = 5.0) -> bool:
        """Waits, off the caller's event loop, until a client abandoned a stream."""
        return await asyncio.to_thread(self._disconnected.wait, wait_s)

    def wait_for_disconnect_blocking(self, wait_s: float = 5.0) -> bool:
        """``wait_for_disconnect`` for synchronous tests (it blocks the calling thread)."""
        return self._disconnected.wait(wait_s)

    def start(self) -> FakeAnthropic:
        config = uvicorn.Config(
            self._app,
            host=self.host,
            port=self.port,
            http="httptools",
            interface="asgi3",
            lifespan="off",
            proxy_headers=False,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-anthropic", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Anthropic server did not start")
            time.sleep(0.005)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        self.in_flight += 1
        try:
            await self._answer(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/healthz":
            await self._json(send, 200, {"ok": True})
            return
        if scope["method"] != "POST" or scope["path"] not in (MESSAGES, COUNT_TOKENS):
            await self._json(send, 404, _error_body("not_found_error", "Not found"))
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        try:
            body = orjson.loads(b"".join(chunks))
        except orjson.JSONDecodeError:
            body = None
        recorded = body if isinstance(body, dict) else {}
        query = scope.get("query_string", b"").decode()
        if self.keep_requests:
            self.requests.append(ReceivedRequest("POST", scope["path"], headers, recorded, query))
        if scope["path"] == COUNT_TOKENS:
            await self._count_tokens(headers, body, send)
            return
        await self._messages(headers, body, receive, send)

    async def _count_tokens(self, headers: dict[str, str], body: Any, send: Send) -> None:
        """``/v1/messages/count_tokens``: the input tokens the request would use, counted as
        a Messages request counts them (its words); nothing is generated."""
        if not self._authorized(headers):
            await self._json(send, 401, _error_body("authentication_error", "invalid x-api-key"))
            return
        try:
            _check_version(headers)
            if not isinstance(body, dict) or not isinstance(body.get("model"), str):
                raise Invalid("model: Field required")
            if find_model(self.models, body["model"]) is None:
                raise Invalid(f"model: {body['model']}", 404)
            if not isinstance(body.get("messages"), list) or not body["messages"]:
                raise Invalid("messages: Field required")
        except Invalid as invalid:
            error = _error_body(invalid.error_type, invalid.message)
            await self._json(send, invalid.status, error)
            return
        words = _words(body.get("system")) + _words(body["messages"])
        await self._json(send, 200, {"input_tokens": max(1, words)})

    async def _messages(
        self, headers: dict[str, str], body: Any, receive: Receive, send: Send
    ) -> None:
        if not self._authorized(headers):
            error = _error_body("authentication_error", "invalid x-api-key")
            await self._json(send, 401, error)
            return
        # A scripted failure wins over validation (tests script upstream failures); a
        # scripted answer is used only by a request the live API would have served.
        # A key's own failure (``key_replies``) wins over both: a rate limit is per key.
        reply = self.key_replies.get(self._key(headers))
        if reply is None and self._replies and self._replies[0].status != 200:
            reply = self._replies.popleft()
        if reply is not None:
            error_type = reply.error_type or ERROR_TYPES.get(reply.status, "api_error")
            error = _error_body(error_type, reply.error_message)
            await self._json(send, reply.status, error, reply.headers)
            return
        try:
            model = validate(headers, body, self.models)
            signature_error = self.signed_thinking.error(body)
            if signature_error:
                raise Invalid(signature_error)
        except Invalid as invalid:
            error = _error_body(invalid.error_type, invalid.message)
            await self._json(send, invalid.status, error)
            return
        reply = self._replies.popleft() if self._replies else Reply()
        msg_id = f"msg_fake_{next(self._ids):08d}"
        cache = self.prompt_cache.account(body, model.id, model.cache_min_tokens, _words)
        script = _Script(body, model.id, reply, self.chunks, msg_id, cache)
        if script.thinking_pieces:
            self.signed_thinking.issue(reply.signature, "".join(script.thinking_pieces))
        delay = self.delay_s if reply.delay_s is None else reply.delay_s
        if body.get("stream"):
            await self._stream(send, receive, script.frames(), reply, delay)
            return
        # A whole answer takes as long as its stream would have: one delay per event.
        if delay and not await self._generate(receive, delay * len(script.frames())):
            return
        await self._json(send, 200, script.message(streaming=False), reply.headers)

    async def _generate(self, receive: Receive, seconds: float) -> bool:
        """Waits ``seconds``; False (a disconnect counted) when the client left meanwhile."""
        watch = asyncio.ensure_future(_wait_disconnect(receive))
        try:
            await asyncio.wait((watch,), timeout=seconds)
            if watch.done():
                self.disconnects += 1
                self._disconnected.set()
                return False
            return True
        finally:
            watch.cancel()

    @staticmethod
    def _key(headers: dict[str, str]) -> str:
        key = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer")
        return key.strip()

    def _authorized(self, headers: dict[str, str]) -> bool:
        key = self._key(headers)
        return bool(key) and (self.api_key is None or key == self.api_key)

    async def _json(
        self, send: Send, status: int, data: dict[str, Any], extra: Mapping[str, str] = {}
    ) -> None:
        payload = orjson.dumps(data)
        headers = [(b"content-type", b"application/json"), (b"request-id", b"req_fake")]
        headers += [(k.encode(), v.encode()) for k, v in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _stream(
        self, send: Send, receive: Receive, frames: list[Frame], reply: Reply, delay_s: float
    ) -> None:
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        headers += [(k.encode(), v.encode()) for k, v in reply.headers.items()]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if reply.error_after is not None:
            error_type = reply.error_type or "overloaded_error"
            frames = [
                *frames[: reply.error_after],
                ("error", _error_body(error_type, reply.error_message)),
            ]
        watch = asyncio.ensure_future(_wait_disconnect(receive))
        try:
            for name, data in frames:
                if delay_s:
                    await asyncio.wait((watch,), timeout=delay_s)
                if watch.done():
                    self.disconnects += 1
                    self._disconnected.set()
                    return
                await send(
                    {"type": "http.response.body", "body": _sse(name, data), "more_body": True}
                )
            await send({"type": "http.response.body", "body": b""})
            self.completed_streams += 1
        finally:
            watch.cancel()


NEVER = 2**31 - 1  # a collector threshold never reached


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake Anthropic Messages API server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--chunks", type=int, default=20, help="text deltas per answer")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="delay before each event")
    args = parser.parse_args(argv)
    # As a process (a benchmark's upstream) nothing reads ``requests``: keeping every
    # request would grow the heap the collector walks for as long as the run lasts.
    fake = FakeAnthropic(
        host=args.host,
        port=args.port,
        chunks=args.chunks,
        delay_s=args.delay_ms / 1000,
        keep_requests=False,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with fake:
        # A benchmark's upstream must not pause its streams: full collections (tens of
        # milliseconds with 500 streams in flight) run only while no request is, and what
        # starting allocated is out of their reach (as in the gateway's own processes).
        gc.collect()
        gc.freeze()
        young, older, _ = gc.get_threshold()
        gc.set_threshold(young, older, NEVER)
        print(fake.base_url, flush=True)
        while not stop.wait(1.0):
            if not fake.in_flight:
                gc.collect()


if __name__ == "__main__":
    main()
