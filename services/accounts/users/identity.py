"""Signing people in: sign-up, log-in (argon2) and server-side web sessions.

A session is an opaque random token; only its SHA-256 digest is stored, so a database leak
gives no usable sessions, and log-out ends it for good. Failed log-ins get one message
whether the email exists or not, and take as long either way (a dummy argon2 check).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.rpc.errors import Unauthenticated
from drafter.services.accounts.db import crud
from drafter.services.accounts.db.tables import users_t
from drafter.services.accounts.db.tables import web_sessions_t as sessions
from drafter.services.accounts.plans.table import PlanTable
from drafter.services.accounts.users import users
from drafter.services.accounts.users.tokens import hash_password, hash_token, verify_password
from drafter.timeutil import Clock, utc_now

SESSION_TTL = dt.timedelta(days=14)
SESSION_BYTES = 32
INVALID_LOGIN = "Invalid email or password."
INVALID_SESSION = "Not signed in."


@dataclass(frozen=True, slots=True)
class SessionInfo:
    token: str
    user_id: str
    email: str
    plan: str
    expires_at: dt.datetime


class Identity:
    def __init__(self, *, engine: AsyncEngine, plans: PlanTable, clock: Clock = utc_now) -> None:
        self._engine = engine
        self._plans = plans
        self._clock = clock
        self._dummy_hash: str | None = None

    async def sign_up(self, *, email: str, password: str) -> SessionInfo:
        """Creates a user on the default plan and signs them in."""
        user_id = await users.create_user(
            engine=self._engine,
            plans=self._plans,
            email=email,
            password=password,
            plan="",
            now=self._clock(),
        )
        return await self._open(user_id)

    async def log_in(self, *, email: str, password: str) -> SessionInfo:
        async with self._engine.connect() as conn:
            user = await crud.get_user_by_email(conn=conn, email=email)
        if user is None:
            await asyncio.to_thread(verify_password, await self._dummy(), password)
            raise Unauthenticated(INVALID_LOGIN)
        valid = await asyncio.to_thread(verify_password, user.password_hash, password)
        if not valid or user.blocked:
            raise Unauthenticated(INVALID_LOGIN)
        return await self._open(user.id)

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await asyncio.to_thread(hash_password, secrets.token_hex(16))
        return self._dummy_hash

    async def _open(self, user_id: str) -> SessionInfo:
        token = secrets.token_urlsafe(SESSION_BYTES)
        now = self._clock()
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.insert(sessions).values(
                    token_hash=hash_token(token),
                    user_id=user_id,
                    created_at=now,
                    expires_at=now + SESSION_TTL,
                )
            )
        session = await self.get(token=token)
        return SessionInfo(token, session.user_id, session.email, session.plan, session.expires_at)

    async def get(self, *, token: str) -> SessionInfo:
        """The live session behind ``token`` (without the token); Unauthenticated otherwise."""
        stmt = (
            sa.select(sessions.c.expires_at, users_t.c.id, users_t.c.email, users_t.c.plan)
            .join(users_t, users_t.c.id == sessions.c.user_id)
            .where(
                sessions.c.token_hash == hash_token(token),
                sessions.c.ended_at.is_(None),
                users_t.c.blocked.is_(False),
            )
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(stmt)).first() if token else None
        if row is None or row.expires_at <= self._clock():
            raise Unauthenticated(INVALID_SESSION)
        return SessionInfo("", row.id, row.email, row.plan, row.expires_at)

    async def end(self, *, token: str) -> None:
        stmt = (
            sa.update(sessions)
            .where(sessions.c.token_hash == hash_token(token), sessions.c.ended_at.is_(None))
            .values(ended_at=self._clock())
        )
        async with self._engine.begin() as conn:
            await conn.execute(stmt)
