"""SQL tables for OAuth (apps, authorization codes, client tokens) and web sessions.

They share :data:`services.accounts.tables.metadata`; migration ``0003`` creates them.
Secrets (client secrets, codes, tokens, session tokens) are stored only as SHA-256 digests.
A connection (an app a user authorised) is not a table: it is the user's active tokens
for that app.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from services.accounts.tables import metadata


def _utc_column(*, nullable: bool) -> sa.Column:
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable)


class OAuthApp(SQLModel, table=True):
    __tablename__ = "oauth_apps"

    id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32, ondelete="CASCADE")
    client_id: str = Field(max_length=64, unique=True)
    secret_hash: str = Field(max_length=64)
    name: str = Field(max_length=100)
    redirect_uris: str = Field(sa_type=sa.Text)  # JSON list of strings
    homepage: str = Field(default="", max_length=2048)
    created_at: dt.datetime = Field(sa_column=_utc_column(nullable=False))


class OAuthCode(SQLModel, table=True):
    """An authorization code, bound to client, redirect URI, user, scope and PKCE challenge."""

    __tablename__ = "oauth_codes"

    code_hash: str = Field(primary_key=True, max_length=64)
    app_id: str = Field(foreign_key="oauth_apps.id", index=True, max_length=32, ondelete="CASCADE")
    user_id: str = Field(foreign_key="users.id", max_length=32, ondelete="CASCADE")
    redirect_uri: str = Field(sa_type=sa.Text)
    scope: str = Field(max_length=200)
    code_challenge: str = Field(default="", max_length=128)
    code_challenge_method: str = Field(default="", max_length=8)
    created_at: dt.datetime = Field(sa_column=_utc_column(nullable=False))
    expires_at: dt.datetime = Field(sa_column=_utc_column(nullable=False))
    used_at: dt.datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class OAuthToken(SQLModel, table=True):
    """A client token (``dpai_ct_``): acts for ``user_id`` through ``app_id`` within ``scope``."""

    __tablename__ = "oauth_tokens"

    id: str = Field(primary_key=True, max_length=40)
    token_hash: str = Field(max_length=64, unique=True)
    app_id: str = Field(foreign_key="oauth_apps.id", index=True, max_length=32, ondelete="CASCADE")
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32, ondelete="CASCADE")
    code_hash: str = Field(default="", index=True, max_length=64)
    scope: str = Field(max_length=200)
    created_at: dt.datetime = Field(sa_column=_utc_column(nullable=False))
    last_used_at: dt.datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    revoked_at: dt.datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class WebSession(SQLModel, table=True):
    """A signed-in browser (consent page, dashboard)."""

    __tablename__ = "web_sessions"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32, ondelete="CASCADE")
    created_at: dt.datetime = Field(sa_column=_utc_column(nullable=False))
    expires_at: dt.datetime = Field(sa_column=_utc_column(nullable=False))
    ended_at: dt.datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


oauth_apps_t = metadata.tables["oauth_apps"]
oauth_codes_t = metadata.tables["oauth_codes"]
oauth_tokens_t = metadata.tables["oauth_tokens"]
web_sessions_t = metadata.tables["web_sessions"]
