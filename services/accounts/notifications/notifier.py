"""Email notifications for account events, sent in the background.

The places where events happen call one function here (``api_key_created``,
``app_connected``, ``quota_reserved``); it only schedules a task, so the RPC that
triggered it never waits on, or fails because of, the mail server. The task checks the
user's preference, claims quota warnings once per user, kind and day, and sends with
bounded retries (or logs the mail when no ``DRAFTER_SMTP_URL`` is set).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.notifications import prefs as notification_prefs
from drafter.services.accounts.notifications.mailer import Mailer
from drafter.services.accounts.vocab import UsageKind

log = logging.getLogger("drafter.accounts.notifications")

SEND_ATTEMPTS = 3
RETRY_BACKOFF_S = 0.5
DRAIN_TIMEOUT_S = 5.0
WARNING_SHARE = 0.8
KIND_LABELS: dict[str, str] = {
    UsageKind.CHAT: "chat",
    UsageKind.IMAGE_GEN: "image generation",
    UsageKind.IMAGE_EDIT: "image editing",
}


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

    def submit(self, event: Notification) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, event: Notification) -> None:
        try:
            await self._deliver_checked(event)
        except Exception:  # a background task: log, never raise into the loop
            log.warning("notification %s for %s failed", event.pref, event.user_id, exc_info=True)

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


def crosses_warning(*, used: int, units: int, limit: int) -> bool:
    """True when a reservation moved the counter from below 80 % of ``limit`` to at or above."""
    threshold = limit * WARNING_SHARE
    return limit > 0 and used - units < threshold <= used


def quota_reserved(
    notifier: Notifier | None,
    *,
    user_id: str,
    kind: str,
    used: int,
    units: int,
    limit: int,
    day: dt.date,
) -> None:
    """Called after every admitted reservation; sends a warning once a day per kind."""
    if notifier is None or not crosses_warning(used=used, units=units, limit=limit):
        return
    label = KIND_LABELS.get(kind, kind)
    body = (
        f"You have used {used} of your {limit} daily {label} requests.\n\n"
        "The quota resets at midnight UTC; upgrade your plan for higher limits."
    )
    subject = f"80% of your daily {label} quota used"
    notifier.submit(
        Notification(user_id, "quota_warning", subject, body, f"quota_warning:{kind}", day)
    )
