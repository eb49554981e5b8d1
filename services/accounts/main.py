"""Starts the accounts service, the composition root: settings → plan and model tables,
migrations → stores (engines, Redis, usage log, quota store, stored responses) → background
work → the seven servicers → server. Everything started is stopped with the server, last
started first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from grpc import aio
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.accounts.v1 import dashboard_service_pb2 as dash_pb
from drafter.accounts.v1 import dashboard_service_pb2_grpc as dash_grpc
from drafter.accounts.v1 import identity_service_pb2 as identity_pb
from drafter.accounts.v1 import identity_service_pb2_grpc as identity_grpc
from drafter.accounts.v1 import notifications_service_pb2 as notifications_pb
from drafter.accounts.v1 import notifications_service_pb2_grpc as notifications_grpc
from drafter.accounts.v1 import oauth_service_pb2 as oauth_pb
from drafter.accounts.v1 import oauth_service_pb2_grpc as oauth_grpc
from drafter.accounts.v1 import responses_service_pb2 as responses_pb
from drafter.accounts.v1 import responses_service_pb2_grpc as responses_grpc
from drafter.accounts.v1 import status_service_pb2 as status_pb
from drafter.accounts.v1 import status_service_pb2_grpc as status_grpc
from drafter.model_table import ModelTable, load_model_table
from drafter.reservations import load_reservation_key
from drafter.rpc.internal_auth import load_internal_auth
from drafter.rpc.server import Registration, RunningServer, serve_until_signal, start_server
from drafter.services.accounts.admission.authorize import Admission
from drafter.services.accounts.admission.credential_cache import Invalidate, invalidator
from drafter.services.accounts.db.engine import create_engine
from drafter.services.accounts.db.outage import DatabaseOutage
from drafter.services.accounts.db.upgrade import upgrade
from drafter.services.accounts.oauth.provider import OAuthProvider
from drafter.services.accounts.plans.table import PlanTable, load_plans
from drafter.services.accounts.quota.memory import MemoryQuotaStore, SqlEpoch, SqliteEpoch
from drafter.services.accounts.quota.sql import SqlQuotaStore
from drafter.services.accounts.quota.store import QuotaStore
from drafter.services.accounts.responses.retention import RetentionSweep
from drafter.services.accounts.responses.store import ResponseStore
from drafter.services.accounts.servicers.accounts import AccountsServicer
from drafter.services.accounts.servicers.dashboard import DashboardServicer
from drafter.services.accounts.servicers.identity import IdentityServicer
from drafter.services.accounts.servicers.notifications import NotificationsServicer
from drafter.services.accounts.servicers.oauth import OAuthServicer
from drafter.services.accounts.servicers.responses import ResponsesServicer
from drafter.services.accounts.servicers.status import StatusServicer
from drafter.services.accounts.settings import AccountsSettings
from drafter.services.accounts.tasks import Background, start_background
from drafter.services.accounts.usage.abandoned import AbandonedSweep
from drafter.services.accounts.usage.log import UsageLog
from drafter.services.accounts.users.identity import Identity
from drafter.timeutil import Clock, utc_now

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from drafter.services.accounts.quota.redis_journal import RedisJournal

log = logging.getLogger("drafter.accounts")


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
        from drafter.services.accounts.quota.redis import RedisQuotaStore  # see connect_redis

        return RedisQuotaStore(redis, engine, usage.counted, clock)
    if not in_process:
        return SqlQuotaStore(engine)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return MemoryQuotaStore(usage.counted, SqliteEpoch(Path(database)))
    return MemoryQuotaStore(usage.counted, SqlEpoch(engine))


def connect_redis(url: str | None) -> tuple[Redis | None, RedisJournal | None]:
    """The Redis client and the Redis store's journal when ``url`` (``REDIS_URL``) is set.
    The client library and the Redis stores are imported only then: redis-py loads the
    OpenTelemetry SDK and cryptography with it (about 8 MB) that a process counting in
    memory or in SQL never uses."""
    if not url:
        return None, None
    from redis.asyncio import Redis

    from drafter.services.accounts.quota.redis_journal import RedisJournal

    redis = Redis.from_url(url)
    return redis, RedisJournal(redis)


@dataclass(frozen=True)
class Stores:
    """Where the accounts state lives. Two engines share the database: ``hot_engine``
    (autocommit) for the hot path (Authorize, Settle, quotas, usage: single atomic
    statements) and ``engine`` (transactional) for the rest."""

    engine: AsyncEngine
    hot_engine: AsyncEngine
    redis: Redis | None
    usage: UsageLog
    quotas: QuotaStore
    invalidate: Invalidate
    # Signs reservation ids (never logged).
    reservation_key: bytes = field(repr=False)
    # The Responses API's stored responses (``responses.store``).
    responses: ResponseStore


def build_stores(
    settings: AccountsSettings,
    cleanups: contextlib.AsyncExitStack,
    *,
    clock: Clock,
    in_process_quotas: bool,
    outage: DatabaseOutage,
) -> Stores:
    """Opens the engines (watched by ``outage``) and Redis and starts the usage writer. At
    stop (``cleanups``) the usage log flushes, then the quota store closes (and Redis with
    it), then the engines."""
    engine = create_engine(settings.database_url, pool_size=2, max_overflow=8)
    cleanups.push_async_callback(engine.dispose)
    hot_engine = create_engine(settings.database_url, autocommit=True)
    cleanups.push_async_callback(hot_engine.dispose)
    outage.watch(engine)
    outage.watch(hot_engine)
    redis, journal = connect_redis(settings.redis_url)
    usage = UsageLog(hot_engine, on_written=journal.written if journal is not None else None)
    quotas = build_quota_store(hot_engine, usage, redis, clock, in_process=in_process_quotas)
    usage.start()
    cleanups.push_async_callback(quotas.close)
    cleanups.push_async_callback(usage.stop)
    abandoned = AbandonedSweep(
        hot_engine, deadline_s=settings.reservation_deadline_s, clock=clock, journal=journal
    )
    abandoned.start()
    cleanups.push_async_callback(abandoned.stop)
    retention = RetentionSweep(engine, clock=clock)
    retention.start()
    cleanups.push_async_callback(retention.stop)
    responses = ResponseStore(
        engine, retention=dt.timedelta(days=settings.responses_retention_days), clock=clock
    )
    key = load_reservation_key(settings.reservation_key, settings.data_dir)
    invalidate = invalidator(hot_engine, redis)
    return Stores(engine, hot_engine, redis, usage, quotas, invalidate, key, responses)


@dataclass(frozen=True)
class Servicers:
    """One servicer per proto service of the accounts service."""

    accounts: AccountsServicer
    oauth: OAuthServicer
    identity: IdentityServicer
    dashboard: DashboardServicer
    status: StatusServicer
    notifications: NotificationsServicer
    responses: ResponsesServicer


def build_servicers(
    stores: Stores, background: Background, models: ModelTable, plans: PlanTable, clock: Clock
) -> Servicers:
    engine, invalidate, notifier = stores.engine, stores.invalidate, background.notifier
    admission = Admission(
        engine=stores.hot_engine,
        plans=plans,
        models=models,
        quotas=stores.quotas,
        usage=stores.usage,
        reservation_key=stores.reservation_key,
        clock=clock,
        notifier=notifier,
    )
    provider = OAuthProvider(engine=engine, clock=clock, invalidate=invalidate, notifier=notifier)
    return Servicers(
        accounts=AccountsServicer(
            admission=admission,
            engine=engine,
            plans=plans,
            invalidate=invalidate,
            clock=clock,
            notifier=notifier,
        ),
        oauth=OAuthServicer(provider=provider, engine=engine, plans=plans, clock=clock),
        identity=IdentityServicer(identity=Identity(engine=engine, plans=plans, clock=clock)),
        dashboard=DashboardServicer(
            admission=admission, engine=engine, plans=plans, invalidate=invalidate, clock=clock
        ),
        status=StatusServicer(
            engine=engine,
            dependencies=background.dependencies,
            interval_s=background.probe_interval_s,
            clock=clock,
        ),
        notifications=NotificationsServicer(engine=engine, clock=clock),
        responses=ResponsesServicer(admission=admission, store=stores.responses),
    )


def _registration(
    add: Callable[[Any, aio.Server], None], servicer: object, pb: ModuleType, service: str
) -> Registration:
    """``servicer`` mounted as the proto service ``service`` of the module ``pb``."""
    return Registration(add, servicer, pb.DESCRIPTOR.services_by_name[service].full_name)


def build_registrations(s: Servicers) -> list[Registration]:
    """Every servicer, mounted the same way, ready for ``start_server``."""
    return [
        _registration(
            accounts_grpc.add_AccountsServiceServicer_to_server,
            s.accounts,
            accounts_pb,
            "AccountsService",
        ),
        _registration(
            oauth_grpc.add_OAuthServiceServicer_to_server, s.oauth, oauth_pb, "OAuthService"
        ),
        _registration(
            identity_grpc.add_IdentityServiceServicer_to_server,
            s.identity,
            identity_pb,
            "IdentityService",
        ),
        _registration(
            dash_grpc.add_DashboardServiceServicer_to_server,
            s.dashboard,
            dash_pb,
            "DashboardService",
        ),
        _registration(
            status_grpc.add_StatusServiceServicer_to_server, s.status, status_pb, "StatusService"
        ),
        _registration(
            notifications_grpc.add_NotificationsServiceServicer_to_server,
            s.notifications,
            notifications_pb,
            "NotificationsService",
        ),
        _registration(
            responses_grpc.add_ResponsesServiceServicer_to_server,
            s.responses,
            responses_pb,
            "ResponsesService",
        ),
    ]


def _tables(settings: AccountsSettings) -> tuple[ModelTable, PlanTable]:
    models = load_model_table(settings.models_file)
    return models, load_plans(settings.plans_file, models)


async def start(
    settings: AccountsSettings,
    addr: str,
    *,
    clock: Clock = utc_now,
    in_process_quotas: bool = False,
    migrations_apart: bool = False,
) -> RunningServer:
    """Migrates the database and starts the accounts service on ``addr`` (port 0 picks
    one: see ``.port``); stopping the server stops everything started here.
    ``in_process_quotas`` is for the single accounts service of ``drafter up`` (see
    ``build_quota_store``). ``migrations_apart``: a migration due runs in a child
    process, keeping Alembic out of this one (``db.upgrade``)."""
    settings.ensure_data_dir()
    models, plans = _tables(settings)
    revision = await upgrade(settings.database_url, apart=migrations_apart)
    auth = load_internal_auth(settings)
    outage = DatabaseOutage()
    async with contextlib.AsyncExitStack() as cleanups:  # unwound only when start fails
        stores = build_stores(
            settings, cleanups, clock=clock, in_process_quotas=in_process_quotas, outage=outage
        )
        background = start_background(
            settings,
            engine=stores.engine,
            redis=stores.redis,
            cleanups=cleanups,
            auth=auth,
            clock=clock,
        )
        servicers = build_servicers(stores, background, models, plans, clock)
        running = await start_server(
            build_registrations(servicers), addr, auth=auth, translate=outage.translate
        )
        running.cleanups.append(cleanups.pop_all().aclose)
    log.info("accounts database: %s, schema revision %s", stores.engine.dialect.name, revision)
    return running


async def prepare(settings: AccountsSettings) -> None:
    """What ``drafter up`` runs before it starts any service, alongside their start-up: a
    migration due, in a child process (``db.upgrade``), so that ``start`` finds none."""
    settings.ensure_data_dir()
    await upgrade(settings.database_url, apart=True)


async def serve(settings: AccountsSettings, addr: str) -> None:
    """Runs the accounts service until SIGINT / SIGTERM."""
    running = await start(settings, addr, migrations_apart=True)
    await serve_until_signal(running)
