"""Signed thinking blocks kept across tool loops, keyed by tool-call ids.

OpenAI clients (the stock SDK included) drop fields they do not know, so the thinking
blocks of an assistant turn that called tools never come back with the tool results;
the upstream wants them back in front of that turn while thinking is on. The chat
service keeps them here when the turn ends and restores them when a request carries
the same tool-call ids. In process by default (TTL + LRU); in Redis when ``REDIS_URL``
is set, so several chat processes share them.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import orjson

if TYPE_CHECKING:  # redis-py (about 8 MB) is imported only when a Redis URL is set
    import redis.asyncio as redis

log = logging.getLogger("drafter.chat")

Blocks = list[dict[str, Any]]
REDIS_PREFIX = "drafter:chat:thinking:"


class ThinkingStore(Protocol):
    """Where the thinking blocks of tool-calling turns wait for the next request."""

    async def put(self, tool_call_ids: Sequence[str], blocks: Blocks) -> None:
        """Keeps ``blocks`` under each of ``tool_call_ids``."""
        ...

    async def get(self, tool_call_ids: Sequence[str]) -> dict[str, Blocks]:
        """The blocks kept under any of ``tool_call_ids`` (ids without any are left out)."""
        ...

    async def close(self) -> None: ...


class MemoryThinkingStore:
    """In-process: entries expire after ``ttl_s`` and the oldest go beyond ``max_entries``."""

    def __init__(self, *, ttl_s: float, max_entries: int) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, Blocks]] = OrderedDict()

    async def put(self, tool_call_ids: Sequence[str], blocks: Blocks) -> None:
        expires = time.monotonic() + self._ttl_s
        for call_id in tool_call_ids:
            self._entries[call_id] = (expires, blocks)
            self._entries.move_to_end(call_id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def get(self, tool_call_ids: Sequence[str]) -> dict[str, Blocks]:
        now = time.monotonic()
        found: dict[str, Blocks] = {}
        for call_id in tool_call_ids:
            entry = self._entries.get(call_id)
            if entry is None:
                continue
            if entry[0] < now:
                del self._entries[call_id]
            else:
                found[call_id] = entry[1]
        return found

    async def close(self) -> None:
        self._entries.clear()


class RedisThinkingStore:
    """In Redis, one key per tool-call id with the blocks as JSON and a TTL."""

    def __init__(self, client: redis.Redis, *, ttl_s: float) -> None:
        self._client = client
        self._ttl_ms = max(1, int(ttl_s * 1000))

    async def put(self, tool_call_ids: Sequence[str], blocks: Blocks) -> None:
        payload = orjson.dumps(blocks)
        async with self._client.pipeline(transaction=False) as pipe:
            for call_id in tool_call_ids:
                pipe.set(REDIS_PREFIX + call_id, payload, px=self._ttl_ms)
            await pipe.execute()

    async def get(self, tool_call_ids: Sequence[str]) -> dict[str, Blocks]:
        values = await self._client.mget([REDIS_PREFIX + i for i in tool_call_ids])
        return {i: orjson.loads(v) for i, v in zip(tool_call_ids, values, strict=True) if v}

    async def close(self) -> None:
        await self._client.aclose()


def build_thinking_store(
    redis_url: str | None, *, ttl_s: float, max_entries: int
) -> MemoryThinkingStore | RedisThinkingStore:
    """The Redis store when ``redis_url`` is set, else the in-process one."""
    if redis_url:
        import redis.asyncio as redis  # (see the import above)

        return RedisThinkingStore(redis.Redis.from_url(redis_url), ttl_s=ttl_s)
    return MemoryThinkingStore(ttl_s=ttl_s, max_entries=max_entries)


async def put_quietly(store: ThinkingStore, tool_call_ids: Sequence[str], blocks: Blocks) -> None:
    """Keeping thinking is best effort: a store failure must not fail the answer."""
    try:
        await store.put(tool_call_ids, blocks)
    except Exception:
        log.warning("could not keep thinking blocks for %d tool calls", len(tool_call_ids))


async def get_quietly(store: ThinkingStore, tool_call_ids: Sequence[str]) -> dict[str, Blocks]:
    """Kept thinking, or none when the store fails (the upstream then says what is missing)."""
    try:
        return await store.get(tool_call_ids)
    except Exception:
        log.warning("could not read kept thinking blocks for %d tool calls", len(tool_call_ids))
        return {}
