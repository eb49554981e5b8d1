"""Starts the accounts service: settings → plans, migrations, engine, stores → server."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.model_table import load_model_table
from drafter.rpc.server import Registration, RunningServer, serve_until_signal, start_server
from services.accounts.admission import Admission
from services.accounts.db import create_engine, run_migrations
from services.accounts.plans import load_plans
from services.accounts.quota import Clock, QuotaStore, utc_now
from services.accounts.quota_sql import SqlQuotaStore
from services.accounts.servicer import AccountsServicer
from services.accounts.settings import AccountsSettings

log = logging.getLogger("drafter.accounts")

SERVICE_NAME = accounts_pb.DESCRIPTOR.services_by_name["AccountsService"].full_name


def build_quota_store(settings: AccountsSettings, engine: AsyncEngine) -> QuotaStore:
    """The quota store for these settings: the SQL store for now (``engine`` in autocommit
    mode); the Redis one (``REDIS_URL``) plugs in here."""
    return SqlQuotaStore(engine)


async def start(settings: AccountsSettings, addr: str, *, clock: Clock = utc_now) -> RunningServer:
    """Migrates the database and starts the AccountsService on ``addr`` (port 0 picks
    one: see ``.port``); stopping the server disposes the engines.

    Two engines share the database: an autocommit one for the hot path (Authorize,
    Settle, quotas: single atomic statements) and a transactional one for the rest."""
    settings.ensure_data_dir()
    models = load_model_table()
    plans = load_plans(settings.plans_file, models)
    revision = await asyncio.to_thread(run_migrations, settings.database_url)
    engine = create_engine(settings.database_url, pool_size=2, max_overflow=8)
    hot_engine = create_engine(settings.database_url, autocommit=True)
    try:
        admission = Admission(
            engine=hot_engine,
            plans=plans,
            models=models,
            quotas=build_quota_store(settings, hot_engine),
            clock=clock,
        )
        servicer = AccountsServicer(admission=admission, engine=engine, plans=plans, clock=clock)
        registration = Registration(
            accounts_grpc.add_AccountsServiceServicer_to_server, servicer, SERVICE_NAME
        )
        running = await start_server([registration], addr)
    except BaseException:
        await engine.dispose()
        await hot_engine.dispose()
        raise
    running.cleanups.extend((engine.dispose, hot_engine.dispose))
    log.info("accounts database: %s, schema revision %s", engine.dialect.name, revision)
    return running


async def serve(settings: AccountsSettings, addr: str) -> None:
    """Runs the accounts service until SIGINT / SIGTERM."""
    running = await start(settings, addr)
    await serve_until_signal(running)
