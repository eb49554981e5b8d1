"""Proto ``ChatRequest`` → a Messages API request body, in the wire format (pure).

The role and tool-choice vocabularies are data here; what thinking, effort, sampling and
token limit become for the model is ``model_rules``, from the model table.

Histories are taken as clients send them: system and developer messages anywhere in the
conversation join the one system prompt, in order; empty or whitespace-only text is left
out and a turn left with nothing is dropped (the upstream refuses both); consecutive turns
of the same upstream role are merged; a final assistant turn (a prefill) loses its trailing
whitespace, which the upstream refuses. Whitespace-only stop sequences stay here
(``stop_sequences``: Drafter enforces them on the way back).

A system prompt whose parts carry cache breakpoints, or that came as several parts, stays
a list of system blocks; otherwise it is one string. File parts become ``document``
blocks (``documents``); the caller's ``cache_control`` goes onto the matching block or
tool, and ``prompt_cache`` checks it or places Drafter's own. ``strict`` tools are sent as
strict on models with structured outputs (strict tool use is part of that feature,
Anthropic's "Strict tool use" page; no beta header) and dropped elsewhere, as Anthropic's
own OpenAI compatibility layer ignores it, so clients that always send it keep working.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.limits import DEFAULT_MAX_TOKENS
from drafter.model_table import ModelSpec
from drafter.rpc.errors import InvalidRequest
from drafter.services.chat.documents import document_block_from_file
from drafter.services.chat.model_rules import max_tokens_for, sampling_params, thinking_params
from drafter.services.chat.output_format import apply_response_format
from drafter.services.chat.prompt_cache import (
    PromptCacheMode,
    apply_prompt_cache,
    cache_control_param,
)
from drafter.services.chat.stop_sequences import split_stop_sequences

# Tool choices that force a tool call: the API refuses them while the model thinks.
FORCED_TOOL_CHOICES = frozenset({"any", "tool"})

SYSTEM_ROLES = frozenset({chat_pb.ROLE_SYSTEM, chat_pb.ROLE_DEVELOPER})
UPSTREAM_ROLES: dict[int, str] = {
    chat_pb.ROLE_USER: "user",
    chat_pb.ROLE_ASSISTANT: "assistant",
    chat_pb.ROLE_TOOL: "user",  # tool results travel in a user turn
}
TOOL_CHOICES: dict[int, str] = {
    chat_pb.ToolChoice.MODE_AUTO: "auto",
    chat_pb.ToolChoice.MODE_NONE: "none",
    chat_pb.ToolChoice.MODE_REQUIRED: "any",
    chat_pb.ToolChoice.MODE_NAMED: "tool",
}
IMAGE_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_DATA_URL = re.compile(r"^data:(?P<media>[\w/+.-]+);base64,(?P<data>.*)$", re.DOTALL)

Block = dict[str, Any]
KeptThinking = Mapping[str, list[Block]]


def message_params_from_request(
    req: chat_pb.ChatRequest,
    model: ModelSpec,
    *,
    kept_thinking: KeptThinking | None = None,
    prompt_cache: PromptCacheMode = "off",
) -> dict[str, Any]:
    """The arguments of ``messages.create`` (``stream`` aside) for ``req`` sent to ``model``.

    ``kept_thinking`` maps tool-call ids to the signed thinking blocks of the assistant
    turn that made those calls; they are restored in front of that turn. ``prompt_cache``
    "auto" places cache breakpoints when the caller placed none (``prompt_cache``).
    Raises :class:`InvalidRequest` for what the upstream cannot take."""
    thinking = thinking_params(req, model)
    params: dict[str, Any] = {
        "model": model.upstream,
        "messages": messages_from_request(req.messages, kept_thinking or {}),
        "max_tokens": max_tokens_for(req, model, req.max_tokens or DEFAULT_MAX_TOKENS),
    }
    system = system_from_request(req.messages)
    if system:
        params["system"] = system
    upstream_stops, _ = split_stop_sequences(req.stop)
    if upstream_stops:
        params["stop_sequences"] = upstream_stops
    if req.user:
        params["metadata"] = {"user_id": req.user}
    if req.tools:
        params["tools"] = [tool_param_from_proto(tool, model) for tool in req.tools]
        choice = tool_choice_from_request(req)
        if choice is not None:
            params["tool_choice"] = choice
    params.update(thinking)
    forced = params.get("tool_choice", {}).get("type") in FORCED_TOOL_CHOICES
    if forced and not model.forced_tool_use:
        raise InvalidRequest(
            f"The model `{model.id}` does not take tool_choice 'required' or a named "
            "function; use 'auto' or 'none' and ask for the tool in the prompt.",
            metadata=_param("tool_choice"),
        )
    if (thinking or model.thinking_always_on) and forced:
        raise InvalidRequest(
            "tool_choice 'required' or a named function cannot be combined with thinking; "
            "use 'auto' or 'none', or turn thinking off.",
            metadata=_param("tool_choice"),
        )
    apply_response_format(params, req, model)
    params.update(sampling_params(req, model, thinking=bool(thinking) or model.thinking_always_on))
    apply_prompt_cache(params, model, prompt_cache)
    return params


def system_from_request(messages: Any) -> str | list[Block]:
    """System and developer messages, in order: one string (joined), or a list of text
    blocks when they came as several parts or carry cache breakpoints."""
    system = [m for m in messages if m.role in SYSTEM_ROLES]
    parts = [p for m in system for p in m.content if p.WhichOneof("part") == "text"]
    if len(parts) > len(system) or any(p.HasField("cache_control") for p in parts):
        return [
            _with_cache_control({"type": "text", "text": p.text}, p)
            for p in parts
            if p.text.strip()
        ]
    texts = [_text_of(m) for m in system]
    return "\n\n".join(t for t in texts if t.strip())


def messages_from_request(
    messages: Any, kept_thinking: KeptThinking | None = None
) -> list[dict[str, Any]]:
    """User, assistant and tool messages as Messages API turns; consecutive turns of the
    same upstream role are merged (the API wants them alternating)."""
    kept = kept_thinking or {}
    turns: list[dict[str, Any]] = []
    for position, message in enumerate(messages):
        if message.role in SYSTEM_ROLES:
            continue
        role = UPSTREAM_ROLES.get(message.role)
        if role is None:
            raise InvalidRequest(
                "messages: every message needs a role", metadata=_param("messages")
            )
        blocks = blocks_from_message(message, f"messages.{position}.content")
        if not blocks:
            continue  # the upstream refuses empty turns; an empty assistant turn says nothing
        if kept and message.tool_calls:
            blocks[:0] = thinking_for_calls(message.tool_calls, kept)
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    if not turns:
        raise InvalidRequest(
            "messages: at least one user or assistant message is required",
            metadata=_param("messages"),
        )
    if turns[-1]["role"] == "assistant":
        _strip_prefill(turns)
    return turns


def _strip_prefill(turns: list[dict[str, Any]]) -> None:
    """A final assistant turn must not end with whitespace (its text blocks are never
    whitespace-only, so something remains)."""
    last = turns[-1]["content"][-1]
    if last["type"] == "text":
        last["text"] = last["text"].rstrip()


def blocks_from_message(message: chat_pb.Message, param: str = "content") -> list[Block]:
    """The content blocks of one message: text, images, documents, tool calls or a tool
    result; ``param`` is its content's parameter path, named in a 400."""
    blocks = [block_from_part(part, f"{param}.{i}") for i, part in enumerate(message.content)]
    # The upstream refuses empty and whitespace-only text blocks.
    blocks = [b for b in blocks if b["type"] != "text" or b["text"].strip()]
    if message.role == chat_pb.ROLE_TOOL:
        return [{"type": "tool_result", "tool_use_id": message.tool_call_id, "content": blocks}]
    blocks.extend(tool_use_from_call(call) for call in message.tool_calls)
    return blocks


def thinking_for_calls(calls: Any, kept: KeptThinking) -> list[Block]:
    """The kept thinking blocks of the turn that made ``calls`` (any one id finds them)."""
    for call in calls:
        blocks = kept.get(call.id)
        if blocks:
            return blocks
    return []


def block_from_part(part: chat_pb.ContentPart, param: str = "content") -> Block:
    kind = part.WhichOneof("part")
    if kind == "image":
        block = image_block_from_url(part.image.url)
    elif kind == "file":
        block = document_block_from_file(part.file, f"{param}.file")
    else:
        block = {"type": "text", "text": part.text}
    return _with_cache_control(block, part)


def _with_cache_control(block: Block, part: chat_pb.ContentPart | chat_pb.Tool) -> Block:
    if part.HasField("cache_control"):
        block["cache_control"] = cache_control_param(part.cache_control)
    return block


def image_block_from_url(url: str) -> Block:
    """A ``data:`` URL becomes a base64 image block, an http(s) URL a url image block."""
    match = _DATA_URL.match(url)
    if match is not None:
        media_type = match["media"].lower()
        if media_type not in IMAGE_MEDIA_TYPES:
            raise InvalidRequest(
                f"image media type {media_type!r} is not supported; use "
                + ", ".join(sorted(IMAGE_MEDIA_TYPES)),
                metadata=_param("messages"),
            )
        source = {"type": "base64", "media_type": media_type, "data": match["data"]}
        return {"type": "image", "source": source}
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise InvalidRequest(
        "image_url must be an http(s) URL or a base64 data: URL", metadata=_param("messages")
    )


def tool_use_from_call(call: chat_pb.ToolCall) -> Block:
    return {
        "type": "tool_use",
        "id": call.id,
        "name": call.name,
        "input": _json_object(call.arguments_json, "tool_calls.function.arguments"),
    }


def tool_param_from_proto(tool: chat_pb.Tool, model: ModelSpec) -> Block:
    schema = _json_object(tool.parameters_json, "tools.function.parameters")
    param: Block = {"name": tool.name, "input_schema": schema or {"type": "object"}}
    if tool.description:
        param["description"] = tool.description
    if tool.strict and model.structured_outputs:
        param["strict"] = True
    return _with_cache_control(param, tool)


def tool_choice_from_request(req: chat_pb.ChatRequest) -> Block | None:
    """OpenAI's tool_choice and parallel_tool_calls as Anthropic's ``tool_choice``."""
    kind = TOOL_CHOICES.get(req.tool_choice.mode)
    serial = req.HasField("parallel_tool_calls") and not req.parallel_tool_calls
    if kind is None and not serial:
        return None
    choice: Block = {"type": kind or "auto"}
    if kind == "tool":
        choice["name"] = req.tool_choice.name
    if serial and kind != "none":
        choice["disable_parallel_tool_use"] = True
    return choice


def _text_of(message: chat_pb.Message) -> str:
    return "\n".join(p.text for p in message.content if p.WhichOneof("part") == "text")


def _json_object(text: str, param: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"{param} is not valid JSON: {exc}", metadata=_param(param)) from exc
    if not isinstance(value, dict):
        raise InvalidRequest(f"{param} must be a JSON object", metadata=_param(param))
    return value


def _param(name: str) -> dict[str, str]:
    return {"param": name}
