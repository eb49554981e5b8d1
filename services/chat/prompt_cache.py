"""Prompt-cache breakpoints on a Messages API request (pure).

The caller's own ``cache_control`` (on content parts and tools) arrives on the blocks
already (``to_anthropic``); this module checks them against the upstream's rules and,
with ``DRAFTER_PROMPT_CACHE=auto`` and none of the caller's, places Drafter's own.

Anthropic's prompt caching page: the cached prefix runs tools → system → messages up to
and including the block that carries ``cache_control`` (``{"type": "ephemeral"}``, with an
optional ``ttl`` of "5m" or "1h"); at most 4 blocks may carry one; where TTLs are mixed, a
1-hour entry must come before any 5-minute one; a prefix shorter than the model's minimum
cacheable length is processed without caching (no error).

Automatic placement, as OpenAI caches the longest stable prefix without being asked: one
breakpoint at the end of the stable prefix (the last system block, else the last tool)
and one on the last block of the conversation's last user turn, each only when the
prefix it closes can reach the model's ``cache_min_tokens`` (estimated from its size,
``drafter.token_estimate``). Two breakpoints stay well within the limit of 4.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import orjson

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.model_table import ModelSpec
from drafter.rpc.errors import InvalidRequest
from drafter.token_estimate import estimated_tokens

PromptCacheMode = Literal["auto", "off"]
MAX_BREAKPOINTS = 4
# TTLs, longest first: a breakpoint's TTL may not be longer than an earlier one's.
TTL_ORDER = ("1h", "5m")
DEFAULT_TTL = "5m"
_EPHEMERAL = {"type": "ephemeral"}

Block = dict[str, Any]


def cache_control_param(cache: chat_pb.CacheControl) -> Block:
    """The upstream's ``cache_control`` for a caller's breakpoint."""
    out: Block = {"type": "ephemeral"}
    if cache.ttl:
        out["ttl"] = cache.ttl
    return out


def apply_prompt_cache(params: dict[str, Any], model: ModelSpec, mode: PromptCacheMode) -> None:
    """Checks the caller's breakpoints in the ``messages.create`` arguments, or with none
    and ``mode`` auto places Drafter's (see the module docstring)."""
    marked = [block["cache_control"] for block in _blocks(params) if "cache_control" in block]
    if marked:
        _check_breakpoints(marked)
    elif mode == "auto":
        place_breakpoints(params, model)


def place_breakpoints(params: dict[str, Any], model: ModelSpec) -> None:
    """Drafter's breakpoints: the end of tools + system, and the last user turn."""
    prefix_tokens = _estimate(params.get("tools")) + _estimate(params.get("system"))
    if prefix_tokens >= model.cache_min_tokens:
        _mark_stable_prefix(params)
    last_user = _last_user_block(params["messages"])
    if last_user is None:
        return
    position, block = last_user
    conversation = _estimate(params["messages"][: position + 1])
    if prefix_tokens + conversation >= model.cache_min_tokens:
        block["cache_control"] = dict(_EPHEMERAL)


def _mark_stable_prefix(params: dict[str, Any]) -> None:
    system = params.get("system")
    if isinstance(system, str):
        params["system"] = [{"type": "text", "text": system, "cache_control": dict(_EPHEMERAL)}]
    elif system:
        system[-1]["cache_control"] = dict(_EPHEMERAL)
    elif params.get("tools"):
        params["tools"][-1]["cache_control"] = dict(_EPHEMERAL)


def _last_user_block(messages: list[dict[str, Any]]) -> tuple[int, Block] | None:
    for position in range(len(messages) - 1, -1, -1):
        turn = messages[position]
        if turn["role"] == "user" and isinstance(turn["content"], list) and turn["content"]:
            return position, turn["content"][-1]
    return None


def _check_breakpoints(marked: list[Block]) -> None:
    if len(marked) > MAX_BREAKPOINTS:
        raise InvalidRequest(
            f"cache_control: at most {MAX_BREAKPOINTS} parts and tools may carry a cache "
            f"breakpoint; found {len(marked)}.",
            metadata={"param": "cache_control"},
        )
    ranks = [TTL_ORDER.index(c.get("ttl") or DEFAULT_TTL) for c in marked]
    if ranks != sorted(ranks):
        raise InvalidRequest(
            "cache_control: a breakpoint with ttl '1h' must come before any with ttl '5m' "
            "(tools, then system, then messages).",
            metadata={"param": "cache_control"},
        )


def _blocks(params: dict[str, Any]) -> Iterator[Block]:
    """Every block that may carry ``cache_control``, in prefix order."""
    yield from params.get("tools") or ()
    system = params.get("system")
    if isinstance(system, list):
        yield from system
    for turn in params["messages"]:
        if isinstance(turn["content"], list):
            for block in turn["content"]:
                yield block
                if block.get("type") == "tool_result" and isinstance(block.get("content"), list):
                    yield from block["content"]


def _estimate(value: Any) -> int:
    """Tokens of a part of the request, from the size of its JSON (an estimate: images
    and documents count by their encoded size)."""
    if not value:
        return 0
    return estimated_tokens(len(orjson.dumps(value)))
