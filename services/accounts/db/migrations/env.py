"""Alembic environment, run programmatically by services.accounts.db.engine.run_migrations.

The caller passes an open sync connection in ``config.attributes["connection"]``; no
alembic.ini is involved.
"""

from __future__ import annotations

from alembic import context

from drafter.services.accounts.db.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
