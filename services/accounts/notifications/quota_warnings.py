"""The daily quota warning: sent once per user, kind and day when the units COMMITTED
(usage records settled as used: ``succeeded`` or ``abandoned``) reach 80 % of the
limit; never for units only reserved, which a failed or cancelled request gives back.

Two steps, so that the hot path reads nothing more:

* at Authorize (``reserved``), the quota counter (reserved plus committed units) tells
  whether the user may be near the threshold; only then is (user, kind, day) watched,
  with its limit, in memory;
* at the settlement of a used reservation of a watched user (``committed``), a
  background check sums the day's committed units (the ``ix_usage_records_user_day``
  index) once the record is written, and at or past the threshold hands the warning
  to the notifier, which claims it once a day (``prefs.claim_once``) and obeys the
  user's preference.

A process that restarts watches again from the next Authorize; a settlement that
lands on another accounts replica than its Authorize is checked there from that
replica's next Authorize of the user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.db.tables import usage_records_t as records
from drafter.services.accounts.vocab import Outcome, UsageKind

WARNING_SHARE = 0.8
# Users watched (or already warned) at once, at most; beyond, the memory starts over.
MAX_WATCHED = 100_000
KIND_LABELS: dict[str, str] = {
    UsageKind.CHAT: "chat",
    UsageKind.IMAGE_GEN: "image generation",
    UsageKind.IMAGE_EDIT: "image editing",
}
COMMITTED = (Outcome.SUCCEEDED.value, Outcome.ABANDONED.value)

Watch = tuple[str, str, dt.date]


def at_warning(*, used: int, limit: int) -> bool:
    """True when ``used`` units are at or past 80 % of ``limit``."""
    return limit > 0 and used >= limit * WARNING_SHARE


async def committed_units(engine: AsyncEngine, user_id: str, kind: str, day: dt.date) -> int:
    """Units of ``day`` and ``kind`` settled as used."""
    stmt = sa.select(sa.func.coalesce(sa.func.sum(records.c.units), 0)).where(
        records.c.user_id == user_id,
        records.c.quota_day == day,
        records.c.kind == kind,
        records.c.status.in_(COMMITTED),
    )
    async with engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


def warning_text(*, kind: str, used: int, limit: int) -> tuple[str, str]:
    """The warning's subject and body."""
    label = KIND_LABELS.get(kind, kind)
    body = (
        f"You have used {used} of your {limit} daily {label} requests.\n\n"
        "The quota resets at midnight UTC; upgrade your plan for higher limits."
    )
    return f"80% of your daily {label} quota used", body


class QuotaWatch:
    """Who may be near their threshold (watched, with the limit), and who was warned."""

    def __init__(self) -> None:
        self._watched: dict[Watch, int] = {}
        self._warned: set[Watch] = set()

    def reserved(self, key: Watch, *, used: int, limit: int) -> None:
        """After an admitted reservation: ``used`` is the counter, this one included."""
        if key in self._warned or not at_warning(used=used, limit=limit):
            return
        if len(self._watched) >= MAX_WATCHED:
            self._watched.clear()
        self._watched[key] = limit

    def limit_of(self, key: Watch) -> int | None:
        """The limit of a watched user, or None (not watched: nothing to check)."""
        return self._watched.get(key)

    def warned(self, key: Watch) -> None:
        self._watched.pop(key, None)
        if len(self._warned) >= MAX_WATCHED:
            self._warned.clear()
        self._warned.add(key)


WrittenWait = Callable[[], Awaitable[None]]
