"""The accounts service's background work and the services that go with it: the status
prober (StatusService), the notifier (NotificationsService) and the housekeeper that
deletes expired rows, built from the settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.rpc.server import Registration
from services.accounts.housekeeping import Housekeeper
from services.accounts.mailer import Mailer
from services.accounts.notifications import Notifier
from services.accounts.notifications_servicer import notifications_registration
from services.accounts.quota import Clock, utc_now
from services.accounts.settings import AccountsSettings
from services.accounts.status_probes import Dependencies, Prober
from services.accounts.status_servicer import status_registration


@dataclass(frozen=True)
class Background:
    notifier: Notifier
    prober: Prober
    registrations: list[Registration]


def start_background(
    settings: AccountsSettings,
    *,
    engine: AsyncEngine,
    redis: Redis | None,
    cleanups: list[Callable[[], Awaitable[None]]],
    clock: Clock = utc_now,
) -> Background:
    """Starts the prober, the notifier and the housekeeper (stopped by ``cleanups``) and
    returns them with the StatusService and NotificationsService registrations."""
    mailer = Mailer(settings.smtp_url, settings.mail_from)
    dependencies = Dependencies(engine, redis, mailer)
    interval = settings.status_probe_interval_s
    peers = {"chat": settings.chat_addr, "images": settings.images_addr}
    prober = Prober(
        engine=engine, dependencies=dependencies, peers=peers, interval_s=interval, clock=clock
    )
    notifier = Notifier(engine=engine, mailer=mailer)
    housekeeper = Housekeeper(engine, clock=clock)
    prober.start()
    housekeeper.start()
    cleanups.extend((notifier.close, prober.stop, housekeeper.stop))
    registrations = [
        status_registration(
            engine=engine, dependencies=dependencies, interval_s=interval, clock=clock
        ),
        notifications_registration(engine=engine, clock=clock),
    ]
    return Background(notifier, prober, registrations)
