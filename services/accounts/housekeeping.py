"""Deletes rows whose time is over, once an hour: web sessions that ended or expired,
OAuth codes a day after they expired (kept that long so a replayed code is still
recognised and revokes the tokens issued from it), and e-mail cooldowns that ran out.
Nothing else reads these rows once they are over; without this sweep they would pile up
for ever."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.db.tables import cooldowns_t
from drafter.services.accounts.db.tables import oauth_codes_t as codes
from drafter.services.accounts.db.tables import web_sessions_t as sessions
from drafter.tasks import Periodic
from drafter.timeutil import Clock, utc_now

log = logging.getLogger("drafter.accounts.housekeeping")

SWEEP_INTERVAL_S = 3600.0
CODE_KEPT_AFTER_EXPIRY = dt.timedelta(days=1)


async def sweep(engine: AsyncEngine, now: dt.datetime) -> dict[str, int]:
    """Deletes what is over at ``now``; returns how many rows of each kind went."""
    statements = {
        "sessions": sa.delete(sessions).where(
            (sessions.c.expires_at < now) | (sessions.c.ended_at < now)
        ),
        "oauth codes": sa.delete(codes).where(codes.c.expires_at < now - CODE_KEPT_AFTER_EXPIRY),
        "e-mail cooldowns": sa.delete(cooldowns_t).where(cooldowns_t.c.until < now),
    }
    async with engine.begin() as conn:
        return {name: (await conn.execute(stmt)).rowcount for name, stmt in statements.items()}


class Housekeeper:
    """Runs :func:`sweep` at start and every ``interval_s`` until stopped."""

    def __init__(
        self, engine: AsyncEngine, *, interval_s: float = SWEEP_INTERVAL_S, clock: Clock = utc_now
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._sweeps = Periodic("housekeeping", self.sweep_once, interval_s, logger=log)

    def start(self) -> None:
        self._sweeps.start()

    async def stop(self) -> None:
        await self._sweeps.stop()

    async def sweep_once(self) -> None:
        deleted = await sweep(self._engine, self._clock())
        if any(deleted.values()):
            log.info("housekeeping deleted %s", deleted)
