"""Keyword-only row functions on users and API keys, taking the connection.

Domain rules (plan validation, key limits, hashing) live in ``users``; this module only
reads and writes rows, with SQLAlchemy Core. Other resources keep their few statements
beside their rules (``oauth.apps``, ``support.tickets`` …).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from drafter.services.accounts.db.tables import api_keys_t as api_keys
from drafter.services.accounts.db.tables import users_t as users


async def get_user_by_email(
    *, conn: AsyncConnection, email: str, lock: bool = False
) -> Row[Any] | None:
    stmt = sa.select(users).where(sa.func.lower(users.c.email) == email.strip().lower())
    if lock:
        stmt = stmt.with_for_update()
    return (await conn.execute(stmt)).first()


async def get_user(*, conn: AsyncConnection, user_id: str, lock: bool = False) -> Row[Any] | None:
    stmt = sa.select(users).where(users.c.id == user_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await conn.execute(stmt)).first()


async def insert_user(
    *,
    conn: AsyncConnection,
    user_id: str,
    email: str,
    password_hash: str,
    plan: str,
    now: dt.datetime,
) -> None:
    await conn.execute(
        sa.insert(users).values(
            id=user_id,
            email=email,
            password_hash=password_hash,
            plan=plan,
            blocked=False,
            created_at=now,
        )
    )


async def update_user(*, conn: AsyncConnection, user_id: str, **values: object) -> int:
    """Sets columns of one user (``plan=``, ``blocked=``); returns rows changed."""
    result = await conn.execute(sa.update(users).where(users.c.id == user_id).values(**values))
    return result.rowcount


async def count_active_api_keys(*, conn: AsyncConnection, user_id: str) -> int:
    stmt = (
        sa.select(sa.func.count())
        .select_from(api_keys)
        .where(api_keys.c.user_id == user_id, api_keys.c.revoked_at.is_(None))
    )
    return (await conn.execute(stmt)).scalar_one()


async def insert_api_key(
    *,
    conn: AsyncConnection,
    key_id: str,
    user_id: str,
    name: str,
    prefix: str,
    key_hash: str,
    now: dt.datetime,
) -> None:
    await conn.execute(
        sa.insert(api_keys).values(
            id=key_id,
            user_id=user_id,
            name=name,
            prefix=prefix,
            key_hash=key_hash,
            created_at=now,
        )
    )


async def revoke_api_key(
    *, conn: AsyncConnection, key_id: str, user_id: str, now: dt.datetime
) -> bool:
    """Revokes a key of ``user_id``; False when there is no such active key."""
    stmt = (
        sa.update(api_keys)
        .where(
            api_keys.c.id == key_id,
            api_keys.c.user_id == user_id,
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return (await conn.execute(stmt)).rowcount == 1


async def list_api_keys(*, conn: AsyncConnection, user_id: str) -> list[Row[Any]]:
    """Active keys of ``user_id``, oldest first."""
    stmt = (
        sa.select(api_keys)
        .where(api_keys.c.user_id == user_id, api_keys.c.revoked_at.is_(None))
        .order_by(api_keys.c.created_at, api_keys.c.id)
    )
    return list((await conn.execute(stmt)).all())


async def rename_api_key(*, conn: AsyncConnection, key_id: str, user_id: str, name: str) -> bool:
    """Renames an active key of ``user_id``; False when there is no such key."""
    stmt = (
        sa.update(api_keys)
        .where(
            api_keys.c.id == key_id,
            api_keys.c.user_id == user_id,
            api_keys.c.revoked_at.is_(None),
        )
        .values(name=name)
    )
    return (await conn.execute(stmt)).rowcount == 1
