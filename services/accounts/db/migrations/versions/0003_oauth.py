"""OAuth apps, authorization codes, client tokens, web sessions; the app on usage records.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _utc(name: str, *, nullable: bool) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(name: str, target: str) -> sa.Column:
    return sa.Column(name, sa.String(32), sa.ForeignKey(target, ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "oauth_apps",
        sa.Column("id", sa.String(32), primary_key=True),
        _fk("user_id", "users.id"),
        sa.Column("client_id", sa.String(64), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("redirect_uris", sa.Text(), nullable=False),
        sa.Column("homepage", sa.String(2048), nullable=False, server_default=""),
        _utc("created_at", nullable=False),
    )
    op.create_index("ix_oauth_apps_user_id", "oauth_apps", ["user_id"])
    op.create_table(
        "oauth_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        _fk("app_id", "oauth_apps.id"),
        _fk("user_id", "users.id"),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("code_challenge", sa.String(128), nullable=False, server_default=""),
        sa.Column("code_challenge_method", sa.String(8), nullable=False, server_default=""),
        _utc("created_at", nullable=False),
        _utc("expires_at", nullable=False),
        _utc("used_at", nullable=True),
    )
    op.create_index("ix_oauth_codes_app_id", "oauth_codes", ["app_id"])
    _create_tokens_and_sessions()
    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(sa.Column("app_id", sa.String(32), nullable=True))


def _create_tokens_and_sessions() -> None:
    op.create_table(
        "oauth_tokens",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _fk("app_id", "oauth_apps.id"),
        _fk("user_id", "users.id"),
        sa.Column("code_hash", sa.String(64), nullable=False, server_default=""),
        sa.Column("scope", sa.String(200), nullable=False),
        _utc("created_at", nullable=False),
        _utc("last_used_at", nullable=True),
        _utc("revoked_at", nullable=True),
    )
    for column in ("app_id", "user_id", "code_hash"):
        op.create_index(f"ix_oauth_tokens_{column}", "oauth_tokens", [column])
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        _fk("user_id", "users.id"),
        _utc("created_at", nullable=False),
        _utc("expires_at", nullable=False),
        _utc("ended_at", nullable=True),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])


def downgrade() -> None:
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_column("app_id")
    op.drop_table("web_sessions")
    op.drop_table("oauth_tokens")
    op.drop_table("oauth_codes")
    op.drop_table("oauth_apps")
