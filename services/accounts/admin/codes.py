"""``drafter admin code create --plan PLAN [--days N] [--uses N]``: a discount / upgrade
code, through the same domain function as the AccountsService; the code alone is the last
line of stdout."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.admin.database import run_on_database
from drafter.services.accounts.plans import codes
from drafter.services.accounts.plans.table import PlanTable
from drafter.timeutil import utc_now


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

    code = run_on_database(action)
    print(f"Created a code for the {args.plan} plan: {args.days} day(s), {args.uses} use(s).")
    print(code)
    return 0


def add_code_commands(subparsers: Any) -> None:
    """Adds ``code`` to the ``drafter admin`` sub-commands."""
    code = subparsers.add_parser("code", help="manage discount / upgrade codes")
    code_commands = code.add_subparsers(dest="code_command", required=True, metavar="ACTION")
    create = code_commands.add_parser("create", help="create a code (printed once)")
    create.add_argument("--plan", required=True, help="the plan the code grants")
    create.add_argument("--days", type=int, default=30, help="days the upgrade lasts")
    create.add_argument("--uses", type=int, default=1, help="how many users may redeem it")
    create.set_defaults(func=_code_create)
