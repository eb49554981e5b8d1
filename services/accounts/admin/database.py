"""How every ``drafter admin`` command reaches the environment's database
(``DATABASE_URL`` / ``DRAFTER_DATA_DIR``): migrated first, then the action, then (for a
change running services may have cached) the credentials epoch bumped, so the change
applies to their next request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.model_table import load_model_table
from drafter.services.accounts.admission.credential_cache import invalidate as invalidate_caches
from drafter.services.accounts.db.engine import create_engine
from drafter.services.accounts.db.upgrade import upgrade
from drafter.services.accounts.plans.table import PlanTable, load_plans
from drafter.services.accounts.settings import AccountsSettings

if TYPE_CHECKING:
    from redis.asyncio import Redis

T = TypeVar("T")
Action = Callable[[AsyncEngine, PlanTable], Awaitable[T]]


def run_on_database(action: Action[T], *, invalidate: bool = False) -> T:
    """Migrates the environment's database, then runs ``action`` on it. ``invalidate``:
    the action changed what running services may hold in their credential caches, so
    bump the credentials epoch (database, and Redis when REDIS_URL is set) afterwards."""
    settings = AccountsSettings()
    plans = load_plans(settings.plans_file, load_model_table(settings.models_file))

    async def run() -> T:
        await upgrade(settings.database_url)
        engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
        redis: Redis | None = None
        if settings.redis_url:
            from redis.asyncio import Redis  # only then: see main.connect_redis

            redis = Redis.from_url(settings.redis_url)
        try:
            result = await action(engine, plans)
            if invalidate:
                await invalidate_caches(engine=engine, redis=redis)
            return result
        finally:
            if redis is not None:
                await redis.aclose()
            await engine.dispose()

    return asyncio.run(run())
