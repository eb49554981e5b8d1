"""Alembic migrations of the accounts database (run by services.accounts.db.engine)."""
