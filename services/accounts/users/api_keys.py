"""API keys: created within the plan's ``max_api_keys`` (the secret shown once), listed,
renamed and revoked; the functions behind the AccountsService's key RPCs and
``drafter admin key``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from drafter.rpc.errors import InvalidRequest, NotFound
from drafter.services.accounts.db import crud
from drafter.services.accounts.errors import PlanLimitReached
from drafter.services.accounts.plans.in_force import plan_in_force
from drafter.services.accounts.plans.table import PlanTable
from drafter.services.accounts.users.tokens import new_api_key, new_id
from drafter.services.accounts.users.users import user_by_email, user_by_id

MAX_KEY_NAME_CHARS = 200


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    key_id: str
    secret: str
    prefix: str
    user_id: str = ""


def _key_name(name: str) -> str:
    name = name.strip() or "default"
    if len(name) > MAX_KEY_NAME_CHARS:
        raise InvalidRequest("Key name is too long.", metadata={"param": "name"})
    return name


async def _check_key_limit(
    conn: AsyncConnection, user: Row[Any], plans: PlanTable, now: dt.datetime
) -> None:
    plan = plan_in_force(user, plans, now)
    active = await crud.count_active_api_keys(conn=conn, user_id=user.id)
    if active >= plan.max_api_keys:
        raise PlanLimitReached(
            f"The {plan.name} plan allows {plan.max_api_keys} API key(s); "
            "revoke one or upgrade your plan.",
            metadata={"limit": str(plan.max_api_keys), "plan": plan.key},
        )


async def create_api_key(
    *,
    engine: AsyncEngine,
    plans: PlanTable,
    email: str = "",
    name: str,
    now: dt.datetime,
    user_id: str = "",
) -> CreatedApiKey:
    """Creates a key within the plan's ``max_api_keys`` for the user given by ``email``
    or ``user_id``; the secret is returned once."""
    name = _key_name(name)
    key = new_api_key()
    key_id = new_id()
    async with engine.begin() as conn:
        if user_id:
            user = await user_by_id(conn, user_id, lock=True)
        else:
            user = await user_by_email(conn, email, lock=True)
        await _check_key_limit(conn, user, plans, now)
        await crud.insert_api_key(
            conn=conn,
            key_id=key_id,
            user_id=user.id,
            name=name,
            prefix=key.prefix,
            key_hash=key.key_hash,
            now=now,
        )
    return CreatedApiKey(key_id=key_id, secret=key.secret, prefix=key.prefix, user_id=user.id)


async def list_api_keys(*, engine: AsyncEngine, user_id: str) -> list[Row[Any]]:
    async with engine.connect() as conn:
        return await crud.list_api_keys(conn=conn, user_id=user_id)


async def rename_api_key(*, engine: AsyncEngine, user_id: str, key_id: str, name: str) -> None:
    name = _key_name(name)
    async with engine.begin() as conn:
        if not await crud.rename_api_key(conn=conn, key_id=key_id, user_id=user_id, name=name):
            raise NotFound("No such API key.", metadata={"param": "key_id"})


async def revoke_api_key(
    *, engine: AsyncEngine, user_id: str, key_id: str, now: dt.datetime
) -> None:
    """Revokes a key (call the credential cache's ``Invalidate`` afterwards)."""
    async with engine.begin() as conn:
        if not await crud.revoke_api_key(conn=conn, key_id=key_id, user_id=user_id, now=now):
            raise NotFound("No such API key.", metadata={"param": "key_id"})
