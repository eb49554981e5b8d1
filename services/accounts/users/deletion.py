"""Deleting an account from the dashboard: the password is checked, then the user's keys,
apps (and the tokens they issued), connections, sessions, tickets, usage records,
quota counters and stored responses go with the user row, and the email is held for
``EMAIL_COOLDOWN`` so it cannot sign up again at once. Call the credential cache's
``Invalidate`` afterwards."""

from __future__ import annotations

import asyncio
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from drafter.rpc.errors import AlreadyExists, NotFound, PermissionDenied
from drafter.services.accounts.db import crud
from drafter.services.accounts.db.tables import (
    api_keys_t,
    code_redemptions_t,
    cooldowns_t,
    oauth_apps_t,
    oauth_codes_t,
    oauth_tokens_t,
    quota_counters_t,
    replies_t,
    stored_responses_t,
    tickets_t,
    usage_records_t,
    users_t,
    web_sessions_t,
)
from drafter.services.accounts.users.tokens import verify_password

EMAIL_COOLDOWN = dt.timedelta(days=5)
WRONG_PASSWORD = "The password is not correct."


async def check_email_cooldown(*, conn: AsyncConnection, email: str, now: dt.datetime) -> None:
    """Refuses an email whose account was deleted less than ``EMAIL_COOLDOWN`` ago."""
    stmt = sa.select(cooldowns_t.c.until).where(cooldowns_t.c.email_lower == email.lower())
    until = (await conn.execute(stmt)).scalar()
    if until is not None and until > now:
        raise AlreadyExists(
            "An account with this email was deleted recently; it can sign up again after "
            f"{until:%Y-%m-%d %H:%M} UTC."
        )


def _user_rows(user_id: str) -> list[sa.Delete]:
    """Everything of the user, children first (no reliance on ON DELETE CASCADE)."""
    tickets = sa.select(tickets_t.c.id).where(tickets_t.c.user_id == user_id)
    apps = sa.select(oauth_apps_t.c.id).where(oauth_apps_t.c.user_id == user_id)
    return [
        sa.delete(replies_t).where(replies_t.c.ticket_id.in_(tickets)),
        sa.delete(tickets_t).where(tickets_t.c.user_id == user_id),
        sa.delete(oauth_tokens_t).where(
            (oauth_tokens_t.c.user_id == user_id) | oauth_tokens_t.c.app_id.in_(apps)
        ),
        sa.delete(oauth_codes_t).where(
            (oauth_codes_t.c.user_id == user_id) | oauth_codes_t.c.app_id.in_(apps)
        ),
        sa.delete(oauth_apps_t).where(oauth_apps_t.c.user_id == user_id),
        sa.delete(api_keys_t).where(api_keys_t.c.user_id == user_id),
        sa.delete(web_sessions_t).where(web_sessions_t.c.user_id == user_id),
        sa.delete(code_redemptions_t).where(code_redemptions_t.c.user_id == user_id),
        sa.delete(usage_records_t).where(usage_records_t.c.user_id == user_id),
        sa.delete(quota_counters_t).where(quota_counters_t.c.user_id == user_id),
        sa.delete(stored_responses_t).where(stored_responses_t.c.user_id == user_id),
        sa.delete(users_t).where(users_t.c.id == user_id),
    ]


async def delete_account(
    *, engine: AsyncEngine, user_id: str, password: str, now: dt.datetime
) -> str:
    """Deletes the account when ``password`` is the user's; returns its email."""
    async with engine.connect() as conn:
        user = await crud.get_user(conn=conn, user_id=user_id)
    if user is None:
        raise NotFound("No such user.", metadata={"param": "user_id"})
    if not password or not await asyncio.to_thread(verify_password, user.password_hash, password):
        raise PermissionDenied(WRONG_PASSWORD, metadata={"param": "password"})
    email_lower = user.email.strip().lower()
    async with engine.begin() as conn:
        for statement in _user_rows(user_id):
            await conn.execute(statement)
        await conn.execute(sa.delete(cooldowns_t).where(cooldowns_t.c.email_lower == email_lower))
        await conn.execute(
            sa.insert(cooldowns_t).values(
                email_lower=email_lower, deleted_at=now, until=now + EMAIL_COOLDOWN
            )
        )
    return str(user.email)
