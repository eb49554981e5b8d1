"""The OAuth 2.0 authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636),
token revocation (RFC 7009) and a user's connections.

Codes are 32 random bytes, stored as digests, single use, valid for 5 minutes and bound to
the client, redirect URI, user, scope and PKCE challenge. Presenting a used code again fails
and revokes the tokens issued from it (RFC 6749 §4.1.2). Every revocation that revoked
something calls ``invalidate`` (the credential cache's), so the tokens stop working at
once in every replica.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from drafter.rpc.errors import InvalidRequest, NotFound
from drafter.services.accounts.admission.credential_cache import Invalidate, nothing_cached
from drafter.services.accounts.db.tables import oauth_apps_t as apps
from drafter.services.accounts.db.tables import oauth_codes_t as codes
from drafter.services.accounts.db.tables import oauth_tokens_t as tokens
from drafter.services.accounts.notifications.notifier import Notifier, app_connected
from drafter.services.accounts.oauth.apps import AppInfo, authenticate_client, delete_app, get_app
from drafter.services.accounts.oauth.rules import (
    CODE_TTL,
    OAuthError,
    check_challenge,
    invalid_grant,
    new_client_token,
    new_code,
    parse_scope,
    pkce_matches,
)
from drafter.services.accounts.users.tokens import hash_token
from drafter.timeutil import Clock, utc_now


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    response_type: str = "code"
    scope: str = ""
    code_challenge: str = ""
    code_challenge_method: str = ""


@dataclass(frozen=True, slots=True)
class CheckedAuthorization:
    app: AppInfo
    scopes: tuple[str, ...]
    challenge_method: str


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    scope: str
    app_name: str


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    client_id: str
    app_name: str
    scopes: tuple[str, ...]
    first_authorized_at: dt.datetime
    last_used_at: dt.datetime | None


class OAuthProvider:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        clock: Clock = utc_now,
        invalidate: Invalidate = nothing_cached,
        notifier: Notifier | None = None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._invalidate = invalidate
        self._notifier = notifier

    async def check(self, request: AuthorizationRequest) -> CheckedAuthorization:
        """Validates an authorization request. An unknown client (NotFound) or a redirect URI
        that is not registered exactly (InvalidRequest) must not be redirected to; the other
        failures are OAuthErrors the client may receive at its redirect URI."""
        async with self._engine.connect() as conn:
            app = await get_app(conn=conn, client_id=request.client_id)
        if app is None:
            raise NotFound("Unknown client_id.", metadata={"param": "client_id"})
        if request.redirect_uri not in app.redirect_uris:
            raise InvalidRequest(
                "The redirect_uri is not registered for this app.",
                metadata={"param": "redirect_uri"},
            )
        if request.response_type != "code":
            raise OAuthError("unsupported_response_type", "response_type must be 'code'.")
        scopes = parse_scope(request.scope)
        method = check_challenge(request.code_challenge, request.code_challenge_method)
        return CheckedAuthorization(app, scopes, method)

    async def issue_code(self, *, user_id: str, request: AuthorizationRequest) -> str:
        """A code for ``user_id``, who approved ``request`` (validated again here)."""
        checked = await self.check(request)
        code, code_hash = new_code()
        now = self._clock()
        async with self._engine.begin() as conn:
            await conn.execute(
                sa.insert(codes).values(
                    code_hash=code_hash,
                    app_id=checked.app.id,
                    user_id=user_id,
                    redirect_uri=request.redirect_uri,
                    scope=" ".join(checked.scopes),
                    code_challenge=request.code_challenge,
                    code_challenge_method=checked.challenge_method,
                    created_at=now,
                    expires_at=now + CODE_TTL,
                )
            )
        return code

    async def exchange(
        self, *, client_id: str, client_secret: str, code: str, redirect_uri: str, verifier: str
    ) -> IssuedToken:
        """Redeems a code for a client token (RFC 6749 §4.1.3, RFC 7636 §4.6)."""
        code_hash = hash_token(code)
        async with self._engine.begin() as conn:
            app = await authenticate_client(
                conn=conn, client_id=client_id, client_secret=client_secret
            )
            found = sa.select(codes).where(codes.c.code_hash == code_hash)
            row = (await conn.execute(found)).first()
            if row is None or row.app_id != app.id:
                raise invalid_grant()
            fresh = row.used_at is None and await self._consume(conn, code_hash)
        if not fresh:
            await self._revoke_where(tokens.c.code_hash == code_hash)
            raise invalid_grant("The authorization code was already used.")
        self._check_code(row, redirect_uri, verifier)  # a failed check burns the code too
        async with self._engine.begin() as conn:
            token = await self._insert_token(conn, row, code_hash)
        app_connected(self._notifier, user_id=row.user_id, app_name=app.name)
        return IssuedToken(token, row.scope, app.name)

    async def _consume(self, conn: AsyncConnection, code_hash: str) -> bool:
        stmt = (
            sa.update(codes)
            .where(codes.c.code_hash == code_hash, codes.c.used_at.is_(None))
            .values(used_at=self._clock())
        )
        return (await conn.execute(stmt)).rowcount == 1

    def _check_code(self, row: sa.Row[Any], redirect_uri: str, verifier: str) -> None:
        if self._clock() >= row.expires_at:
            raise invalid_grant("The authorization code has expired.")
        if redirect_uri != row.redirect_uri:
            raise invalid_grant("redirect_uri does not match the authorization request.")
        if row.code_challenge:
            if not verifier:
                raise OAuthError("invalid_request", "code_verifier is required.")
            if not pkce_matches(verifier, row.code_challenge, row.code_challenge_method):
                raise invalid_grant("code_verifier does not match the code_challenge.")
        elif verifier:
            raise invalid_grant("This code was issued without a code_challenge.")

    async def _insert_token(self, conn: AsyncConnection, row: sa.Row[Any], code_hash: str) -> str:
        token_id, secret, digest = new_client_token()
        await conn.execute(
            sa.insert(tokens).values(
                id=token_id,
                token_hash=digest,
                app_id=row.app_id,
                user_id=row.user_id,
                code_hash=code_hash,
                scope=row.scope,
                created_at=self._clock(),
            )
        )
        return secret

    async def _revoke_where(self, *conditions: sa.ColumnElement[bool]) -> int:
        stmt = (
            sa.update(tokens)
            .where(*conditions, tokens.c.revoked_at.is_(None))
            .values(revoked_at=self._clock())
            .returning(tokens.c.token_hash)
        )
        async with self._engine.begin() as conn:
            revoked = len((await conn.execute(stmt)).all())
        if revoked:
            await self._invalidate()
        return revoked

    async def revoke_token(self, *, client_id: str, client_secret: str, token: str) -> None:
        """RFC 7009: revokes ``token`` if the authenticated client holds it; an unknown token,
        or one of another client, is not an error (nothing is revealed)."""
        async with self._engine.connect() as conn:
            app = await authenticate_client(
                conn=conn, client_id=client_id, client_secret=client_secret
            )
        held = (tokens.c.token_hash == hash_token(token), tokens.c.app_id == app.id)
        await self._revoke_where(*held)

    async def delete_app(self, *, user_id: str, client_id: str) -> None:
        """Deletes an app of ``user_id``; every token it held stops working at once."""
        if await delete_app(engine=self._engine, user_id=user_id, client_id=client_id):
            await self._invalidate()

    async def list_connections(self, *, user_id: str) -> list[ConnectionInfo]:
        """Apps holding active tokens of ``user_id``, most recently authorised first."""
        stmt = (
            sa.select(tokens.c.scope, tokens.c.created_at, tokens.c.last_used_at, apps)
            .join(apps, apps.c.id == tokens.c.app_id)
            .where(tokens.c.user_id == user_id, tokens.c.revoked_at.is_(None))
            .order_by(tokens.c.created_at)
        )
        found: dict[str, ConnectionInfo] = {}
        async with self._engine.connect() as conn:
            for row in await conn.execute(stmt):
                found[row.client_id] = _merge(found.get(row.client_id), row)
        return sorted(found.values(), key=lambda c: c.first_authorized_at, reverse=True)

    async def revoke_connection(self, *, user_id: str, client_id: str) -> int:
        """Revokes every token ``user_id`` granted to the app, and its unused codes."""
        async with self._engine.begin() as conn:
            app = await get_app(conn=conn, client_id=client_id)
            if app is None:
                raise NotFound("No such app.", metadata={"param": "client_id"})
            await conn.execute(
                sa.update(codes)
                .where(codes.c.app_id == app.id, codes.c.user_id == user_id)
                .where(codes.c.used_at.is_(None))
                .values(used_at=self._clock())
            )
        return await self._revoke_where(tokens.c.app_id == app.id, tokens.c.user_id == user_id)


def _merge(known: ConnectionInfo | None, row: sa.Row[Any]) -> ConnectionInfo:
    scopes = set(row.scope.split()) | set(known.scopes if known else ())
    created = row.created_at
    used = row.last_used_at
    if known is not None:
        created = min(created, known.first_authorized_at)
        if known.last_used_at and (used is None or known.last_used_at > used):
            used = known.last_used_at
    ordered = tuple(s for s in ("ai:chat", "ai:images") if s in scopes)
    return ConnectionInfo(row.client_id, row.name, ordered, created, used)
