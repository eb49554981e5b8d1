"""``drafter admin user create|set-plan|block|unblock`` and ``drafter admin key create``:
users and their API keys, through the same domain functions as the AccountsService."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.admin.database import run_on_database
from drafter.services.accounts.plans.table import PlanTable
from drafter.services.accounts.users import api_keys, users
from drafter.services.accounts.users.tokens import new_password
from drafter.timeutil import utc_now


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

    user_id = run_on_database(action)
    print(f"Created user {args.email.strip()} ({user_id}).")
    if not args.password:
        print(f"Password: {password}")
    return 0


def _user_set_plan(args: argparse.Namespace) -> int:
    def action(engine: AsyncEngine, plans: PlanTable) -> Awaitable[None]:
        return users.set_user_plan(engine=engine, plans=plans, email=args.email, plan=args.plan)

    run_on_database(action, invalidate=True)
    print(f"{args.email.strip()} is now on the {args.plan} plan.")
    return 0


def _user_block(args: argparse.Namespace) -> int:
    blocked = args.user_command == "block"

    def action(engine: AsyncEngine, plans: PlanTable) -> Awaitable[None]:
        return users.set_user_blocked(engine=engine, email=args.email, blocked=blocked)

    run_on_database(action, invalidate=True)
    print(f"{args.email.strip()} is now {'blocked' if blocked else 'unblocked'}.")
    return 0


def _key_create(args: argparse.Namespace) -> int:
    def action(engine: AsyncEngine, plans: PlanTable) -> Awaitable[api_keys.CreatedApiKey]:
        return api_keys.create_api_key(
            engine=engine, plans=plans, email=args.email, name=args.name, now=utc_now()
        )

    key = run_on_database(action)
    print(f"Created API key {key.prefix}… ({key.key_id}) for {args.email.strip()}.")
    print("It is shown only this once:")
    print(key.secret)
    return 0


def add_user_commands(subparsers: Any) -> None:
    """Adds ``user`` to the ``drafter admin`` sub-commands."""
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
    for action, text in (("block", "block a user's API access"), ("unblock", "unblock a user")):
        block = user_commands.add_parser(action, help=text)
        block.add_argument("email", metavar="EMAIL")
        block.set_defaults(func=_user_block)


def add_key_commands(subparsers: Any) -> None:
    """Adds ``key`` to the ``drafter admin`` sub-commands."""
    key = subparsers.add_parser("key", help="manage API keys")
    key_commands = key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    key_create = key_commands.add_parser("create", help="create an API key (printed once)")
    key_create.add_argument("email", metavar="EMAIL")
    key_create.add_argument("--name", default="default", help="a label for the key")
    key_create.set_defaults(func=_key_create)
