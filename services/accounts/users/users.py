"""Users: the domain functions behind CreateUser, SetUserPlan, SetUserBlocked and the
admin command line (both call these, so both obey the same rules). API keys are in
``api_keys``; signing in is ``identity``; deleting an account is ``deletion``."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from drafter.rpc.errors import AlreadyExists, InvalidRequest, NotFound
from drafter.services.accounts.db import crud
from drafter.services.accounts.plans.table import PlanTable
from drafter.services.accounts.users import deletion
from drafter.services.accounts.users.tokens import hash_password, new_id

MIN_PASSWORD_CHARS = 8
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    email = email.strip()
    if len(email) > 320 or not _EMAIL.match(email):
        raise InvalidRequest(f"Invalid email address '{email}'.", metadata={"param": "email"})
    return email


async def user_by_email(conn: AsyncConnection, email: str, *, lock: bool = False) -> Row[Any]:
    """The user with ``email`` (compared case-insensitively); NotFound otherwise."""
    row = await crud.get_user_by_email(conn=conn, email=email, lock=lock)
    if row is None:
        raise NotFound(f"No user with email '{email.strip()}'.", metadata={"param": "email"})
    return row


async def user_by_id(conn: AsyncConnection, user_id: str, *, lock: bool = False) -> Row[Any]:
    """The user ``user_id``; NotFound otherwise."""
    row = await crud.get_user(conn=conn, user_id=user_id, lock=lock)
    if row is None:
        raise NotFound("No such user.", metadata={"param": "user_id"})
    return row


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidRequest(
            f"Password must be at least {MIN_PASSWORD_CHARS} characters.",
            metadata={"param": "password"},
        )


async def create_user(
    *, engine: AsyncEngine, plans: PlanTable, email: str, password: str, plan: str, now: dt.datetime
) -> str:
    """Creates a user on ``plan`` (the default one when empty); returns the user id."""
    email = normalize_email(email)
    plan_key = plans.resolve(plan).key
    _check_password(password)
    password_hash = await asyncio.to_thread(hash_password, password)
    user_id = new_id()
    try:
        async with engine.begin() as conn:
            await deletion.check_email_cooldown(conn=conn, email=email, now=now)
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
    """Moves a user to ``plan``; it applies to the next request (call the credential
    cache's ``Invalidate`` afterwards)."""
    plan_key = plans.resolve(plan).key
    async with engine.begin() as conn:
        user = await user_by_email(conn, email)
        await crud.update_user(conn=conn, user_id=user.id, plan=plan_key)


async def set_user_blocked(*, engine: AsyncEngine, email: str, blocked: bool) -> None:
    """Blocks or unblocks a user (call the credential cache's ``Invalidate`` afterwards)."""
    async with engine.begin() as conn:
        user = await user_by_email(conn, email)
        await crud.update_user(conn=conn, user_id=user.id, blocked=blocked)
