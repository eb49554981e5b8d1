"""Email notifications for account events, sent in the background.

The places where events happen call one function here (``api_key_created``,
``app_connected``; for the quota warning ``quota_reserved`` at Authorize and
``quota_committed`` at Settle, see ``quota_warnings``: it fires for committed usage
only); it only schedules a task, so the RPC that triggered it never waits on, or fails
because of, the mail server. The task checks the user's preference, claims quota
warnings once per user, kind and day, and sends with bounded retries (or logs the mail
when no ``DRAFTER_SMTP_URL`` is set).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.notifications import prefs as notification_prefs
from drafter.services.accounts.notifications.mailer import Mailer
from drafter.services.accounts.notifications.quota_warnings import (
    QuotaWatch,
    WrittenWait,
    at_warning,
    committed_units,
    warning_text,
)

log = logging.getLogger("drafter.accounts.notifications")

SEND_ATTEMPTS = 3
RETRY_BACKOFF_S = 0.5
DRAIN_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification: the preference it obeys, the mail, and an optional once-a-day key."""

    user_id: str
    pref: str
    subject: str
    body: str
    once_key: str = ""
    day: dt.date | None = None


class Notifier:
    """Runs notification tasks; ``close`` waits a little for the pending ones."""

    def __init__(self, *, engine: AsyncEngine, mailer: Mailer, backoff_s: float = 0) -> None:
        self._engine = engine
        self._mailer = mailer
        self._backoff_s = backoff_s or RETRY_BACKOFF_S
        self._tasks: set[asyncio.Task[None]] = set()
        self.quota = QuotaWatch()

    def submit(self, event: Notification) -> None:
        self._spawn(self._deliver_checked(event), event.pref, event.user_id)

    def _spawn(self, work: Coroutine[Any, Any, None], what: str, user_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self._logged(work, what, user_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _logged(work: Coroutine[Any, Any, None], what: str, user_id: str) -> None:
        try:
            await work
        except Exception:  # a background task: log, never raise into the loop
            log.warning("notification %s for %s failed", what, user_id, exc_info=True)

    def check_quota(
        self, *, user_id: str, kind: str, day: dt.date, limit: int, written: WrittenWait
    ) -> None:
        """Once the settled record is written, warns when the day's committed units
        reached the threshold (``quota_warnings``)."""
        self._spawn(self._check_quota(user_id, kind, day, limit, written), "quota", user_id)

    async def _check_quota(
        self, user_id: str, kind: str, day: dt.date, limit: int, written: WrittenWait
    ) -> None:
        await written()
        used = await committed_units(self._engine, user_id, kind, day)
        if not at_warning(used=used, limit=limit):
            return
        subject, body = warning_text(kind=kind, used=used, limit=limit)
        once = f"quota_warning:{kind}"
        await self._deliver_checked(
            Notification(user_id, "quota_warning", subject, body, once, day)
        )
        self.quota.warned((user_id, kind, day))

    async def _deliver_checked(self, event: Notification) -> None:
        engine = self._engine
        prefs = await notification_prefs.get_prefs(engine=engine, user_id=event.user_id)
        if not prefs.allows(event.pref):
            return
        if event.once_key and event.day is not None:
            claimed = await notification_prefs.claim_once(
                engine=engine, user_id=event.user_id, kind=event.once_key, day=event.day
            )
            if not claimed:
                return
        email = await notification_prefs.email_of(engine=engine, user_id=event.user_id)
        if email:
            await self._send(self._mailer.message(email, event.subject, event.body))

    async def _send(self, message: EmailMessage) -> None:
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                await self._mailer.send(message)
                return
            except Exception as exc:
                if attempt == SEND_ATTEMPTS:
                    to = message["To"]
                    log.warning("mail to %s not sent after %d tries: %s", to, attempt, exc)
                    return
                await asyncio.sleep(self._backoff_s * 2 ** (attempt - 1))

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=DRAIN_TIMEOUT_S)
        for task in set(self._tasks):
            task.cancel()


def api_key_created(notifier: Notifier | None, *, user_id: str, name: str, prefix: str) -> None:
    if notifier is None:
        return
    body = (
        f"A new API key was created on your Drafter account.\n\nName: {name}\n"
        f"Starts with: {prefix}\n\nIf this wasn't you, revoke it in your dashboard."
    )
    notifier.submit(Notification(user_id, "api_key_created", "New API key created", body))


def app_connected(notifier: Notifier | None, *, user_id: str, app_name: str) -> None:
    if notifier is None:
        return
    body = (
        f"The application “{app_name}” was connected to your Drafter account.\n\n"
        "If this wasn't you, disconnect it in your dashboard."
    )
    notifier.submit(Notification(user_id, "app_connected", f"New app connected: {app_name}", body))


def quota_reserved(
    notifier: Notifier | None, *, user_id: str, kind: str, used: int, limit: int, day: dt.date
) -> None:
    """Called after every admitted reservation (``used``: the counter, this one
    included); watches a user who may be near the threshold. Sends nothing itself."""
    if notifier is not None:
        notifier.quota.reserved((user_id, kind, day), used=used, limit=limit)


def quota_committed(
    notifier: Notifier | None, *, user_id: str, kind: str, day: dt.date, written: WrittenWait
) -> None:
    """Called after a reservation was settled as used (``written`` waits until its record
    is in the database); a watched user's committed units are checked in the background,
    and the warning sent once a day per kind when they reach the threshold."""
    if notifier is None:
        return
    limit = notifier.quota.limit_of((user_id, kind, day))
    if limit is not None:
        notifier.check_quota(user_id=user_id, kind=kind, day=day, limit=limit, written=written)
