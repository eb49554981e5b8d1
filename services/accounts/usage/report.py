"""The usage figures callers see: the usage API's (``usage_report``: today's units per
kind from the quota store, so they match what admission sees; API calls and tokens from
the usage records; limits; remaining) and the dashboard's (``account_usage``: the same for
a signed-in user, plus the plan's end and 30 days of history, without counting the look
as an API call)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.services.accounts.admission.authorize import Admission
from drafter.services.accounts.plans.in_force import plan_in_force, upgrade_in_force_until
from drafter.services.accounts.plans.table import Plan, PlanTable
from drafter.services.accounts.quota.store import quota_day, seconds_until_reset
from drafter.services.accounts.usage.log import DayTotals
from drafter.services.accounts.users.users import user_by_id
from drafter.services.accounts.vocab import LIMITED_KINDS


@dataclass(frozen=True, slots=True)
class UsageReport:
    plan: Plan
    today: dict[str, int]
    api_calls: int
    tokens: int
    limits: dict[str, int]
    remaining: dict[str, int]
    reset_in_s: int
    # Of ``tokens``, prompt tokens read from and written to the prompt cache.
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0


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


async def usage_report(admission: Admission, *, credential: str, now: dt.datetime) -> UsageReport:
    """Today's usage of the caller; counts this call as an API call (after reading)."""
    principal, plan = await admission.caller(credential)
    day = quota_day(now)
    used = await admission.quotas.used(user_id=principal.user_id, kinds=LIMITED_KINDS, day=day)
    totals = await admission.usage.today(principal.user_id, day)
    admission.record_api_call(principal)
    limits = plan.limits.by_kind()
    remaining: dict[str, int] = {k: max(0, limits[k] - used[k]) for k in LIMITED_KINDS}
    return UsageReport(
        plan,
        used,
        totals.api_calls,
        totals.tokens,
        limits,
        remaining,
        seconds_until_reset(now),
        cache_read_tokens=totals.cache_read_tokens,
        cache_creation_tokens=totals.cache_creation_tokens,
    )


async def account_usage(
    *, admission: Admission, engine: AsyncEngine, plans: PlanTable, user_id: str, now: dt.datetime
) -> AccountUsage:
    """Today's units per limited kind (from the quota store, as admission sees them),
    today's API calls and tokens, and the daily history, for the dashboard."""
    async with engine.connect() as conn:
        user = await user_by_id(conn, user_id)
    day = quota_day(now)
    used = await admission.quotas.used(user_id=user_id, kinds=LIMITED_KINDS, day=day)
    api_calls = (await admission.usage.today(user_id, day)).api_calls
    history = await admission.usage.history(user_id, day)
    todays = [d for d in history if d.day == day]
    return AccountUsage(
        plan=plan_in_force(user, plans, now),
        plan_expires_at=upgrade_in_force_until(user, plans, now),
        day=day,
        today=used,
        api_calls=api_calls,
        input_tokens=sum(d.input_tokens for d in todays),
        output_tokens=sum(d.output_tokens for d in todays),
        reset_in_s=seconds_until_reset(now),
        history=history,
    )
