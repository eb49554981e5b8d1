"""Support tickets as a domain: a user's own tickets only, answers reopen, operators reply
and close, and the open-ticket limit (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.rpc.errors import InvalidRequest, NotFound
from drafter.services.accounts.db.engine import create_engine, run_migrations
from drafter.services.accounts.plans.table import load_plans
from drafter.services.accounts.support import tickets
from drafter.services.accounts.users.users import create_user
from tests.support.clock import START, FakeClock


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    run_migrations(database_url)
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _user(engine: AsyncEngine, email: str) -> str:
    return await create_user(
        engine=engine, plans=load_plans(), email=email, password="correct horse", plan="", now=START
    )


async def test_a_ticket_lives_through_replies_answers_and_closing(db: AsyncEngine) -> None:
    clock = FakeClock()
    ann = await _user(db, "ann@example.com")
    opened = await tickets.create_ticket(
        engine=db, user_id=ann, subject=" Help ", message="It broke", now=clock()
    )
    assert (opened.subject, opened.status, opened.email) == ("Help", "open", "ann@example.com")
    assert opened.created_at == START and opened.replies == ()
    clock.advance(hours=1)
    await tickets.reply_ticket(
        engine=db, ticket_id=opened.id, message="Fixed", now=clock(), close=True
    )
    clock.advance(hours=1)
    answered = await tickets.answer_ticket(
        engine=db, user_id=ann, ticket_id=opened.id, message="Still broken", now=clock()
    )
    assert answered.status == "open" and answered.updated_at == clock()
    assert [(r.author, r.message) for r in answered.replies] == [
        ("support", "Fixed"),
        ("user", "Still broken"),
    ]
    await tickets.close_ticket(engine=db, ticket_id=opened.id, now=clock())
    assert [t.status for t in await tickets.list_tickets(engine=db, user_id=ann)] == ["closed"]
    assert await tickets.list_tickets(engine=db, status="open") == []


async def test_another_users_ticket_is_not_found(db: AsyncEngine) -> None:
    ann, bob = await _user(db, "ann@example.com"), await _user(db, "bob@example.com")
    ticket = await tickets.create_ticket(
        engine=db, user_id=ann, subject="Mine", message="Private", now=START
    )
    assert await tickets.list_tickets(engine=db, user_id=bob) == []
    with pytest.raises(NotFound):
        await tickets.answer_ticket(
            engine=db, user_id=bob, ticket_id=ticket.id, message="Hijack", now=START
        )
    assert [t.user_id for t in await tickets.list_tickets(engine=db)] == [ann]


async def test_empty_fields_and_too_many_open_tickets_are_refused(db: AsyncEngine) -> None:
    ann = await _user(db, "ann@example.com")
    with pytest.raises(InvalidRequest, match="subject"):
        await tickets.create_ticket(engine=db, user_id=ann, subject=" ", message="x", now=START)
    for n in range(tickets.MAX_OPEN_TICKETS):
        await tickets.create_ticket(engine=db, user_id=ann, subject=f"#{n}", message="x", now=START)
    with pytest.raises(InvalidRequest, match="too many open tickets"):
        await tickets.create_ticket(
            engine=db, user_id=ann, subject="one more", message="x", now=START
        )
