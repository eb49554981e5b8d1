"""OAuth apps: register (within the plan's ``max_apps``), list, change, rotate the secret,
delete, and authenticate a client. Secrets are shown once and stored as SHA-256 digests."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from drafter.rpc.errors import InvalidRequest, NotFound
from drafter.services.accounts.db import crud
from drafter.services.accounts.db.tables import oauth_apps_t as apps
from drafter.services.accounts.db.tables import oauth_codes_t as codes
from drafter.services.accounts.db.tables import oauth_tokens_t as tokens
from drafter.services.accounts.errors import PlanLimitReached
from drafter.services.accounts.oauth.rules import (
    MAX_REDIRECT_URIS,
    MAX_URI_CHARS,
    check_redirect_uri,
    invalid_client,
    new_client_id,
    new_secret,
)
from drafter.services.accounts.plans.in_force import plan_in_force
from drafter.services.accounts.plans.table import PlanTable
from drafter.services.accounts.users.tokens import hash_token, new_id, tokens_match

MAX_APP_NAME_CHARS = 100


@dataclass(frozen=True, slots=True)
class AppInfo:
    id: str
    user_id: str
    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    homepage: str
    created_at: dt.datetime


def app_from_row(row: Row[Any]) -> AppInfo:
    return AppInfo(
        id=row.id,
        user_id=row.user_id,
        client_id=row.client_id,
        name=row.name,
        redirect_uris=tuple(json.loads(row.redirect_uris)),
        homepage=row.homepage,
        created_at=row.created_at,
    )


def clean_app_fields(
    name: str, redirect_uris: list[str], homepage: str
) -> tuple[str, list[str], str]:
    name = name.strip()
    if not name or len(name) > MAX_APP_NAME_CHARS:
        raise InvalidRequest(
            f"App name must be 1..{MAX_APP_NAME_CHARS} characters.", metadata={"param": "name"}
        )
    uris = list(dict.fromkeys(check_redirect_uri(u) for u in redirect_uris if u.strip()))
    if not 1 <= len(uris) <= MAX_REDIRECT_URIS:
        raise InvalidRequest(
            f"Register 1..{MAX_REDIRECT_URIS} redirect URIs.", metadata={"param": "redirect_uris"}
        )
    homepage = homepage.strip()
    if homepage and (len(homepage) > MAX_URI_CHARS or not homepage.startswith("https://")):
        raise InvalidRequest("Homepage must be an https URL.", metadata={"param": "homepage"})
    return name, uris, homepage


async def _owner(conn: AsyncConnection, *, email: str, user_id: str) -> Row[Any]:
    row = (
        await crud.get_user_by_email(conn=conn, email=email, lock=True)
        if email
        else await crud.get_user(conn=conn, user_id=user_id)
    )
    if row is None:
        raise NotFound("No such user.", metadata={"param": "email" if email else "user_id"})
    return row


async def _check_app_limit(
    conn: AsyncConnection, user: Row[Any], plans: PlanTable, now: dt.datetime
) -> None:
    plan = plan_in_force(user, plans, now)
    count = sa.select(sa.func.count()).select_from(apps).where(apps.c.user_id == user.id)
    if (await conn.execute(count)).scalar_one() >= plan.max_apps:
        raise PlanLimitReached(
            f"The {plan.name} plan allows {plan.max_apps} app(s); delete one first.",
            metadata={"limit": str(plan.max_apps), "plan": plan.key},
        )


@dataclass(frozen=True, slots=True)
class NewApp:
    app: AppInfo
    client_secret: str


async def create_app(
    *,
    engine: AsyncEngine,
    plans: PlanTable,
    owner_email: str = "",
    owner_id: str = "",
    name: str,
    redirect_uris: list[str],
    homepage: str = "",
    now: dt.datetime,
) -> NewApp:
    """Registers an app; the client secret is returned once."""
    name, uris, homepage = clean_app_fields(name, redirect_uris, homepage)
    secret, secret_hash = new_secret()
    async with engine.begin() as conn:
        user = await _owner(conn, email=owner_email, user_id=owner_id)
        await _check_app_limit(conn, user, plans, now)
        values = {
            "id": new_id(),
            "user_id": user.id,
            "client_id": new_client_id(),
            "secret_hash": secret_hash,
            "name": name,
            "redirect_uris": json.dumps(uris),
            "homepage": homepage,
            "created_at": now,
        }
        await conn.execute(sa.insert(apps).values(**values))
    info = AppInfo(values["id"], user.id, values["client_id"], name, tuple(uris), homepage, now)
    return NewApp(info, secret)


async def list_apps(*, engine: AsyncEngine, user_id: str) -> list[AppInfo]:
    stmt = sa.select(apps).where(apps.c.user_id == user_id).order_by(apps.c.created_at)
    async with engine.connect() as conn:
        return [app_from_row(r) for r in await conn.execute(stmt)]


async def get_app(*, conn: AsyncConnection, client_id: str) -> AppInfo | None:
    row = (await conn.execute(sa.select(apps).where(apps.c.client_id == client_id))).first()
    return app_from_row(row) if row is not None else None


async def authenticate_client(
    *, conn: AsyncConnection, client_id: str, client_secret: str
) -> AppInfo:
    """The app whose id and secret these are; invalid_client otherwise (same error for an
    unknown id and a wrong secret)."""
    stmt = sa.select(apps).where(apps.c.client_id == client_id)
    row = (await conn.execute(stmt)).first() if client_id else None
    presented = hash_token(client_secret)
    if row is None or not client_secret or not tokens_match(presented, row.secret_hash):
        raise invalid_client()
    return app_from_row(row)


async def _owned_app(conn: AsyncConnection, user_id: str, client_id: str) -> Row[Any]:
    stmt = sa.select(apps).where(apps.c.client_id == client_id, apps.c.user_id == user_id)
    row = (await conn.execute(stmt)).first()
    if row is None:
        raise NotFound("No such app.", metadata={"param": "client_id"})
    return row


async def update_app(
    *,
    engine: AsyncEngine,
    user_id: str,
    client_id: str,
    name: str,
    redirect_uris: list[str],
    homepage: str,
) -> AppInfo:
    """Changes an app the user owns (same checks as registering one); NotFound for an app
    of anyone else. Codes already issued stay bound to the URI they were issued for."""
    name, uris, homepage = clean_app_fields(name, redirect_uris, homepage)
    async with engine.begin() as conn:
        owned = (apps.c.client_id == client_id) & (apps.c.user_id == user_id)
        changed = await conn.execute(
            sa.update(apps)
            .where(owned)
            .values(name=name, redirect_uris=json.dumps(uris), homepage=homepage)
        )
        if changed.rowcount != 1:
            raise NotFound("No such app.", metadata={"param": "client_id"})
        row = (await conn.execute(sa.select(apps).where(owned))).one()
    return app_from_row(row)


async def rotate_secret(*, engine: AsyncEngine, user_id: str, client_id: str) -> str:
    secret, secret_hash = new_secret()
    async with engine.begin() as conn:
        row = await _owned_app(conn, user_id, client_id)
        await conn.execute(
            sa.update(apps).where(apps.c.id == row.id).values(secret_hash=secret_hash)
        )
    return secret


async def delete_app(*, engine: AsyncEngine, user_id: str, client_id: str) -> list[str]:
    """Deletes an app with its codes and tokens; returns the digests of the tokens it
    held, so caches can forget them."""
    async with engine.begin() as conn:
        row = await _owned_app(conn, user_id, client_id)
        held = sa.select(tokens.c.token_hash).where(tokens.c.app_id == row.id)
        digests = list((await conn.execute(held)).scalars())
        await conn.execute(sa.delete(tokens).where(tokens.c.app_id == row.id))
        await conn.execute(sa.delete(codes).where(codes.c.app_id == row.id))
        await conn.execute(sa.delete(apps).where(apps.c.id == row.id))
    return digests
