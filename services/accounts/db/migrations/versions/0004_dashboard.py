"""Dashboard self-service: support tickets, ticket replies, deleted-email cooldowns.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _utc(name: str, *, nullable: bool) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "support_tickets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "user_id",
            sa.String(32),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _utc("created_at", nullable=False),
        _utc("updated_at", nullable=False),
    )
    op.create_index("ix_support_tickets_user_id", "support_tickets", ["user_id"])
    op.create_table(
        "support_ticket_replies",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "ticket_id",
            sa.String(32),
            sa.ForeignKey("support_tickets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        _utc("created_at", nullable=False),
    )
    op.create_index("ix_support_ticket_replies_ticket_id", "support_ticket_replies", ["ticket_id"])
    op.create_table(
        "email_cooldowns",
        sa.Column("email_lower", sa.String(320), primary_key=True),
        _utc("deleted_at", nullable=False),
        _utc("until", nullable=False),
    )


def downgrade() -> None:
    op.drop_table("email_cooldowns")
    op.drop_table("support_ticket_replies")
    op.drop_table("support_tickets")
