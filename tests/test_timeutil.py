"""drafter.timeutil: the UTC clock and the one naive→UTC rule."""

from __future__ import annotations

import datetime as dt

import pytest

from drafter.timeutil import as_utc, utc_now

UTC_NOON = dt.datetime(2025, 3, 14, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2025, 3, 14, 12, 0),  # naive: taken as UTC
        UTC_NOON,
        dt.datetime(2025, 3, 14, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.datetime(2025, 3, 14, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    ],
)
def test_as_utc_gives_the_same_instant_in_utc(value: dt.datetime) -> None:
    converted = as_utc(value)
    assert converted == UTC_NOON
    assert converted.tzinfo == dt.UTC and converted.hour == 12


def test_utc_now_is_aware_utc() -> None:
    now = utc_now()
    assert now.tzinfo == dt.UTC
    assert abs(now - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)
