"""SQL tables of the accounts service (SQLModel), and their Core ``Table`` objects.

The hot path (Authorize / Settle) builds SQLAlchemy Core statements on the ``*_t``
tables; the migrations in ``migrations/versions`` create exactly these tables.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# Usage record states: Settle writes each record once, with how the request ended
# ("reserved" is only found in rows written before revision 0002).
STATUS_RESERVED = "reserved"
STATUS_SUCCEEDED = "succeeded"
STATUS_REJECTED = "rejected"
STATUS_FAILED = "failed"
STATUS_CANCELLED = "cancelled"


def _utc_column(*, nullable: bool) -> sa.Column:
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable)


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
    """One row per API request, written once by Settle (see ``usage``). The source of
    truth for usage; quota counters can be rebuilt from it."""

    __tablename__ = "usage_records"
    __table_args__ = (
        sa.Index("ix_usage_records_user_created", "user_id", "created_at"),
        sa.Index("ix_usage_records_user_day", "user_id", "quota_day", "kind"),
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
    (revocation, block, plan); see :mod:`services.accounts.credential_cache`."""

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
