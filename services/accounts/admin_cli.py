"""``drafter admin user …`` and ``drafter admin key …``: operator commands that work
directly on the database of the environment (DATABASE_URL / DRAFTER_DATA_DIR), after
applying migrations, through the same domain functions as the gRPC service."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.model_table import load_model_table
from services.accounts import users
from services.accounts.db import create_engine, run_migrations
from services.accounts.plans import PlanTable, load_plans
from services.accounts.quota import utc_now
from services.accounts.settings import AccountsSettings
from services.accounts.tokens import new_password

T = TypeVar("T")


def _run(action: Callable[[AsyncEngine, PlanTable], Awaitable[T]]) -> T:
    """Migrates the environment's database, then runs ``action`` on it."""
    settings = AccountsSettings()
    plans = load_plans(settings.plans_file, load_model_table())

    async def run() -> T:
        await asyncio.to_thread(run_migrations, settings.database_url)
        engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
        try:
            return await action(engine, plans)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _user_create(args: argparse.Namespace) -> int:
    password = args.password or new_password()

    def action(engine: AsyncEngine, plans: PlanTable) -> Awaitable[str]:
        return users.create_user(
            engine=engine,
            plans=plans,
            email=args.email,
            password=password,
            plan=args.plan or "",
            now=utc_now(),
        )

    user_id = _run(action)
    print(f"Created user {args.email.strip()} ({user_id}).")
    if not args.password:
        print(f"Password: {password}")
    return 0


def _user_set_plan(args: argparse.Namespace) -> int:
    def action(engine: AsyncEngine, plans: PlanTable) -> Awaitable[None]:
        return users.set_user_plan(engine=engine, plans=plans, email=args.email, plan=args.plan)

    _run(action)
    print(f"{args.email.strip()} is now on the {args.plan} plan.")
    return 0


def _key_create(args: argparse.Namespace) -> int:
    def action(engine: AsyncEngine, plans: PlanTable) -> Awaitable[users.CreatedApiKey]:
        return users.create_api_key(
            engine=engine, plans=plans, email=args.email, name=args.name, now=utc_now()
        )

    key = _run(action)
    print(f"Created API key {key.prefix}… ({key.key_id}) for {args.email.strip()}.")
    print("It is shown only this once:")
    print(key.secret)
    return 0


def add_admin_commands(subparsers: Any) -> None:
    """Adds ``user`` and ``key`` to the ``drafter admin`` sub-commands."""
    user = subparsers.add_parser("user", help="manage users")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    create = user_commands.add_parser("create", help="create a user")
    create.add_argument("email", metavar="EMAIL")
    create.add_argument("--plan", default=None, help="plan key (default: the default plan)")
    create.add_argument("--password", default=None, help="password (default: random, printed)")
    create.set_defaults(func=_user_create)
    set_plan = user_commands.add_parser("set-plan", help="change a user's plan")
    set_plan.add_argument("email", metavar="EMAIL")
    set_plan.add_argument("plan", metavar="PLAN")
    set_plan.set_defaults(func=_user_set_plan)

    key = subparsers.add_parser("key", help="manage API keys")
    key_commands = key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    key_create = key_commands.add_parser("create", help="create an API key (printed once)")
    key_create.add_argument("email", metavar="EMAIL")
    key_create.add_argument("--name", default="default", help="a label for the key")
    key_create.set_defaults(func=_key_create)
