"""Bearer credentials → the user behind them, in one indexed lookup by SHA-256 digest.

``dp_`` API keys are looked up in ``api_keys``, ``dpai_ct_`` OAuth client tokens in
``oauth_tokens`` (the user's plan, limited to the granted scopes). Anything else, and
unknown or revoked credentials, fail as Unauthenticated without echoing the credential.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from drafter.rpc.errors import Unauthenticated
from drafter.services.accounts.db.tables import api_keys_t as api_keys
from drafter.services.accounts.db.tables import oauth_tokens_t as client_tokens
from drafter.services.accounts.db.tables import users_t as users
from drafter.services.accounts.oauth.rules import CLIENT_TOKEN_ID_PREFIX
from drafter.services.accounts.users.tokens import (
    API_KEY_PREFIX,
    CLIENT_TOKEN_PREFIX,
    hash_token,
    tokens_match,
)

INVALID_CREDENTIAL = "Invalid API key"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a credential belongs to, as Authorize needs it (a ``PlanHolder``: which plan is
    in force is ``plans.in_force``'s rule)."""

    user_id: str
    plan: str
    blocked: bool
    credential_id: str
    last_used_at: dt.datetime | None
    # A discount code's plan and when it ends (then ``plan`` applies again).
    upgrade_plan: str | None = None
    upgrade_until: dt.datetime | None = None
    # OAuth client tokens: the scopes granted and the app (None for API keys: all scopes).
    scopes: frozenset[str] | None = None
    app_id: str | None = None


_API_KEY_LOOKUP = (
    sa.select(
        api_keys.c.id,
        api_keys.c.key_hash,
        api_keys.c.last_used_at,
        users.c.id.label("user_id"),
        users.c.plan,
        users.c.blocked,
        users.c.upgrade_plan,
        users.c.upgrade_until,
    )
    .join(users, users.c.id == api_keys.c.user_id)
    .where(api_keys.c.key_hash == sa.bindparam("key_hash"), api_keys.c.revoked_at.is_(None))
)


async def _api_key_principal(conn: AsyncConnection, credential: str) -> Principal | None:
    digest = hash_token(credential)
    row = (await conn.execute(_API_KEY_LOOKUP, {"key_hash": digest})).first()
    if row is None or not tokens_match(digest, row.key_hash):
        return None
    return Principal(
        row.user_id,
        row.plan,
        bool(row.blocked),
        row.id,
        row.last_used_at,
        upgrade_plan=row.upgrade_plan,
        upgrade_until=row.upgrade_until,
    )


_CLIENT_TOKEN_LOOKUP = (
    sa.select(
        client_tokens.c.id,
        client_tokens.c.token_hash,
        client_tokens.c.last_used_at,
        client_tokens.c.scope,
        client_tokens.c.app_id,
        users.c.id.label("user_id"),
        users.c.plan,
        users.c.blocked,
        users.c.upgrade_plan,
        users.c.upgrade_until,
    )
    .join(users, users.c.id == client_tokens.c.user_id)
    .where(
        client_tokens.c.token_hash == sa.bindparam("token_hash"),
        client_tokens.c.revoked_at.is_(None),
    )
)


async def _client_token_principal(conn: AsyncConnection, credential: str) -> Principal | None:
    """An OAuth client token: the user's plan, limited to the granted scopes."""
    digest = hash_token(credential)
    row = (await conn.execute(_CLIENT_TOKEN_LOOKUP, {"token_hash": digest})).first()
    if row is None or not tokens_match(digest, row.token_hash):
        return None
    return Principal(
        row.user_id,
        row.plan,
        bool(row.blocked),
        row.id,
        row.last_used_at,
        upgrade_plan=row.upgrade_plan,
        upgrade_until=row.upgrade_until,
        scopes=frozenset(row.scope.split()),
        app_id=row.app_id,
    )


_Lookup = Callable[[AsyncConnection, str], Awaitable[Principal | None]]
_LOOKUPS: tuple[tuple[str, _Lookup], ...] = (
    (API_KEY_PREFIX, _api_key_principal),
    (CLIENT_TOKEN_PREFIX, _client_token_principal),
)


async def authenticate(*, conn: AsyncConnection, credential: str) -> Principal:
    """The principal behind ``credential``; Unauthenticated when it is unknown, revoked
    or of a kind this service does not accept."""
    for prefix, lookup in _LOOKUPS:
        if credential.startswith(prefix):
            principal = await lookup(conn, credential)
            if principal is not None:
                return principal
            break
    raise Unauthenticated(INVALID_CREDENTIAL)


def credential_table(credential_id: str) -> sa.Table:
    """The table of a credential id: ``api_keys``, or ``oauth_tokens`` for a client token."""
    return client_tokens if credential_id.startswith(CLIENT_TOKEN_ID_PREFIX) else api_keys


def touch_statement(credential_id: str, now: dt.datetime) -> sa.Update:
    """Statement setting a key's (or client token's) ``last_used_at``."""
    table = credential_table(credential_id)
    return sa.update(table).where(table.c.id == credential_id).values(last_used_at=now)
