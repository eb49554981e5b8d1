"""Bearer credentials → the user behind them, in one indexed lookup by SHA-256 digest.

``dp_`` API keys are looked up in ``api_keys``; ``dpai_ct_`` OAuth client tokens get
their own lookup when OAuth lands (one more entry in ``_LOOKUPS``). Anything else, and
unknown or revoked credentials, fail as Unauthenticated without echoing the credential.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from drafter.rpc.errors import Unauthenticated
from services.accounts.tables import api_keys_t as api_keys
from services.accounts.tables import users_t as users
from services.accounts.tokens import API_KEY_PREFIX, hash_token, tokens_match

INVALID_CREDENTIAL = "Invalid API key"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a credential belongs to, as Authorize needs it."""

    user_id: str
    plan: str
    blocked: bool
    credential_id: str
    last_used_at: dt.datetime | None


_API_KEY_LOOKUP = (
    sa.select(
        api_keys.c.id,
        api_keys.c.key_hash,
        api_keys.c.last_used_at,
        users.c.id.label("user_id"),
        users.c.plan,
        users.c.blocked,
    )
    .join(users, users.c.id == api_keys.c.user_id)
    .where(api_keys.c.key_hash == sa.bindparam("key_hash"), api_keys.c.revoked_at.is_(None))
)


async def _api_key_principal(conn: AsyncConnection, credential: str) -> Principal | None:
    digest = hash_token(credential)
    row = (await conn.execute(_API_KEY_LOOKUP, {"key_hash": digest})).first()
    if row is None or not tokens_match(digest, row.key_hash):
        return None
    return Principal(row.user_id, row.plan, bool(row.blocked), row.id, row.last_used_at)


_Lookup = Callable[[AsyncConnection, str], Awaitable[Principal | None]]
_LOOKUPS: tuple[tuple[str, _Lookup], ...] = ((API_KEY_PREFIX, _api_key_principal),)


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


def touch_statement(credential_id: str, now: dt.datetime) -> sa.Update:
    """Statement setting a key's ``last_used_at``."""
    return sa.update(api_keys).where(api_keys.c.id == credential_id).values(last_used_at=now)
