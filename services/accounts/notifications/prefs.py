"""Email notification preferences per user, and the once-a-day record of quota warnings.

A user without a row gets the defaults (every notification on).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.db.tables import notification_prefs_t as _prefs
from drafter.services.accounts.db.tables import notifications_sent_t as _sent
from drafter.services.accounts.db.tables import users_t
from drafter.services.accounts.db.upsert import dialect_insert


@dataclass(frozen=True, slots=True)
class Prefs:
    api_key_created: bool = True
    app_connected: bool = True
    quota_warning: bool = True

    def allows(self, kind: str) -> bool:
        return bool(getattr(self, kind))


async def get_prefs(*, engine: AsyncEngine, user_id: str) -> Prefs:
    query = sa.select(_prefs).where(_prefs.c.user_id == user_id)
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        return Prefs()
    return Prefs(row.api_key_created, row.app_connected, row.quota_warning)


async def set_prefs(*, engine: AsyncEngine, user_id: str, prefs: Prefs, now: dt.datetime) -> Prefs:
    values = {
        "api_key_created": prefs.api_key_created,
        "app_connected": prefs.app_connected,
        "quota_warning": prefs.quota_warning,
        "updated_at": now,
    }
    stmt = (
        dialect_insert(engine, _prefs)
        .values(user_id=user_id, **values)
        .on_conflict_do_update(index_elements=[_prefs.c.user_id], set_=values)
    )
    async with engine.begin() as conn:
        await conn.execute(stmt)
    return prefs


async def claim_once(*, engine: AsyncEngine, user_id: str, kind: str, day: dt.date) -> bool:
    """True for the first claim of (user, kind, day), False for every later one."""
    stmt = (
        dialect_insert(engine, _sent)
        .values(user_id=user_id, kind=kind, day=day)
        .on_conflict_do_nothing()
    )
    async with engine.begin() as conn:
        return (await conn.execute(stmt)).rowcount == 1


async def email_of(*, engine: AsyncEngine, user_id: str) -> str | None:
    query = sa.select(users_t.c.email).where(users_t.c.id == user_id)
    async with engine.connect() as conn:
        return (await conn.execute(query)).scalar()
