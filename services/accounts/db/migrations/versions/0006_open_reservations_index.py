"""An index of the open reservations (usage records still ``reserved``), by creation
time: what the abandoned sweep (``usage/abandoned.py``) reads every interval. Partial
(``WHERE status = 'reserved'``) on SQLite and PostgreSQL, so it holds only the few open
rows, not every record ever written.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OPEN_ROWS = sa.text("status = 'reserved'")


def upgrade() -> None:
    op.create_index(
        "ix_usage_records_open",
        "usage_records",
        ["created_at"],
        postgresql_where=OPEN_ROWS,
        sqlite_where=OPEN_ROWS,
    )


def downgrade() -> None:
    op.drop_index("ix_usage_records_open", table_name="usage_records")
