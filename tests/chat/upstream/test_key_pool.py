"""The upstream key pool (``services.chat.upstream.key_pool``) on a hand-driven clock."""

from __future__ import annotations

import pytest

from drafter.services.chat.upstream.key_pool import (
    KeyPool,
    fingerprint,
    retry_after_s,
    upstream_keys_response,
)

SECRETS = ("sk-ant-first-0001", "sk-ant-second-0002", "sk-ant-third-0003")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def pool(clock: Clock) -> KeyPool:
    return KeyPool(SECRETS, clock=clock)


def test_keys_are_labelled_in_order_and_fingerprinted_without_their_text(pool: KeyPool) -> None:
    assert [k.label for k in pool.keys] == ["key-1", "key-2", "key-3"]
    for key, secret in zip(pool.keys, SECRETS, strict=True):
        assert key.fingerprint == fingerprint(secret)
        assert secret[-4:] not in key.fingerprint and secret not in repr(key)
    assert len({k.fingerprint for k in pool.keys}) == 3


def test_leases_spread_over_idle_keys_least_recently_used_first(pool: KeyPool) -> None:
    first = [pool.lease() for _ in range(3)]
    assert [lease.key.label for lease in first] == ["key-1", "key-2", "key-3"]
    for lease in first:
        lease.release()
    # All idle again: the tie goes to the one used least recently, in turn.
    assert [pool.lease().key.label for _ in range(3)] == ["key-1", "key-2", "key-3"]


def test_the_least_in_flight_key_is_leased(pool: KeyPool) -> None:
    held = [pool.lease() for _ in range(3)]  # one each
    held.append(pool.lease())  # key-1 has 2 now
    held[1].release()  # key-2 has 0
    assert pool.lease().key.label == "key-2"
    assert pool.lease().key.label == "key-3"  # key-2 and key-3 at 1: key-3 leased longer ago
    assert [k.in_flight for k in pool.keys] == [2, 1, 2]


def test_a_lease_is_released_once(pool: KeyPool) -> None:
    lease = pool.lease()
    lease.release()
    lease.release()
    assert pool.keys[0].in_flight == 0
    assert pool.keys[0].requests == 1


def test_a_cooling_key_is_skipped_until_its_time_is_up(pool: KeyPool, clock: Clock) -> None:
    assert pool.record(pool.keys[0], 429, {"retry-after": "20"})
    assert [pool.lease().key.label for _ in range(4)] == ["key-2", "key-3", "key-2", "key-3"]
    clock.now += 20.5
    assert not pool.health()[0].cooling
    assert pool.lease().key.label == "key-1"


def test_when_every_key_cools_the_one_back_first_is_leased(pool: KeyPool) -> None:
    pool.cool_down(pool.keys[0], 30, 429)
    pool.cool_down(pool.keys[1], 2, 529)
    pool.cool_down(pool.keys[2], 10, 429)
    assert not pool.has_ready_key()
    assert pool.lease().key.label == "key-2"


def test_cooling_defaults_and_never_shortens(pool: KeyPool, clock: Clock) -> None:
    first, second = pool.keys[0], pool.keys[1]
    pool.record(first, 429, {})
    pool.record(second, 529, {})
    assert first.cooling_until == clock.now + 30
    assert second.cooling_until == clock.now + 5
    pool.record(first, 429, {"retry-after-ms": "100"})
    assert first.cooling_until == clock.now + 30
    assert (first.rate_limited, second.overloaded) == (2, 1)


def test_other_statuses_are_recorded_without_cooling(pool: KeyPool) -> None:
    key = pool.keys[0]
    assert not pool.record(key, 500, {"retry-after": "9"})
    assert not pool.record(key, 200, {})
    assert key.last_status == 200 and key.cooling_until == 0.0
    assert pool.has_ready_key()


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),
        ({"retry-after": "-1"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_as_the_sdk_reads_it(
    headers: dict[str, str], seconds: float | None
) -> None:
    assert retry_after_s(headers) == seconds


def test_health_and_its_proto_carry_no_key(pool: KeyPool, clock: Clock) -> None:
    held = pool.lease()
    pool.record(held.key, 429, {"retry-after": "12"})
    response = upstream_keys_response(pool.health(), wall_clock=lambda: 1_800_000_000.0)

    first = response.keys[0]
    assert (first.label, first.in_flight, first.cooling, first.requests) == ("key-1", 1, True, 1)
    assert (first.rate_limited, first.last_status) == (1, 429)
    assert first.cooling_until.seconds == 1_800_000_012
    assert not response.keys[1].cooling and not response.keys[1].HasField("cooling_until")
    serialized = response.SerializeToString()
    assert not any(secret[-4:].encode() in serialized for secret in SECRETS)


def test_an_empty_pool_refuses_to_lease() -> None:
    with pytest.raises(LookupError):
        KeyPool([]).lease()


def test_a_key_that_rests_zero_seconds_is_not_another_key(pool: KeyPool) -> None:
    first = pool.keys[0]
    pool.cool_down(pool.keys[1], 30, 429)
    pool.cool_down(pool.keys[2], 30, 429)
    pool.record(first, 529, {"retry-after": "0"})  # ready again at once, but the same key
    assert pool.has_ready_key()
    assert not pool.has_ready_key(other_than=first)
