"""``drafter admin ticket list|reply|close``: operators answer support tickets, on the
environment's database, through the same domain functions as the DashboardService."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.admin.database import run_on_database
from drafter.services.accounts.plans.table import PlanTable
from drafter.services.accounts.support import tickets
from drafter.timeutil import utc_now


def _list(args: argparse.Namespace) -> int:
    def action(engine: AsyncEngine, plans: PlanTable) -> Awaitable[list[tickets.TicketInfo]]:
        status = "" if args.all else tickets.STATUS_OPEN
        return tickets.list_tickets(engine=engine, status=status)

    found = run_on_database(action)
    for t in found:
        print(f"{t.id}  {t.status:<6}  {t.created_at:%Y-%m-%d %H:%M}  {t.email}  {t.subject}")
        if args.verbose:
            print(f"    {t.message}")
            for reply in t.replies:
                print(f"    [{reply.author}] {reply.message}")
    if not found:
        print("No tickets.")
    return 0


def _reply(args: argparse.Namespace) -> int:
    def action(engine: AsyncEngine, plans: PlanTable) -> Awaitable[None]:
        return tickets.reply_ticket(
            engine=engine,
            ticket_id=args.ticket_id,
            message=args.message,
            now=utc_now(),
            close=args.close,
        )

    run_on_database(action)
    print(f"Replied to ticket {args.ticket_id}{' and closed it' if args.close else ''}.")
    return 0


def _close(args: argparse.Namespace) -> int:
    def action(engine: AsyncEngine, plans: PlanTable) -> Awaitable[None]:
        return tickets.close_ticket(engine=engine, ticket_id=args.ticket_id, now=utc_now())

    run_on_database(action)
    print(f"Closed ticket {args.ticket_id}.")
    return 0


def add_ticket_commands(subparsers: Any) -> None:
    """Adds ``ticket`` to the ``drafter admin`` sub-commands."""
    ticket = subparsers.add_parser("ticket", help="answer support tickets")
    commands = ticket.add_subparsers(dest="ticket_command", required=True, metavar="ACTION")
    listing = commands.add_parser("list", help="list open tickets (--all: every ticket)")
    listing.add_argument("--all", action="store_true", help="closed ones too")
    listing.add_argument("-v", "--verbose", action="store_true", help="messages and replies")
    listing.set_defaults(func=_list)
    reply = commands.add_parser("reply", help="reply to a ticket (the user sees it)")
    reply.add_argument("ticket_id", metavar="TICKET_ID")
    reply.add_argument("message", metavar="MESSAGE")
    reply.add_argument("--close", action="store_true", help="close the ticket too")
    reply.set_defaults(func=_reply)
    close = commands.add_parser("close", help="close a ticket")
    close.add_argument("ticket_id", metavar="TICKET_ID")
    close.set_defaults(func=_close)
