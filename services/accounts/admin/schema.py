"""``drafter admin db migrate``: upgrades the environment's database (``DATABASE_URL``)
to the newest schema revision and prints it; what a deployment's migration step runs
(deploy/kubernetes: the production overlay's Job) before the new services start. The
accounts service runs the same upgrade at start, under the same lock, as a no-op once
this has run."""

from __future__ import annotations

import argparse
from typing import Any

from drafter.services.accounts.db.engine import run_migrations
from drafter.services.accounts.settings import AccountsSettings


def _db_migrate(args: argparse.Namespace) -> int:
    revision = run_migrations(AccountsSettings().database_url)
    print(f"Database schema at revision {revision}.")
    return 0


def add_db_commands(subparsers: Any) -> None:
    """Adds ``db`` to the ``drafter admin`` sub-commands."""
    db = subparsers.add_parser("db", help="manage the database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    migrate = db_commands.add_parser("migrate", help="upgrade the schema to the newest revision")
    migrate.set_defaults(func=_db_migrate)
