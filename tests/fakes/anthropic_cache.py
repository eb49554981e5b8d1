"""Prompt caching as the live Messages API does it, for the fake server.

Source: Anthropic's prompt caching page,
https://platform.claude.com/docs/en/build-with-claude/prompt-caching: ``cache_control``
is ``{"type": "ephemeral"}`` with an optional ``ttl`` of "5m" or "1h"; at most 4 blocks
may carry one (the live 400 is "A maximum of 4 blocks with cache_control may be
provided. Found N."); where TTLs are mixed, 1-hour entries must come before 5-minute
ones; the prefix runs tools → system → messages up to and including the marked block;
a prefix shorter than the model's minimum cacheable length is processed without caching
and without an error; a later request whose prefix up to a breakpoint matches a cached
one reads it (``cache_read_input_tokens``), and what the request writes beyond it is
``cache_creation_input_tokens``; ``input_tokens`` is what comes after the last
breakpoint (or is not cached at all).

The fake counts tokens as words (as its usage does everywhere) and keeps entries for as
long as it runs (TTLs are not timed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import orjson

MAX_BREAKPOINTS = 4
TTLS = ("5m", "1h")

Block = dict[str, Any]


def _blocks(body: dict[str, Any]) -> Iterator[tuple[str, Block, bool]]:
    """Every block that may carry ``cache_control``, with its path and whether it sits
    inside a tool result, in prefix order."""
    for i, tool in enumerate(body.get("tools") or ()):
        if isinstance(tool, dict):
            yield f"tools.{i}", tool, False
    system = body.get("system")
    for i, block in enumerate(system if isinstance(system, list) else ()):
        if isinstance(block, dict):
            yield f"system.{i}", block, False
    for i, message in enumerate(body.get("messages") or ()):
        content = message.get("content")
        for j, block in enumerate(content if isinstance(content, list) else ()):
            yield f"messages.{i}.content.{j}", block, False
            inner = block.get("content") if block.get("type") == "tool_result" else None
            for k, nested in enumerate(inner if isinstance(inner, list) else ()):
                if isinstance(nested, dict):
                    yield f"messages.{i}.content.{j}.content.{k}", nested, True


def cache_control_error(body: dict[str, Any]) -> str | None:
    """What the live API says about the request's ``cache_control`` blocks, or None."""
    ttls: list[str] = []
    for where, block, _ in _blocks(body):
        if "cache_control" not in block:
            continue
        control = block["cache_control"]
        if not isinstance(control, dict):
            return f"{where}.cache_control: Input should be a valid dictionary"
        if control.get("type") != "ephemeral":
            return f"{where}.cache_control.type: Input should be 'ephemeral'"
        ttl = control.get("ttl", "5m")
        if ttl not in TTLS:
            return f"{where}.cache_control.ephemeral.ttl: Input should be '5m' or '1h'"
        ttls.append(ttl)
    if len(ttls) > MAX_BREAKPOINTS:
        return (
            f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {len(ttls)}."
        )
    if "5m" in ttls and "1h" in ttls[ttls.index("5m") :]:
        # The fake's wording of the documented rule.
        return (
            "cache_control: a ttl='1h' cache_control block must not come after a "
            "ttl='5m' cache_control block"
        )
    return None


class PromptCache:
    """The fake's cache entries: a hash of the prefix up to a breakpoint → its tokens."""

    def __init__(self) -> None:
        self._entries: dict[str, int] = {}

    def clear(self) -> None:
        self._entries.clear()

    def account(
        self, body: dict[str, Any], model_id: str, min_tokens: int, words: Callable[[Any], int]
    ) -> tuple[int, int]:
        """(cache read tokens, cache creation tokens) of one request, recording what it
        writes; ``words`` counts a block's tokens as the fake's usage does."""
        prefix: list[Any] = []
        # A system prompt given as a string comes before every block of the messages.
        system = body.get("system")
        tokens = words(system) if isinstance(system, str) else 0
        breakpoints: list[tuple[str, int]] = []
        for _, block, nested in _blocks(body):
            bare = {k: v for k, v in block.items() if k != "cache_control"}
            prefix.append(bare)
            tokens += 0 if nested else words(bare)  # a tool result counts its content
            if "cache_control" in block:
                key = hashlib.sha256(orjson.dumps([model_id, system, prefix])).hexdigest()
                breakpoints.append((key, tokens))
        eligible = [(key, n) for key, n in breakpoints if n >= min_tokens]
        read = next((n for key, n in reversed(eligible) if key in self._entries), 0)
        written = max((n for _, n in eligible), default=0)
        for key, n in eligible:
            self._entries[key] = n
        return read, max(0, written - read)
