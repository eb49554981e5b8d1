"""Probes of every component the status page shows, and the background task that runs
them every ``DRAFTER_STATUS_PROBE_INTERVAL_S`` seconds and records the results.

The accounts service is the prober because it holds the database the history lives
in: chat and images are checked over grpc.health.v1 at ``DRAFTER_CHAT_ADDR`` /
``DRAFTER_IMAGES_ADDR``, the database with ``SELECT 1``, Redis with PING, the mail
server with an SMTP NOOP. ``accounts`` itself is up whenever a round runs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.rpc.channels import open_channel
from drafter.rpc.healthcheck import PROBE_TIMEOUT_S
from drafter.rpc.internal_auth import InternalAuth
from drafter.services.accounts.db import engine as db
from drafter.services.accounts.notifications.mailer import Mailer
from drafter.services.accounts.status import history as status_history
from drafter.services.accounts.status.history import Check
from drafter.tasks import Periodic
from drafter.timeutil import Clock, utc_now

if TYPE_CHECKING:
    from redis.asyncio import Redis  # imported only when REDIS_URL is set (``main``)

log = logging.getLogger("drafter.accounts.status")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


async def timed(name: str, probe: Callable[[], Awaitable[str]]) -> Check:
    """Runs ``probe`` (returns a detail, raises when down) under the probe timeout."""
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(probe(), PROBE_TIMEOUT_S)
    except Exception as exc:
        return Check(name, False, _ms(started), type(exc).__name__)
    return Check(name, True, _ms(started), detail)


async def check_grpc(name: str, health: health_pb2_grpc.HealthStub) -> Check:
    async def probe() -> str:
        request = health_pb2.HealthCheckRequest(service="")
        response = await health.Check(request, timeout=PROBE_TIMEOUT_S)
        if response.status != health_pb2.HealthCheckResponse.SERVING:
            raise RuntimeError("not serving")
        return "SERVING"

    return await timed(name, probe)


async def check_database(engine: AsyncEngine) -> Check:
    async def probe() -> str:
        await db.ping(engine)
        return engine.dialect.name

    return await timed("database", probe)


async def check_redis(redis: Redis) -> Check:
    async def probe() -> str:
        await redis.ping()
        return "redis"

    return await timed("redis", probe)


async def check_mail(mailer: Mailer) -> Check:
    up, latency, detail = await mailer.check()
    return Check("mail", up, round(latency, 2), detail)


class Dependencies:
    """What the accounts service checks itself: the database, Redis and mail when set."""

    def __init__(self, engine: AsyncEngine, redis: Redis | None, mailer: Mailer) -> None:
        self._engine, self._redis, self._mailer = engine, redis, mailer

    async def check(self) -> list[Check]:
        probes = [check_database(self._engine)]
        if self._redis is not None:
            probes.append(check_redis(self._redis))
        if self._mailer.configured:
            probes.append(check_mail(self._mailer))
        return list(await asyncio.gather(*probes))


class Prober:
    """Probes every component each ``interval_s`` and records the round."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        dependencies: Dependencies,
        peers: dict[str, str],
        auth: InternalAuth,
        interval_s: float,
        clock: Clock = utc_now,
    ) -> None:
        self._engine, self._dependencies = engine, dependencies
        self._channels: dict[str, aio.Channel] = {
            n: open_channel(a, auth) for n, a in peers.items()
        }
        self._clock = clock
        # The prober must outlive a failing database: a failed round is logged, that's all.
        self._rounds = Periodic("status probe round", self.probe_once, interval_s, logger=log)

    async def probe_once(self) -> list[Check]:
        peers = [
            check_grpc(name, health_pb2_grpc.HealthStub(channel))
            for name, channel in self._channels.items()
        ]
        dependencies = asyncio.ensure_future(self._dependencies.check())
        peer_checks = await asyncio.gather(*peers)
        checks = [Check("accounts", True, 0.0, "prober"), *await dependencies, *peer_checks]
        await status_history.record(self._engine, checks, self._clock())
        return checks

    def start(self) -> None:
        """Probes now, then every ``interval_s``."""
        self._rounds.start()

    async def stop(self) -> None:
        await self._rounds.stop()
        for channel in self._channels.values():
            await channel.close()
