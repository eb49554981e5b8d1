"""The thinking stores: in process (TTL + LRU) and in the real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from drafter.services.chat.thinking_store import (
    REDIS_PREFIX,
    MemoryThinkingStore,
    RedisThinkingStore,
    ThinkingStore,
    build_thinking_store,
)

REDIS_URL = "redis://127.0.0.1:6379/0"
BLOCKS = [{"type": "thinking", "thinking": "plan", "signature": "sig"}]


@pytest.fixture
async def redis_store() -> AsyncIterator[RedisThinkingStore]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except redis.ConnectionError:
        await client.aclose()
        pytest.fail("no Redis on 127.0.0.1:6379: scripts/test.sh starts it")
    store = RedisThinkingStore(client, ttl_s=0.3)
    yield store
    await store.close()


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> ThinkingStore:
    if request.param == "memory":
        return MemoryThinkingStore(ttl_s=0.3, max_entries=100)
    return request.getfixturevalue("redis_store")


def ids(*names: str) -> list[str]:
    run = uuid.uuid4().hex  # tests share the Redis database: unique ids
    return [f"toolu_{run}_{name}" for name in names]


async def test_blocks_are_found_by_any_of_the_turns_ids(store: ThinkingStore) -> None:
    a, b, other = ids("a", "b", "other")
    await store.put([a, b], BLOCKS)

    assert await store.get([b, other]) == {b: BLOCKS}
    assert await store.get([a]) == {a: BLOCKS}
    assert await store.get([other]) == {}


async def test_blocks_expire(store: ThinkingStore) -> None:
    (a,) = ids("a")
    await store.put([a], BLOCKS)
    await asyncio.sleep(0.4)

    assert await store.get([a]) == {}


async def test_the_memory_store_forgets_the_oldest_beyond_its_size() -> None:
    store = MemoryThinkingStore(ttl_s=60, max_entries=2)
    for name in ("a", "b", "c"):
        await store.put([name], BLOCKS)

    assert set(await store.get(["a", "b", "c"])) == {"b", "c"}


async def test_the_redis_store_sets_a_ttl(redis_store: RedisThinkingStore) -> None:
    (a,) = ids("a")
    await redis_store.put([a], BLOCKS)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert 0 < await client.pttl(REDIS_PREFIX + a) <= 300
    finally:
        await client.aclose()


def test_redis_url_chooses_the_store() -> None:
    assert isinstance(build_thinking_store(None, ttl_s=1, max_entries=1), MemoryThinkingStore)
    assert isinstance(build_thinking_store(REDIS_URL, ttl_s=1, max_entries=1), RedisThinkingStore)
