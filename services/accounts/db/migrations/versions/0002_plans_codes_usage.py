"""Plan upgrades from discount codes, the credentials epoch, usage by day.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _utc(name: str, *, nullable: bool) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column("users", sa.Column("upgrade_plan", sa.String(64), nullable=True))
    op.add_column("users", _utc("upgrade_until", nullable=True))
    op.create_index("ix_usage_records_user_day", "usage_records", ["user_id", "quota_day", "kind"])
    epoch = op.create_table(
        "credentials_epoch",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("value", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.bulk_insert(epoch, [{"id": 1, "value": 0}])
    op.create_table(
        "discount_codes",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("plan", sa.String(64), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False, server_default="0"),
        _utc("created_at", nullable=False),
    )
    op.create_table(
        "code_redemptions",
        sa.Column(
            "code_id",
            sa.String(32),
            sa.ForeignKey("discount_codes.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id",
            sa.String(32),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _utc("redeemed_at", nullable=False),
    )


def downgrade() -> None:
    op.drop_table("code_redemptions")
    op.drop_table("discount_codes")
    op.drop_table("credentials_epoch")
    op.drop_index("ix_usage_records_user_day", table_name="usage_records")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("upgrade_until")
        batch.drop_column("upgrade_plan")
