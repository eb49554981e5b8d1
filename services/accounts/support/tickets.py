"""Support tickets: a user opens one, reads their own and answers on them (which reopens a
closed one); operators list, reply and close them from ``drafter admin ticket``. The
tables (``support_tickets``, ``support_ticket_replies``) are in ``db.tables``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from drafter.rpc.errors import InvalidRequest, NotFound
from drafter.services.accounts.db.tables import replies_t, tickets_t, users_t
from drafter.services.accounts.users.tokens import new_id

MAX_SUBJECT_CHARS = 200
MAX_MESSAGE_CHARS = 5000
MAX_OPEN_TICKETS = 20
STATUS_OPEN = "open"
STATUS_CLOSED = "closed"
AUTHOR_USER = "user"
AUTHOR_SUPPORT = "support"


@dataclass(frozen=True, slots=True)
class Reply:
    author: str
    message: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class TicketInfo:
    id: str
    user_id: str
    email: str
    subject: str
    message: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    replies: tuple[Reply, ...]


def _text(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit:
        raise InvalidRequest(
            f"The {field} must be 1..{limit} characters.", metadata={"param": field}
        )
    return value


async def create_ticket(
    *, engine: AsyncEngine, user_id: str, subject: str, message: str, now: dt.datetime
) -> TicketInfo:
    subject = _text(subject, "subject", MAX_SUBJECT_CHARS)
    message = _text(message, "message", MAX_MESSAGE_CHARS)
    ticket_id = new_id()
    async with engine.begin() as conn:
        open_count = sa.select(sa.func.count()).where(
            tickets_t.c.user_id == user_id, tickets_t.c.status == STATUS_OPEN
        )
        if (await conn.execute(open_count)).scalar_one() >= MAX_OPEN_TICKETS:
            raise InvalidRequest("You have too many open tickets; wait for a reply first.")
        await conn.execute(
            sa.insert(tickets_t).values(
                id=ticket_id,
                user_id=user_id,
                subject=subject,
                message=message,
                status=STATUS_OPEN,
                created_at=now,
                updated_at=now,
            )
        )
        found = await _select(conn, tickets_t.c.id == ticket_id)
    return found[0]


async def _select(conn: AsyncConnection, where: sa.ColumnElement[bool]) -> list[TicketInfo]:
    stmt = (
        sa.select(tickets_t, users_t.c.email)
        .join(users_t, users_t.c.id == tickets_t.c.user_id)
        .where(where)
        .order_by(tickets_t.c.created_at.desc(), tickets_t.c.id)
    )
    rows = (await conn.execute(stmt)).all()
    ids = [r.id for r in rows]
    replies: dict[str, list[Reply]] = {i: [] for i in ids}
    if ids:
        reply_stmt = (
            sa.select(replies_t)
            .where(replies_t.c.ticket_id.in_(ids))
            .order_by(replies_t.c.created_at)
        )
        for r in await conn.execute(reply_stmt):
            replies[r.ticket_id].append(Reply(r.author, r.message, r.created_at))
    return [
        TicketInfo(
            r.id,
            r.user_id,
            r.email,
            r.subject,
            r.message,
            r.status,
            r.created_at,
            r.updated_at,
            tuple(replies[r.id]),
        )
        for r in rows
    ]


async def list_tickets(
    *, engine: AsyncEngine, user_id: str = "", status: str = ""
) -> list[TicketInfo]:
    """The user's tickets (every user's with ``user_id=""``: operators only), newest first."""
    conditions = []
    if user_id:
        conditions.append(tickets_t.c.user_id == user_id)
    if status:
        conditions.append(tickets_t.c.status == status)
    async with engine.connect() as conn:
        return await _select(conn, sa.and_(sa.true(), *conditions))


async def reply_ticket(
    *, engine: AsyncEngine, ticket_id: str, message: str, now: dt.datetime, close: bool = False
) -> None:
    """Adds a support reply (and closes the ticket with ``close``)."""
    async with engine.begin() as conn:
        await _add_reply(conn, ticket_id, AUTHOR_SUPPORT, message, now, close=close)


async def answer_ticket(
    *, engine: AsyncEngine, user_id: str, ticket_id: str, message: str, now: dt.datetime
) -> TicketInfo:
    """The user's own answer on their ticket; it reopens a closed ticket. Another user's
    ticket is NotFound, like one that does not exist."""
    async with engine.begin() as conn:
        await _add_reply(conn, ticket_id, AUTHOR_USER, message, now, user_id=user_id)
        (ticket,) = await _select(conn, tickets_t.c.id == ticket_id)
    return ticket


async def _add_reply(
    conn: AsyncConnection,
    ticket_id: str,
    author: str,
    message: str,
    now: dt.datetime,
    *,
    close: bool = False,
    user_id: str = "",
) -> None:
    message = _text(message, "message", MAX_MESSAGE_CHARS)
    await _touch(conn, ticket_id, now, STATUS_CLOSED if close else STATUS_OPEN, user_id=user_id)
    await conn.execute(
        sa.insert(replies_t).values(
            id=new_id(), ticket_id=ticket_id, author=author, message=message, created_at=now
        )
    )


async def close_ticket(*, engine: AsyncEngine, ticket_id: str, now: dt.datetime) -> None:
    async with engine.begin() as conn:
        await _touch(conn, ticket_id, now, STATUS_CLOSED)


async def _touch(
    conn: AsyncConnection, ticket_id: str, now: dt.datetime, status: str, *, user_id: str = ""
) -> None:
    """Sets the status; with ``user_id``, only on that user's ticket."""
    where = tickets_t.c.id == ticket_id
    if user_id:
        where = where & (tickets_t.c.user_id == user_id)
    stmt = sa.update(tickets_t).where(where).values(status=status, updated_at=now)
    if (await conn.execute(stmt)).rowcount != 1:
        raise NotFound(f"No ticket '{ticket_id}'.", metadata={"param": "ticket_id"})
