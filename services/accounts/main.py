"""Starts the accounts service: settings → plans, migrations, engine, stores → server."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.model_table import load_model_table
from drafter.rpc.server import Registration, RunningServer, serve_until_signal, start_server
from services.accounts import credential_cache
from services.accounts.admission import Admission
from services.accounts.background import start_background
from services.accounts.dashboard_servicer import dashboard_registration
from services.accounts.db import create_engine, run_migrations
from services.accounts.oauth_servicer import oauth_registrations
from services.accounts.plans import load_plans
from services.accounts.quota import Clock, QuotaStore, utc_now
from services.accounts.quota_memory import MemoryQuotaStore, SqlEpoch, SqliteEpoch
from services.accounts.quota_redis import RedisQuotaStore
from services.accounts.quota_sql import SqlQuotaStore
from services.accounts.servicer import AccountsServicer
from services.accounts.settings import AccountsSettings
from services.accounts.usage import UsageLog

log = logging.getLogger("drafter.accounts")

SERVICE_NAME = accounts_pb.DESCRIPTOR.services_by_name["AccountsService"].full_name


def build_quota_store(
    engine: AsyncEngine,
    usage: UsageLog,
    redis: Redis | None,
    clock: Clock = utc_now,
    *,
    in_process: bool = False,
) -> QuotaStore:
    """With a Redis client (``REDIS_URL`` set): Redis counters, rebuilt from the usage
    records when missing. Otherwise, for the one accounts service of ``drafter up``
    (``in_process``): counters in memory, rebuilt the same way. Otherwise the SQL store
    on the accounts database (``engine`` in autocommit mode), correct across replicas."""
    if redis is not None:
        return RedisQuotaStore(redis, engine, usage.counted, clock)
    if not in_process:
        return SqlQuotaStore(engine)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return MemoryQuotaStore(usage.counted, SqliteEpoch(Path(database)))
    return MemoryQuotaStore(usage.counted, SqlEpoch(engine))


def running_usage(
    usage: UsageLog, quotas: QuotaStore, cleanups: list[Callable[[], Awaitable[None]]]
) -> None:
    """Starts the usage writer; at stop it flushes, then the quota store closes."""
    usage.start()
    cleanups.extend((quotas.close, usage.stop))


async def start(
    settings: AccountsSettings,
    addr: str,
    *,
    clock: Clock = utc_now,
    in_process_quotas: bool = False,
) -> RunningServer:
    """Migrates the database and starts the AccountsService on ``addr`` (port 0 picks
    one: see ``.port``); stopping the server disposes the engines. ``in_process_quotas``
    is for the single accounts service of ``drafter up`` (see ``build_quota_store``).

    Two engines share the database: an autocommit one for the hot path (Authorize,
    Settle, quotas: single atomic statements) and a transactional one for the rest."""
    settings.ensure_data_dir()
    models = load_model_table(settings.models_file)
    plans = load_plans(settings.plans_file, models)
    revision = await asyncio.to_thread(run_migrations, settings.database_url)
    engine = create_engine(settings.database_url, pool_size=2, max_overflow=8)
    hot_engine = create_engine(settings.database_url, autocommit=True)
    cleanups: list[Callable[[], Awaitable[None]]] = []
    try:
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        usage = UsageLog(hot_engine)
        quotas = build_quota_store(hot_engine, usage, redis, clock, in_process=in_process_quotas)
        running_usage(usage, quotas, cleanups)
        background = start_background(
            settings, engine=engine, redis=redis, cleanups=cleanups, clock=clock
        )
        notifier = background.notifier
        admission = Admission(
            engine=hot_engine,
            plans=plans,
            models=models,
            quotas=quotas,
            usage=usage,
            clock=clock,
            notifier=notifier,
        )
        invalidate = functools.partial(credential_cache.invalidate, engine=hot_engine, redis=redis)
        servicer = AccountsServicer(
            admission=admission,
            engine=engine,
            plans=plans,
            invalidate=invalidate,
            clock=clock,
            notifier=notifier,
        )
        registration = Registration(
            accounts_grpc.add_AccountsServiceServicer_to_server, servicer, SERVICE_NAME
        )
        oauth = oauth_registrations(
            engine=engine, plans=plans, clock=clock, redis=redis, notifier=notifier
        )
        dashboard = dashboard_registration(
            admission=admission, engine=engine, plans=plans, invalidate=invalidate, clock=clock
        )
        registrations = [registration, *oauth, dashboard, *background.registrations]
        running = await start_server(registrations, addr)
    except BaseException:
        for cleanup in reversed(cleanups):
            await cleanup()
        await engine.dispose()
        await hot_engine.dispose()
        raise
    running.cleanups.extend((engine.dispose, hot_engine.dispose, *cleanups))
    log.info("accounts database: %s, schema revision %s", engine.dialect.name, revision)
    return running


async def serve(settings: AccountsSettings, addr: str) -> None:
    """Runs the accounts service until SIGINT / SIGTERM."""
    running = await start(settings, addr)
    await serve_until_signal(running)
