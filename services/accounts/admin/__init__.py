"""``drafter admin …``: operator commands on the environment's database, through the same
domain functions as the gRPC services (``database`` runs them): users and API keys
(``users``), discount codes (``codes``), OAuth apps (``apps``) and support tickets
(``tickets``), and the schema (``schema``)."""

from __future__ import annotations

from typing import Any

from drafter.services.accounts.admin.apps import add_app_commands
from drafter.services.accounts.admin.codes import add_code_commands
from drafter.services.accounts.admin.schema import add_db_commands
from drafter.services.accounts.admin.tickets import add_ticket_commands
from drafter.services.accounts.admin.users import add_key_commands, add_user_commands


def add_admin_commands(subparsers: Any) -> None:
    """Adds ``user``, ``code``, ``key``, ``app``, ``ticket`` and ``db`` to ``drafter admin``."""
    add_user_commands(subparsers)
    add_code_commands(subparsers)
    add_key_commands(subparsers)
    add_app_commands(subparsers)
    add_ticket_commands(subparsers)
    add_db_commands(subparsers)
