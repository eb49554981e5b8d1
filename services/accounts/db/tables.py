"""Every SQL table of the accounts service, and their Core ``Table`` objects (``*_t``).

The main tables are SQLModel classes; the later, simpler ones are plain Core tables.
Code builds SQLAlchemy Core statements on the ``*_t`` objects; the migrations in
``migrations/versions`` create exactly these tables (``tests/accounts/db`` compares
them), and ``migrations/env.py`` reads :data:`metadata` from here. Every timestamp
column is a :class:`~services.accounts.db.types.UTCDateTime`, so rows come back with
aware UTC datetimes. Secrets (keys, client secrets, codes, tokens, session tokens) are
stored only as SHA-256 digests.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from drafter.services.accounts.db.types import UTCDateTime
from drafter.services.accounts.vocab import RESERVED

if TYPE_CHECKING:
    from sqlalchemy.sql.base import _DialectArgView


def _utc_column(*, nullable: bool) -> sa.Column[Any]:
    return sa.Column(UTCDateTime(), nullable=nullable)


class _PartialIndex(sa.Index):
    """``sa.Index(name, *columns, sqlite_where=where, postgresql_where=where)``, except
    that the PostgreSQL option is set late.

    ``sa.Index`` checks a ``postgresql_*`` option when defined, by loading SQLAlchemy's
    PostgreSQL dialect: a package that imports every PostgreSQL driver and type, which a
    SQLite deployment never uses (``tests/test_up_start.py``). Here ``where`` becomes the
    index's PostgreSQL option when its PostgreSQL options or its ``dialect_kwargs`` are
    first read (PostgreSQL's DDL compiler, Alembic, a copy of the table), and from then on
    reads as ``postgresql_where`` would have."""

    def __init__(self, name: str, *columns: str, where: str) -> None:
        self._where = sa.text(where)
        super().__init__(name, *columns, sqlite_where=self._where)

    # What builds ``self.dialect_options[dialect_name]`` on its first read: here per
    # instance, as SQLAlchemy's (a class method) gives only each dialect's defaults.
    def _kw_reg_for_dialect_cls(self, dialect_name: str) -> Any:  # type: ignore[override]
        options = super()._kw_reg_for_dialect_cls(dialect_name)
        if dialect_name == "postgresql":
            options["where"] = self._where
        return options

    @property
    def dialect_kwargs(self) -> _DialectArgView:
        self.dialect_options["postgresql"]  # so that it is among them
        return super().dialect_kwargs


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(primary_key=True, max_length=32)
    email: str = Field(max_length=320)
    password_hash: str = Field(max_length=255)
    plan: str = Field(max_length=64)
    blocked: bool = Field(default=False)
    created_at: dt.datetime = Field(sa_column=_utc_column(nullable=False))
    # A discount code's plan, in force until ``upgrade_until``; then ``plan`` again.
    upgrade_plan: str | None = Field(default=None, max_length=64)
    upgrade_until: dt.datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(foreign_key="users.id", index=True, max_length=32, ondelete="CASCADE")
    name: str = Field(max_length=200)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: dt.datetime = Field(sa_column=_utc_column(nullable=False))
    last_used_at: dt.datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
    revoked_at: dt.datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class UsageRecord(SQLModel, table=True):
    """One row per API request, written once by Settle (see ``usage.log``). The source
    of truth for usage; quota counters can be rebuilt from it. ``kind`` is a
    ``vocab.UsageKind`` and ``status`` a ``vocab.Outcome``."""

    __tablename__ = "usage_records"
    __table_args__ = (
        sa.Index("ix_usage_records_user_created", "user_id", "created_at"),
        sa.Index("ix_usage_records_user_day", "user_id", "quota_day", "kind"),
        # The open reservations, for the abandoned sweep (migration 0006).
        _PartialIndex("ix_usage_records_open", "created_at", where=f"status = '{RESERVED}'"),
    )

    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="users.id", max_length=32, ondelete="CASCADE")
    credential_id: str = Field(max_length=64)
    # The OAuth app when the credential was a client token (migration 0003).
    app_id: str | None = Field(default=None, max_length=32)
    kind: str = Field(max_length=16)
    model: str = Field(default="", max_length=128)
    status: str = Field(max_length=16)
    quota_day: dt.date
    units_reserved: int = Field(default=0)
    units: int = Field(default=0)
    input_tokens: int = Field(default=0, sa_type=sa.BigInteger)
    output_tokens: int = Field(default=0, sa_type=sa.BigInteger)
    reasoning_tokens: int = Field(default=0, sa_type=sa.BigInteger)
    cache_read_input_tokens: int = Field(default=0, sa_type=sa.BigInteger)
    cache_creation_input_tokens: int = Field(default=0, sa_type=sa.BigInteger)
    latency_ms: int = Field(default=0, sa_type=sa.BigInteger)
    created_at: dt.datetime = Field(sa_column=_utc_column(nullable=False))
    settled_at: dt.datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class QuotaCounter(SQLModel, table=True):
    """Units reserved or used per user, usage kind and UTC day (the SQL quota store)."""

    __tablename__ = "quota_counters"

    user_id: str = Field(primary_key=True, max_length=32)
    kind: str = Field(primary_key=True, max_length=16)
    day: dt.date = Field(primary_key=True)
    used: int = Field(default=0)


class CredentialsEpoch(SQLModel, table=True):
    """One row (id 1): bumped after every change that a cached credential may hold
    (revocation, block, plan); see :mod:`services.accounts.admission.credential_cache`."""

    __tablename__ = "credentials_epoch"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    value: int = Field(default=0, sa_type=sa.BigInteger)


class DiscountCode(SQLModel, table=True):
    """An upgrade code: ``plan`` for ``days`` days, redeemable ``max_uses`` times."""

    __tablename__ = "discount_codes"

    id: str = Field(primary_key=True, max_length=32)
    code_hash: str = Field(max_length=64, unique=True)
    plan: str = Field(max_length=64)
    days: int
    max_uses: int
    uses: int = Field(default=0)
    created_at: dt.datetime = Field(sa_column=_utc_column(nullable=False))


class CodeRedemption(SQLModel, table=True):
    __tablename__ = "code_redemptions"

    code_id: str = Field(
        foreign_key="discount_codes.id", primary_key=True, max_length=32, ondelete="CASCADE"
    )
    user_id: str = Field(
        foreign_key="users.id", primary_key=True, max_length=32, ondelete="CASCADE"
    )
    redeemed_at: dt.datetime = Field(sa_column=_utc_column(nullable=False))


# OAuth (migration 0003). A connection (an app a user authorised) is not a table: it is
# the user's active tokens for that app.


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


metadata = SQLModel.metadata
users_t = metadata.tables["users"]
api_keys_t = metadata.tables["api_keys"]
usage_records_t = metadata.tables["usage_records"]
quota_counters_t = metadata.tables["quota_counters"]
credentials_epoch_t = metadata.tables["credentials_epoch"]
discount_codes_t = metadata.tables["discount_codes"]
code_redemptions_t = metadata.tables["code_redemptions"]

# Emails are unique compared case-insensitively (and looked up through this index).
sa.Index("ux_users_email_lower", sa.func.lower(users_t.c.email), unique=True)
oauth_apps_t = metadata.tables["oauth_apps"]
oauth_codes_t = metadata.tables["oauth_codes"]
oauth_tokens_t = metadata.tables["oauth_tokens"]
web_sessions_t = metadata.tables["web_sessions"]


def _user_fk(*, primary_key: bool = False) -> sa.Column[Any]:
    return sa.Column(
        "user_id",
        sa.String(32),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


# Support tickets and deleted-email cooldowns (migration 0004).
tickets_t = sa.Table(
    "support_tickets",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    _user_fk(),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_support_tickets_user_id", "user_id"),
)
replies_t = sa.Table(
    "support_ticket_replies",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "ticket_id",
        sa.String(32),
        sa.ForeignKey("support_tickets.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("author", sa.String(16), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_support_ticket_replies_ticket_id", "ticket_id"),
)
cooldowns_t = sa.Table(
    "email_cooldowns",
    metadata,
    sa.Column("email_lower", sa.String(320), primary_key=True),
    sa.Column("deleted_at", UTCDateTime(), nullable=False),
    sa.Column("until", UTCDateTime(), nullable=False),
)

# Notification preferences, quota warnings sent, status probe history (migration 0005).
notification_prefs_t = sa.Table(
    "notification_prefs",
    metadata,
    _user_fk(primary_key=True),
    sa.Column("api_key_created", sa.Boolean, nullable=False),
    sa.Column("app_connected", sa.Boolean, nullable=False),
    sa.Column("quota_warning", sa.Boolean, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
notifications_sent_t = sa.Table(
    "notifications_sent",
    metadata,
    _user_fk(primary_key=True),
    sa.Column("kind", sa.String(48), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
)
status_probe_hours_t = sa.Table(
    "status_probe_hours",
    metadata,
    sa.Column("component", sa.String(32), primary_key=True),
    sa.Column("hour", UTCDateTime(), primary_key=True),
    sa.Column("probes", sa.Integer, nullable=False, default=0),
    sa.Column("successes", sa.Integer, nullable=False, default=0),
    sa.Column("latency_ms_sum", sa.Float, nullable=False, default=0.0),
    sa.Index("ix_status_probe_hours_hour", "hour"),
)

# Stored responses of the Responses API (``store``), per user, until ``expires_at``
# (migration 0007; ``responses/store.py``). The JSON columns hold what the client got
# (``response_json``), the request's own input items and the whole conversation to continue
# from; ``previous_response_id`` is "" when the response started the conversation.
stored_responses_t = sa.Table(
    "stored_responses",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    _user_fk(),
    sa.Column("previous_response_id", sa.String(128), nullable=False),
    sa.Column("response_json", sa.Text(), nullable=False),
    sa.Column("input_items_json", sa.Text(), nullable=False),
    sa.Column("conversation_json", sa.Text(), nullable=False),
    sa.Column("instructions", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Index("ix_stored_responses_user_id", "user_id"),
    sa.Index("ix_stored_responses_expires_at", "expires_at"),
)
