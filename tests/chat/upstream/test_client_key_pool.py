"""``MessagesApi`` over a pool of keys, against the fake upstream: each attempt carries its
leased key, a 429 or 529 moves the request to another ready key within the attempt
budget, and a lease is held until the answer is closed."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import orjson
import pytest

from drafter.services.chat.upstream.client import MessagesApi
from drafter.services.chat.upstream.config import UpstreamConfig
from drafter.services.chat.upstream.exceptions import UpstreamStatusError
from drafter.services.chat.upstream.transport import UpstreamTransport
from tests.chat.upstream.test_client import PARAMS
from tests.fakes.anthropic_server import FakeAnthropic, Reply

KEYS = ("sk-ant-one-AAAA", "sk-ant-two-BBBB", "sk-ant-three-CCCC")


@pytest.fixture
async def api(fake_anthropic: FakeAnthropic) -> AsyncIterator[MessagesApi]:
    config = UpstreamConfig(base_url=fake_anthropic.base_url, api_keys=KEYS, max_retries=2)
    messages = MessagesApi(config, UpstreamTransport())
    try:
        yield messages
    finally:
        await messages.aclose()


def keys_sent(fake: FakeAnthropic) -> list[str]:
    return [r.headers["authorization"].removeprefix("Bearer ") for r in fake.requests]


async def test_each_attempt_sends_its_leased_key(
    api: MessagesApi, fake_anthropic: FakeAnthropic
) -> None:
    async with api.open(PARAMS, stream=False) as first, api.open(PARAMS, stream=True) as second:
        await first.aread()
        await second.aread()
        assert [k.in_flight for k in api.keys.keys] == [1, 1, 0]
    assert [k.in_flight for k in api.keys.keys] == [0, 0, 0]
    assert keys_sent(fake_anthropic) == [KEYS[0], KEYS[1]]
    assert all("x-api-key" not in r.headers for r in fake_anthropic.requests)


async def test_a_rate_limited_key_hands_over_at_once_within_the_budget(
    api: MessagesApi, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.key_replies[KEYS[0]] = Reply(status=429, headers={"retry-after": "30"})
    fake_anthropic.key_replies[KEYS[1]] = Reply(status=529, headers={"retry-after": "30"})
    started = time.monotonic()

    async with api.open(PARAMS, stream=False) as response:
        assert response.status_code == 200

    assert time.monotonic() - started < 1.0  # no backoff wait between keys
    assert keys_sent(fake_anthropic) == list(KEYS)
    assert [r.headers["x-stainless-retry-count"] for r in fake_anthropic.requests] == [
        "0",
        "1",
        "2",
    ]
    assert [(h.cooling, h.last_status) for h in api.key_health()] == [
        (True, 429),
        (True, 529),
        (False, 200),
    ]


async def test_when_every_key_fails_the_request_costs_three_attempts(
    api: MessagesApi, fake_anthropic: FakeAnthropic
) -> None:
    for key in KEYS[:2]:
        fake_anthropic.key_replies[key] = Reply(status=529, headers={"retry-after-ms": "5"})
    api.keys.cool_down(api.keys.keys[2], 60, 429)

    with pytest.raises(UpstreamStatusError, match="529"):
        async with api.open(PARAMS, stream=False):
            pass

    # key-1 fails; key-2 is ready: at once; then every key cools: the backoff
    # (5 ms as retry-after-ms says) and the key back first, key-1.
    assert keys_sent(fake_anthropic) == [KEYS[0], KEYS[1], KEYS[0]]
    assert all(k.in_flight == 0 for k in api.keys.keys)


async def test_the_passthrough_moves_on_and_holds_its_lease_until_closed(
    api: MessagesApi, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.key_replies[KEYS[0]] = Reply(status=429, headers={"retry-after": "30"})

    response = await api.send_once("/v1/messages", orjson.dumps(PARAMS), {})
    assert response.status_code == 200
    assert [k.in_flight for k in api.keys.keys] == [0, 1, 0]
    await response.aread()
    await response.aclose()

    assert [k.in_flight for k in api.keys.keys] == [0, 0, 0]
    assert keys_sent(fake_anthropic) == [KEYS[0], KEYS[1]]


async def test_the_passthrough_hands_over_a_429_when_no_key_is_ready(
    api: MessagesApi, fake_anthropic: FakeAnthropic
) -> None:
    for key in KEYS:
        fake_anthropic.key_replies[key] = Reply(status=429, headers={"retry-after": "30"})

    response = await api.send_once("/v1/messages", orjson.dumps(PARAMS), {})
    await response.aclose()

    assert response.status_code == 429
    assert keys_sent(fake_anthropic) == list(KEYS)  # three keys, three attempts
    assert all(k.in_flight == 0 for k in api.keys.keys)
