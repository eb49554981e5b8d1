"""Deletes the stored responses whose retention (``DRAFTER_RESPONSES_RETENTION_DAYS``,
30 days by default, as OpenAI keeps them) is over: at start, then hourly. Until then
they are already answered as missing (``store``); the sweep frees their rows."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.responses.store import delete_expired
from drafter.tasks import Periodic
from drafter.timeutil import Clock, utc_now

log = logging.getLogger("drafter.accounts.responses")

SWEEP_INTERVAL_S = 3600.0


class RetentionSweep:
    """Runs :func:`delete_expired` at start and every ``interval_s`` until stopped."""

    def __init__(
        self, engine: AsyncEngine, *, interval_s: float = SWEEP_INTERVAL_S, clock: Clock = utc_now
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._sweeps = Periodic(
            "deleting expired stored responses", self.sweep_once, interval_s, logger=log
        )

    def start(self) -> None:
        self._sweeps.start()

    async def stop(self) -> None:
        await self._sweeps.stop()

    async def sweep_once(self) -> int:
        deleted = await delete_expired(self._engine, self._clock())
        if deleted:
            log.info("deleted %d expired stored responses", deleted)
        return deleted
