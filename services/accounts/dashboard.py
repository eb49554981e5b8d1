"""The dashboard's figures and edits: the plan table, a user's usage (today and the last
30 days) without counting the look as an API call, and changes to an owned OAuth app."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.rpc.errors import NotFound
from services.accounts import crud, oauth_apps
from services.accounts.admission import Admission
from services.accounts.oauth_tables import oauth_apps_t as apps
from services.accounts.plans import LIMITED_KINDS, Plan, PlanTable
from services.accounts.quota import quota_day, seconds_until_reset
from services.accounts.usage import DayTotals
from services.accounts.users import plan_in_force


@dataclass(frozen=True, slots=True)
class AccountUsage:
    plan: Plan
    plan_expires_at: dt.datetime | None
    day: dt.date
    today: dict[str, int]
    api_calls: int
    input_tokens: int
    output_tokens: int
    reset_in_s: int
    history: list[DayTotals]


def _upgrade_end(user: sa.Row, plan: Plan, now: dt.datetime) -> dt.datetime | None:
    until = user.upgrade_until
    if until is None or plan.key != user.upgrade_plan:
        return None
    until = until if until.tzinfo else until.replace(tzinfo=dt.UTC)
    return until if until > now else None


async def account_usage(
    *, admission: Admission, engine: AsyncEngine, plans: PlanTable, user_id: str, now: dt.datetime
) -> AccountUsage:
    """Today's units per limited kind (from the quota store, as admission sees them),
    today's API calls and tokens, and the daily history, for the dashboard."""
    async with engine.connect() as conn:
        user = await crud.get_user(conn=conn, user_id=user_id)
    if user is None:
        raise NotFound("No such user.", metadata={"param": "user_id"})
    plan = plan_in_force(user, plans, now)
    day = quota_day(now)
    used = await admission.quotas.used(user_id=user_id, kinds=LIMITED_KINDS, day=day)
    api_calls, _ = await admission.usage.today(user_id, day)
    history = await admission.usage.history(user_id, day)
    todays = [d for d in history if d.day == day]
    return AccountUsage(
        plan=plan,
        plan_expires_at=_upgrade_end(user, plan, now),
        day=day,
        today=used,
        api_calls=api_calls,
        input_tokens=sum(d.input_tokens for d in todays),
        output_tokens=sum(d.output_tokens for d in todays),
        reset_in_s=seconds_until_reset(now),
        history=history,
    )


async def update_app(
    *,
    engine: AsyncEngine,
    user_id: str,
    client_id: str,
    name: str,
    redirect_uris: list[str],
    homepage: str,
) -> oauth_apps.AppInfo:
    """Changes an app the user owns (same checks as registering one); NotFound for an app
    of anyone else. Codes already issued stay bound to the URI they were issued for."""
    name, uris, homepage = oauth_apps.clean_app_fields(name, redirect_uris, homepage)
    async with engine.begin() as conn:
        owned = (apps.c.client_id == client_id) & (apps.c.user_id == user_id)
        changed = await conn.execute(
            sa.update(apps)
            .where(owned)
            .values(name=name, redirect_uris=json.dumps(uris), homepage=homepage)
        )
        if changed.rowcount != 1:
            raise NotFound("No such app.", metadata={"param": "client_id"})
        row = (await conn.execute(sa.select(apps).where(owned))).one()
    return oauth_apps.app_from_row(row)
