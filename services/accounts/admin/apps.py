"""``drafter admin app create EMAIL --name NAME --redirect-uri URI``: registers an OAuth
app through the same domain function as the OAuthService; the last line of stdout is
``{"client_id": ..., "client_secret": ...}``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.admin.database import run_on_database
from drafter.services.accounts.oauth import apps as oauth_apps
from drafter.services.accounts.plans.table import PlanTable
from drafter.timeutil import utc_now


def _app_create(args: argparse.Namespace) -> int:
    def action(engine: AsyncEngine, plans: PlanTable) -> Awaitable[oauth_apps.NewApp]:
        return oauth_apps.create_app(
            engine=engine,
            plans=plans,
            owner_email=args.email,
            name=args.name,
            redirect_uris=args.redirect_uri,
            homepage=args.homepage or "",
            now=utc_now(),
        )

    created = run_on_database(action)
    print(f"Created OAuth app '{created.app.name}' for {args.email.strip()}.")
    print("The client secret is shown only this once:")
    print(json.dumps({"client_id": created.app.client_id, "client_secret": created.client_secret}))
    return 0


def add_app_commands(subparsers: Any) -> None:
    """Adds ``app`` to the ``drafter admin`` sub-commands."""
    app = subparsers.add_parser("app", help="manage OAuth apps")
    commands = app.add_subparsers(dest="app_command", required=True, metavar="ACTION")
    create = commands.add_parser("create", help="register an OAuth app (secret printed once)")
    create.add_argument("email", metavar="EMAIL", help="the owner's email")
    create.add_argument("--name", required=True, help="name shown on the consent page")
    create.add_argument(
        "--redirect-uri",
        required=True,
        action="append",
        metavar="URI",
        help="a redirect URI (repeat for more); matched exactly",
    )
    create.add_argument("--homepage", default=None, help="the app's homepage (https)")
    create.set_defaults(func=_app_create)
