"""An injectable clock for services that take a ``drafter.timeutil.Clock``."""

from __future__ import annotations

import datetime as dt

# A fixed morning, so quota days and retry-after values are predictable.
START = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)


class FakeClock:
    """An injectable clock that only moves when told to."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)
