"""A database that cannot be reached: the one rule for what the accounts service answers
and logs while it lasts.

Connection-level failures (the server down or restarting, refusing connections, a
connection cut under a statement, the pool timing out waiting for one) are not bugs: the
error interceptor asks :meth:`DatabaseOutage.translate` (``drafter.rpc.interceptors``) and
answers them as :class:`DatabaseUnavailable` (UNAVAILABLE, ``DATABASE_UNAVAILABLE``, with
``retry_after_s``), which the edge answers 503 with ``Retry-After``. The first failure of
an outage is logged once (a warning, no traceback); the first connection checked out of
a watched engine after it logs its end, with how long it lasted and how many calls it
refused. Anything else SQLAlchemy raises stays a bug (INTERNAL, logged with its traceback).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from grpc import StatusCode
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.common.v1 import errors_pb2
from drafter.rpc.errors import DrafterError

log = logging.getLogger("drafter.accounts.db")

# What callers are told to wait before retrying: about as long as a database restart.
RETRY_AFTER_S = 2
# SQLSTATE class 40 (serialization failure, deadlock): the transaction's, not an outage.
_TRANSACTION_ROLLBACK_CLASS = "40"


class DatabaseUnavailable(DrafterError):
    code = StatusCode.UNAVAILABLE
    reason = errors_pb2.ERROR_REASON_DATABASE_UNAVAILABLE


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def connection_failure(exc: BaseException) -> sa.exc.SQLAlchemyError | None:
    """The SQLAlchemy error in ``exc``'s chain that says the database cannot be reached,
    or None."""
    for error in _chain(exc):
        if isinstance(error, sa.exc.TimeoutError):  # the pool waited in vain
            return error
        if not isinstance(error, sa.exc.DBAPIError):
            continue
        if error.connection_invalidated:
            return error
        sqlstate = str(getattr(error.orig, "sqlstate", None) or "")
        rollback = sqlstate.startswith(_TRANSACTION_ROLLBACK_CLASS)
        if isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError) and not rollback:
            return error
    return None


def describe(error: sa.exc.SQLAlchemyError) -> str:
    """The driver's first line (no statement, no parameters)."""
    orig = getattr(error, "orig", None) or error
    lines = str(orig).strip().splitlines() or [""]
    return f"{type(orig).__name__}: {lines[0]}"


class DatabaseOutage:
    """Whether the database is out, as the service's calls found it: translates their
    failures and logs each outage's start and end once."""

    def __init__(
        self, retry_after_s: int = RETRY_AFTER_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.retry_after_s = retry_after_s
        self._clock = clock
        self._since: float | None = None
        self._refused = 0

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def translate(self, exc: Exception) -> DrafterError | None:
        """The error to answer for ``exc`` when it is a connection-level failure (the
        ``ExceptionTranslator`` of the accounts server), else None."""
        failure = connection_failure(exc)
        if failure is None:
            return None
        if self._since is None:
            self._since, self._refused = self._clock(), 0
            log.warning(
                "database unavailable (%s): answering 503 with Retry-After until it is back",
                describe(failure),
            )
        self._refused += 1
        return DatabaseUnavailable(
            "The database is temporarily unavailable; please retry.",
            metadata={"retry_after_s": str(self.retry_after_s)},
        )

    def watch(self, engine: AsyncEngine) -> None:
        """Ends an outage at the first connection ``engine`` hands out after it."""
        sa.event.listen(engine.sync_engine, "checkout", self._reachable)

    def _reachable(self, *_: Any) -> None:
        if self._since is None:
            return
        lasted = self._clock() - self._since
        self._since = None
        log.warning(
            "database reachable again after %.1f s (%d calls answered 503 meanwhile)",
            lasted,
            self._refused,
        )
