"""What the accounts service holds about usage, read from outside, for the fault tests:
the usage records (SQLite or PostgreSQL) and the day's quota counter (the SQL table, or
the Redis key when the service counts in Redis)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import redis
import sqlalchemy as sa

from drafter.services.accounts.db.engine import sync_url
from drafter.services.accounts.quota.redis import counter_key


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class Ledger:
    """Reads of one accounts database (``database_url``) and, with ``redis_url``, its
    Redis counters."""

    database_url: str
    redis_url: str | None = None

    def _rows(self, query: str, **params: object) -> list[sa.Row[tuple[object, ...]]]:
        engine = sa.create_engine(sync_url(self.database_url), poolclass=sa.NullPool)
        try:
            with engine.connect() as conn:
                return list(conn.execute(sa.text(query), params).all())
        finally:
            engine.dispose()

    def records(self, kind: str = "chat") -> dict[str, tuple[int, int]]:
        """Usage records of ``kind`` per status: (how many, units)."""
        found = self._rows(
            "SELECT status, count(*), coalesce(sum(units), 0) FROM usage_records "
            "WHERE kind = :kind GROUP BY status",
            kind=kind,
        )
        return {str(r[0]): (int(str(r[1])), int(str(r[2]))) for r in found}

    def record_ids(self, kind: str = "chat") -> set[str]:
        return {
            str(r[0])
            for r in self._rows("SELECT id FROM usage_records WHERE kind = :kind", kind=kind)
        }

    def user_id(self, email: str) -> str:
        [(found,)] = self._rows("SELECT id FROM users WHERE email = :email", email=email)
        return str(found)

    def counter(self, user_id: str, kind: str = "chat") -> int:
        """Today's quota counter of ``user_id`` (0 when there is none)."""
        if self.redis_url is not None:
            client = redis.Redis.from_url(self.redis_url)
            try:
                value = client.get(counter_key(user_id, kind, today()))
            finally:
                client.close()
            return int(value or 0)
        found = self._rows(
            "SELECT used FROM quota_counters WHERE user_id = :user AND kind = :kind AND day = :day",
            user=user_id,
            kind=kind,
            day=today(),
        )
        return int(str(found[0][0])) if found else 0


def record_id(reservation_id: str) -> str:
    """The usage record's id inside a signed reservation id (``rsv_<nonce>.…``)."""
    return reservation_id.split(".", 1)[0]
