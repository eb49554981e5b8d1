"""SQL tables of the accounts service (SQLModel), and their Core ``Table`` objects.

The hot path (Authorize / Settle) builds SQLAlchemy Core statements on the ``*_t``
tables; the migrations in ``migrations/versions`` create exactly these tables.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# Usage record states: a record is "reserved" by Authorize and settled once by Settle.
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
    """One row per API request: reserved by Authorize, settled by Settle. The source of
    truth for usage; quota counters can be rebuilt from it."""

    __tablename__ = "usage_records"
    __table_args__ = (sa.Index("ix_usage_records_user_created", "user_id", "created_at"),)

    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="users.id", max_length=32, ondelete="CASCADE")
    credential_id: str = Field(max_length=64)
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


metadata = SQLModel.metadata
users_t = metadata.tables["users"]
api_keys_t = metadata.tables["api_keys"]
usage_records_t = metadata.tables["usage_records"]
quota_counters_t = metadata.tables["quota_counters"]

# Emails are unique compared case-insensitively (and looked up through this index).
sa.Index("ux_users_email_lower", sa.func.lower(users_t.c.email), unique=True)
