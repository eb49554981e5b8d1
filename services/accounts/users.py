"""Users and API keys: the domain functions behind CreateUser, SetUserPlan, CreateApiKey
and the admin command line (both call these, so both obey the same rules)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from drafter.rpc.errors import AlreadyExists, InvalidRequest, NotFound
from services.accounts import account_deletion, crud
from services.accounts.errors import PlanLimitReached
from services.accounts.plans import Plan, PlanTable
from services.accounts.tables import users_t
from services.accounts.tokens import hash_password, new_api_key, new_id

MIN_PASSWORD_CHARS = 8
MAX_KEY_NAME_CHARS = 200
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    key_id: str
    secret: str
    prefix: str
    user_id: str = ""


def normalize_email(email: str) -> str:
    email = email.strip()
    if len(email) > 320 or not _EMAIL.match(email):
        raise InvalidRequest(f"Invalid email address '{email}'.", metadata={"param": "email"})
    return email


async def _user_by_email(conn: AsyncConnection, email: str, *, lock: bool = False) -> Row:
    row = await crud.get_user_by_email(conn=conn, email=email, lock=lock)
    if row is None:
        raise NotFound(f"No user with email '{email.strip()}'.", metadata={"param": "email"})
    return row


async def create_user(
    *, engine: AsyncEngine, plans: PlanTable, email: str, password: str, plan: str, now: dt.datetime
) -> str:
    """Creates a user on ``plan`` (the default one when empty); returns the user id."""
    email = normalize_email(email)
    plan_key = plans.resolve(plan).key
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidRequest(
            f"Password must be at least {MIN_PASSWORD_CHARS} characters.",
            metadata={"param": "password"},
        )
    password_hash = await asyncio.to_thread(hash_password, password)
    user_id = new_id()
    try:
        async with engine.begin() as conn:
            await account_deletion.check_email_cooldown(conn=conn, email=email, now=now)
            if await crud.get_user_by_email(conn=conn, email=email) is not None:
                raise AlreadyExists(f"A user with email '{email}' already exists.")
            await crud.insert_user(
                conn=conn,
                user_id=user_id,
                email=email,
                password_hash=password_hash,
                plan=plan_key,
                now=now,
            )
    except sa.exc.IntegrityError as exc:  # lost a race against the same email
        raise AlreadyExists(f"A user with email '{email}' already exists.") from exc
    return user_id


async def set_user_plan(*, engine: AsyncEngine, plans: PlanTable, email: str, plan: str) -> None:
    """Moves a user to ``plan``; it applies to the next request."""
    plan_key = plans.resolve(plan).key
    async with engine.begin() as conn:
        user = await _user_by_email(conn, email)
        await crud.update_user(conn=conn, user_id=user.id, plan=plan_key)


async def set_user_blocked(*, engine: AsyncEngine, email: str, blocked: bool) -> None:
    """Blocks or unblocks a user (call ``credential_cache.invalidate`` afterwards)."""
    async with engine.begin() as conn:
        user = await _user_by_email(conn, email)
        await crud.update_user(conn=conn, user_id=user.id, blocked=blocked)


def _key_name(name: str) -> str:
    name = name.strip() or "default"
    if len(name) > MAX_KEY_NAME_CHARS:
        raise InvalidRequest("Key name is too long.", metadata={"param": "name"})
    return name


async def _user_by_id(conn: AsyncConnection, user_id: str, *, lock: bool = False) -> Row:
    stmt = sa.select(users_t).where(users_t.c.id == user_id)
    row = (await conn.execute(stmt.with_for_update() if lock else stmt)).first()
    if row is None:
        raise NotFound("No such user.", metadata={"param": "user_id"})
    return row


def plan_in_force(user: Row, plans: PlanTable, now: dt.datetime) -> Plan:
    """The user's plan at ``now``: a redeemed code's until it ends, else their own."""
    until = user.upgrade_until
    if user.upgrade_plan and until is not None:
        until = until if until.tzinfo else until.replace(tzinfo=dt.UTC)
        if now < until and plans.get(user.upgrade_plan) is not None:
            return plans.resolve(user.upgrade_plan)
    return plans.get(user.plan) or plans.default_plan


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
            user = await _user_by_id(conn, user_id, lock=True)
        else:
            user = await _user_by_email(conn, email, lock=True)
        plan = plan_in_force(user, plans, now)
        active = await crud.count_active_api_keys(conn=conn, user_id=user.id)
        if active >= plan.max_api_keys:
            raise PlanLimitReached(
                f"The {plan.name} plan allows {plan.max_api_keys} API key(s); "
                "revoke one or upgrade your plan.",
                metadata={"limit": str(plan.max_api_keys), "plan": plan.key},
            )
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


async def list_api_keys(*, engine: AsyncEngine, user_id: str) -> list[Row]:
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
    """Revokes a key (call ``credential_cache.invalidate`` afterwards)."""
    async with engine.begin() as conn:
        if not await crud.revoke_api_key(conn=conn, key_id=key_id, user_id=user_id, now=now):
            raise NotFound("No such API key.", metadata={"param": "key_id"})
