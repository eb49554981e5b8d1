"""Email notification preferences per user, and the once-a-day record of quota warnings.

A user without a row gets the defaults (every notification on).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from services.accounts.tables import metadata, users_t

notification_prefs_t = sa.Table(
    "notification_prefs",
    metadata,
    sa.Column(
        "user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("api_key_created", sa.Boolean, nullable=False),
    sa.Column("app_connected", sa.Boolean, nullable=False),
    sa.Column("quota_warning", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
notifications_sent_t = sa.Table(
    "notifications_sent",
    metadata,
    sa.Column(
        "user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("kind", sa.String(48), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
)
_prefs = notification_prefs_t
_sent = notifications_sent_t


@dataclass(frozen=True, slots=True)
class Prefs:
    api_key_created: bool = True
    app_connected: bool = True
    quota_warning: bool = True

    def allows(self, kind: str) -> bool:
        return bool(getattr(self, kind))


def _insert(dialect: str) -> type:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert  # type: ignore[return-value]


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
    stmt = _insert(engine.dialect.name)(_prefs).values(user_id=user_id, **values)
    stmt = stmt.on_conflict_do_update(index_elements=[_prefs.c.user_id], set_=values)
    async with engine.begin() as conn:
        await conn.execute(stmt)
    return prefs


async def claim_once(*, engine: AsyncEngine, user_id: str, kind: str, day: dt.date) -> bool:
    """True for the first claim of (user, kind, day), False for every later one."""
    stmt = _insert(engine.dialect.name)(_sent).values(user_id=user_id, kind=kind, day=day)
    stmt = stmt.on_conflict_do_nothing()
    async with engine.begin() as conn:
        return (await conn.execute(stmt)).rowcount == 1


async def email_of(*, engine: AsyncEngine, user_id: str) -> str | None:
    query = sa.select(users_t.c.email).where(users_t.c.id == user_id)
    async with engine.connect() as conn:
        return (await conn.execute(query)).scalar()
