"""The usage writer's side of a database outage: its batches fail while the database
cannot be reached, and are retried (the rows stay pending, nothing is lost). That is
logged once per outage, not once per batch: a warning with the error's first line when
the first batch fails, and a line when a batch gets through again, with how long the
writes waited and how many batches failed meanwhile. A failure that is not about the
connection (a bug) is not an outage: the caller lets it raise, traceback and all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from drafter.services.accounts.db.outage import connection_failure, describe

log = logging.getLogger("drafter.accounts.usage")


class WriteOutage:
    """Whether the usage writer is waiting out an outage, and since when."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._since: float | None = None
        self._failed_batches = 0

    def failed(self, exc: BaseException, pending_rows: int) -> bool:
        """A batch failed with ``exc``: True (logged at the outage's first failure) when
        the database could not be reached, else False (not an outage)."""
        failure = connection_failure(exc)
        if failure is None:
            return False
        if self._since is None:
            self._since, self._failed_batches = self._clock(), 0
            log.warning(
                "usage records cannot be written (%s): %d rows wait and are retried "
                "until the database is back",
                describe(failure),
                pending_rows,
            )
        self._failed_batches += 1
        return True

    def written(self, rows: int) -> None:
        """A batch of ``rows`` got through: ends an outage (logged once)."""
        if self._since is None:
            return
        lasted = self._clock() - self._since
        log.info(
            "usage records written again after %.1f s (%d batches waited; %d rows written now)",
            lasted,
            self._failed_batches,
            rows,
        )
        self._since = None
