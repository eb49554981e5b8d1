"""``drafter admin user …``, ``drafter admin key …`` and ``drafter admin code …``:
operator commands that work directly on the database of the environment (DATABASE_URL /
DRAFTER_DATA_DIR), after applying migrations, through the same domain functions as the
gRPC service. Changes that running services may have cached (plan, block) bump the
credentials epoch afterwards, so they apply to the next request."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.model_table import load_model_table
from services.accounts import codes, credential_cache, users
from services.accounts.db import create_engine, run_migrations
from services.accounts.plans import PlanTable, load_plans
from services.accounts.quota import utc_now
from services.accounts.settings import AccountsSettings
from services.accounts.tokens import new_password

T = TypeVar("T")


def _run(
    action: Callable[[AsyncEngine, PlanTable], Awaitable[T]], *, invalidate: bool = False
) -> T:
    """Migrates the environment's database, then runs ``action`` on it. ``invalidate``:
    the action changed what running services may hold in their credential caches, so
    bump the credentials epoch (database, and Redis when REDIS_URL is set) afterwards."""
    settings = AccountsSettings()
    plans = load_plans(settings.plans_file, load_model_table(settings.models_file))

    async def run() -> T:
        await asyncio.to_thread(run_migrations, settings.database_url)
        engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        try:
            result = await action(engine, plans)
            if invalidate:
                await credential_cache.invalidate(engine=engine, redis=redis)
            return result
        finally:
            if redis is not None:
                await redis.aclose()
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

    _run(action, invalidate=True)
    print(f"{args.email.strip()} is now on the {args.plan} plan.")
    return 0


def _user_block(args: argparse.Namespace) -> int:
    blocked = args.user_command == "block"

    def action(engine: AsyncEngine, plans: PlanTable) -> Awaitable[None]:
        return users.set_user_blocked(engine=engine, email=args.email, blocked=blocked)

    _run(action, invalidate=True)
    print(f"{args.email.strip()} is now {'blocked' if blocked else 'unblocked'}.")
    return 0


def _code_create(args: argparse.Namespace) -> int:
    def action(engine: AsyncEngine, plans: PlanTable) -> Awaitable[str]:
        return codes.create_code(
            engine=engine,
            plans=plans,
            plan=args.plan,
            days=args.days,
            max_uses=args.uses,
            now=utc_now(),
        )

    code = _run(action)
    print(f"Created a code for the {args.plan} plan: {args.days} day(s), {args.uses} use(s).")
    print(code)
    return 0


def _add_code_commands(subparsers: Any) -> None:
    code = subparsers.add_parser("code", help="manage discount / upgrade codes")
    code_commands = code.add_subparsers(dest="code_command", required=True, metavar="ACTION")
    create = code_commands.add_parser("create", help="create a code (printed once)")
    create.add_argument("--plan", required=True, help="the plan the code grants")
    create.add_argument("--days", type=int, default=30, help="days the upgrade lasts")
    create.add_argument("--uses", type=int, default=1, help="how many users may redeem it")
    create.set_defaults(func=_code_create)


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
    for action, text in (("block", "block a user's API access"), ("unblock", "unblock a user")):
        block = user_commands.add_parser(action, help=text)
        block.add_argument("email", metavar="EMAIL")
        block.set_defaults(func=_user_block)
    _add_code_commands(subparsers)

    key = subparsers.add_parser("key", help="manage API keys")
    key_commands = key.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    key_create = key_commands.add_parser("create", help="create an API key (printed once)")
    key_create.add_argument("email", metavar="EMAIL")
    key_create.add_argument("--name", default="default", help="a label for the key")
    key_create.set_defaults(func=_key_create)

    from services.accounts.oauth_cli import add_app_commands  # here: it imports this module

    add_app_commands(subparsers)

    from services.accounts.tickets_cli import add_ticket_commands  # same reason

    add_ticket_commands(subparsers)
