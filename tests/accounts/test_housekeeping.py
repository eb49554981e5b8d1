"""The hourly sweep deletes what is over and keeps everything else (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from drafter.services.accounts.db.engine import create_engine, run_migrations
from drafter.services.accounts.db.tables import (
    cooldowns_t,
    oauth_apps_t,
    oauth_codes_t,
    web_sessions_t,
)
from drafter.services.accounts.housekeeping import CODE_KEPT_AFTER_EXPIRY, sweep
from drafter.services.accounts.plans.table import load_plans
from drafter.services.accounts.users.users import create_user

NOW = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _session(name: str, user_id: str, expires: dt.datetime, ended: dt.datetime | None) -> dict:
    return {
        "token_hash": name,
        "user_id": user_id,
        "created_at": NOW - 10 * HOUR,
        "expires_at": expires,
        "ended_at": ended,
    }


def _code(name: str, user_id: str, expires: dt.datetime) -> dict:
    return {
        "code_hash": name,
        "app_id": "app1",
        "user_id": user_id,
        "redirect_uri": "https://app.example.com/callback",
        "scope": "chat",
        "created_at": expires - dt.timedelta(minutes=5),
        "expires_at": expires,
    }


async def test_sweep_deletes_only_what_is_over(database_url: str) -> None:
    run_migrations(database_url)
    engine = create_engine(database_url)
    try:
        user_id = await create_user(
            engine=engine,
            plans=load_plans(),
            email="sweep@example.com",
            password="correct horse",
            plan="free",
            now=NOW,
        )
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(oauth_apps_t).values(
                    id="app1",
                    user_id=user_id,
                    client_id="client1",
                    secret_hash="x" * 64,
                    name="App",
                    redirect_uris='["https://app.example.com/callback"]',
                    created_at=NOW - 10 * HOUR,
                )
            )
            await conn.execute(
                sa.insert(web_sessions_t),
                [
                    _session("live", user_id, NOW + HOUR, None),
                    _session("expired", user_id, NOW - HOUR, None),
                    _session("signed-out", user_id, NOW + HOUR, NOW - HOUR),
                ],
            )
            await conn.execute(
                sa.insert(oauth_codes_t),
                [
                    _code("fresh", user_id, NOW + HOUR),
                    _code("just-expired", user_id, NOW - HOUR),  # kept: a replay is still seen
                    _code("long-expired", user_id, NOW - CODE_KEPT_AFTER_EXPIRY - HOUR),
                ],
            )
            await conn.execute(
                sa.insert(cooldowns_t),
                [
                    {"email_lower": "a@example.com", "deleted_at": NOW, "until": NOW + HOUR},
                    {"email_lower": "b@example.com", "deleted_at": NOW, "until": NOW - HOUR},
                ],
            )

        deleted = await sweep(engine, NOW)

        assert deleted == {"sessions": 2, "oauth codes": 1, "e-mail cooldowns": 1}
        async with engine.connect() as conn:
            left = {
                name: set((await conn.execute(sa.select(column))).scalars())
                for name, column in (
                    ("sessions", web_sessions_t.c.token_hash),
                    ("codes", oauth_codes_t.c.code_hash),
                    ("cooldowns", cooldowns_t.c.email_lower),
                )
            }
        assert left == {
            "sessions": {"live"},
            "codes": {"fresh", "just-expired"},
            "cooldowns": {"a@example.com"},
        }
        assert await sweep(engine, NOW) == {"sessions": 0, "oauth codes": 0, "e-mail cooldowns": 0}
    finally:
        await engine.dispose()
