"""The accounts service's background work, started with the service and stopped with it:
the status prober (every ``DRAFTER_STATUS_PROBE_INTERVAL_S``), the housekeeper (hourly)
and the notifier (mail sent off the request path). The usage log's writer is started
with the stores (``main.build_stores``). Each periodic loop is a ``drafter.tasks.Periodic``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.rpc.internal_auth import InternalAuth
from drafter.services.accounts.housekeeping import Housekeeper
from drafter.services.accounts.notifications.mailer import Mailer
from drafter.services.accounts.notifications.notifier import Notifier
from drafter.services.accounts.settings import AccountsSettings
from drafter.services.accounts.status.probes import Dependencies, Prober
from drafter.timeutil import Clock, utc_now

if TYPE_CHECKING:
    from redis.asyncio import Redis  # imported only when REDIS_URL is set (``main``)


@dataclass(frozen=True)
class Background:
    """What the background work offers the servicers: the notifier (Authorize, key and
    app events), the live dependency checks and the probe interval (StatusService)."""

    notifier: Notifier
    dependencies: Dependencies
    probe_interval_s: float


def start_background(
    settings: AccountsSettings,
    *,
    engine: AsyncEngine,
    redis: Redis | None,
    cleanups: contextlib.AsyncExitStack,
    auth: InternalAuth,
    clock: Clock = utc_now,
) -> Background:
    """Starts the prober, the notifier and the housekeeper; ``cleanups`` stops them."""
    mailer = Mailer(settings.smtp_url, settings.mail_from)
    dependencies = Dependencies(engine, redis, mailer)
    interval = settings.status_probe_interval_s
    peers = {"chat": settings.chat_addr, "images": settings.images_addr}
    prober = Prober(
        engine=engine,
        dependencies=dependencies,
        peers=peers,
        auth=auth,
        interval_s=interval,
        clock=clock,
    )
    notifier = Notifier(engine=engine, mailer=mailer)
    housekeeper = Housekeeper(engine, clock=clock)
    prober.start()
    housekeeper.start()
    for stop in (notifier.close, prober.stop, housekeeper.stop):
        cleanups.push_async_callback(stop)
    return Background(notifier, dependencies, interval)
