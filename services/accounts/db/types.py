"""Column types shared by the accounts tables.

``UTCDateTime`` is every timestamp column: ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL (the
type the migrations create), SQLite's text timestamps there. Values go in and come out as
aware UTC datetimes on both (``drafter.timeutil.as_utc``): SQLite keeps no offset, and
PostgreSQL answers in the session's time zone, so without it callers would have to fix
up each value they read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from drafter.timeutil import as_utc


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """``DateTime(timezone=True)`` that reads and writes aware UTC datetimes."""

    impl = sa.DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: Any, dialect: Any) -> dt.datetime | None:
        return None if value is None else as_utc(value)
