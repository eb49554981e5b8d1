"""Status probe history (hourly roll-ups) and email notification preferences.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _user_fk() -> sa.Column:
    return sa.Column(
        "user_id",
        sa.String(32),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    )


def upgrade() -> None:
    op.create_table(
        "status_probe_hours",
        sa.Column("component", sa.String(32), primary_key=True),
        sa.Column("hour", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("probes", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("successes", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("latency_ms_sum", sa.Float(), nullable=False, server_default="0"),
    )
    op.create_index("ix_status_probe_hours_hour", "status_probe_hours", ["hour"])
    op.create_table(
        "notification_prefs",
        _user_fk(),
        sa.Column("api_key_created", sa.Boolean(), nullable=False),
        sa.Column("app_connected", sa.Boolean(), nullable=False),
        sa.Column("quota_warning", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "notifications_sent",
        _user_fk(),
        sa.Column("kind", sa.String(48), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("notifications_sent")
    op.drop_table("notification_prefs")
    op.drop_table("status_probe_hours")
