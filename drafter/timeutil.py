"""Time in UTC: the clock services inject (``Clock``, ``utc_now``) and the one
naive→UTC rule (``as_utc``).

Every stored or compared time is an aware UTC ``datetime``. A naive value can only come
from a database driver (SQLite keeps no offset); the accounts service's column type
(``services.accounts.db.types.UTCDateTime``) applies ``as_utc`` at that boundary, so
domain code never checks ``tzinfo``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

# What services take instead of calling ``utc_now`` themselves, so tests can move time.
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC: a naive value is taken to be UTC already, an aware one is
    converted."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
