"""Usage record ids (a reservation id's nonce) are unguessable and ordered by time: each
new record goes to the end of the usage table's primary key."""

from __future__ import annotations

import base64
import string
import time

from drafter.reservations import RESERVATION_PREFIX, new_record_id, record_id_at

_URL_SAFE = set(string.ascii_letters + string.digits + "-_")
_SORTED = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_BASE64URL = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def _clock_ms(record_id: str) -> int:
    """The millisecond clock an id carries (its first 6 bytes)."""
    body = record_id.removeprefix(RESERVATION_PREFIX)
    encoded = body.translate(str.maketrans(_SORTED, _BASE64URL))
    return int.from_bytes(base64.urlsafe_b64decode(encoded + "==")[:6], "big")


def test_a_later_millisecond_sorts_later_whatever_the_random_bits() -> None:
    ms = 1_765_000_000_000
    ids = [
        record_id_at(ms, b"\xff" * 10),
        record_id_at(ms + 1, b"\x00" * 10),
        record_id_at(ms + 1, b"\x00" * 9 + b"\x01"),
        record_id_at(ms + 64, b"\x80" * 10),
        record_id_at(ms + 1_000_000_000, b"\x00" * 10),
    ]
    assert sorted(ids) == ids


def test_ids_over_years_of_milliseconds_sort_in_order() -> None:
    """Every character of the clock changes over the range (a base64url alphabet in its
    own order would sort 'z' before '0' and '_' after '-' wrongly)."""
    ms = [1_700_000_000_000 + step * 7_919_993 for step in range(4_000)]
    ids = [record_id_at(m, bytes(10)) for m in ms]
    assert sorted(ids) == ids
    assert [_clock_ms(i) for i in ids] == ms


def test_new_ids_carry_the_clock_and_are_unguessable() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_record_id() for _ in range(5_000)]
    after = time.time_ns() // 1_000_000
    assert len(set(ids)) == len(ids)
    assert all(i.startswith(RESERVATION_PREFIX) and len(i) == 26 for i in ids)
    assert all(set(i.removeprefix(RESERVATION_PREFIX)) <= _URL_SAFE for i in ids)
    assert all(before <= _clock_ms(i) <= after for i in ids)
    # 80 random bits: ids of the same millisecond differ well beyond the clock.
    assert len({i[12:] for i in ids}) == len(ids)
