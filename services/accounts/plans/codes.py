"""Discount / upgrade codes: ``drafter admin code create`` makes one, a user redeems it
(gRPC RedeemDiscountCode, the dashboard later), and its plan is in force for ``days``
days; then the user's own plan applies again (``in_force``), with no job to run.

Codes are stored as SHA-256 digests of their normalised form, shown once. Each user
redeems a code at most once; a code is used up after ``max_uses`` redemptions. Redeeming
the same plan again extends the running upgrade instead of restarting it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.rpc.errors import AlreadyExists, InvalidRequest, NotFound
from drafter.services.accounts.db import crud
from drafter.services.accounts.db.tables import code_redemptions_t as redemptions
from drafter.services.accounts.db.tables import discount_codes_t as codes
from drafter.services.accounts.db.tables import users_t as users
from drafter.services.accounts.plans.in_force import running_upgrade_until
from drafter.services.accounts.plans.table import PlanTable
from drafter.services.accounts.users.tokens import hash_token, new_id

CODE_PREFIX = "DP-"
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
_GROUPS, _GROUP_CHARS = 4, 4
MAX_DAYS = 3650


def normalize_code(code: str) -> str:
    return code.strip().upper()


def new_code() -> str:
    groups = (
        "".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_CHARS)) for _ in range(_GROUPS)
    )
    return CODE_PREFIX + "-".join(groups)


async def create_code(
    *, engine: AsyncEngine, plans: PlanTable, plan: str, days: int, max_uses: int, now: dt.datetime
) -> str:
    """Creates a code for ``plan``; returns the code (shown once)."""
    plan_key = plans.resolve(plan).key
    if not 1 <= days <= MAX_DAYS:
        raise InvalidRequest(f"days must be 1..{MAX_DAYS}.", metadata={"param": "days"})
    if max_uses < 1:
        raise InvalidRequest("uses must be at least 1.", metadata={"param": "uses"})
    code = new_code()
    values = {
        "id": new_id(),
        "code_hash": hash_token(normalize_code(code)),
        "plan": plan_key,
        "days": days,
        "max_uses": max_uses,
        "uses": 0,
        "created_at": now,
    }
    async with engine.begin() as conn:
        await conn.execute(sa.insert(codes).values(**values))
    return code


def _extended_until(user: sa.Row[Any], plan: str, days: int, now: dt.datetime) -> dt.datetime:
    """A running upgrade to the same plan is extended; anything else starts now."""
    running = running_upgrade_until(user, now)
    start = running if running is not None and user.upgrade_plan == plan else now
    return start + dt.timedelta(days=days)


async def redeem_code(
    *, engine: AsyncEngine, user_id: str, code: str, now: dt.datetime
) -> tuple[str, dt.datetime]:
    """Redeems ``code`` for ``user_id``; returns (plan, upgrade end). Call
    ``credential_cache.invalidate`` afterwards."""
    digest = hash_token(normalize_code(code))
    async with engine.begin() as conn:
        row = (await conn.execute(sa.select(codes).where(codes.c.code_hash == digest))).first()
        if row is None:
            raise NotFound("Unknown discount code.", metadata={"param": "code"})
        user = await crud.get_user(conn=conn, user_id=user_id, lock=True)
        if user is None:
            raise NotFound("No such user.", metadata={"param": "user_id"})
        seen = sa.select(redemptions.c.code_id).where(
            redemptions.c.code_id == row.id, redemptions.c.user_id == user_id
        )
        if (await conn.execute(seen)).first() is not None:
            raise AlreadyExists("You have already redeemed this code.")
        take = (
            sa.update(codes)
            .where(codes.c.id == row.id, codes.c.uses < codes.c.max_uses)
            .values(uses=codes.c.uses + 1)
        )
        if (await conn.execute(take)).rowcount != 1:
            raise InvalidRequest("This code has been used up.", metadata={"param": "code"})
        await conn.execute(
            sa.insert(redemptions).values(code_id=row.id, user_id=user_id, redeemed_at=now)
        )
        until = _extended_until(user, row.plan, row.days, now)
        await conn.execute(
            sa.update(users)
            .where(users.c.id == user_id)
            .values(upgrade_plan=row.plan, upgrade_until=until)
        )
    return row.plan, until
