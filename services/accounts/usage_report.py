"""The usage API's figures: today's units per kind (from the quota store, so they match
what admission sees), API calls and tokens (from the usage records), limits, remaining."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.accounts.admission import Admission
from services.accounts.plans import LIMITED_KINDS, Plan
from services.accounts.quota import quota_day, seconds_until_reset


@dataclass(frozen=True, slots=True)
class UsageReport:
    plan: Plan
    today: dict[str, int]
    api_calls: int
    tokens: int
    limits: dict[str, int]
    remaining: dict[str, int]
    reset_in_s: int


async def usage_report(admission: Admission, *, credential: str, now: dt.datetime) -> UsageReport:
    """Today's usage of the caller; counts this call as an API call (after reading)."""
    principal, plan = await admission.caller(credential)
    day = quota_day(now)
    used = await admission.quotas.used(user_id=principal.user_id, kinds=LIMITED_KINDS, day=day)
    api_calls, tokens = await admission.usage.today(principal.user_id, day)
    admission.record_api_call(principal)
    limits = {kind: plan.limits.for_kind(kind) or 0 for kind in LIMITED_KINDS}
    remaining = {kind: max(0, limits[kind] - used[kind]) for kind in LIMITED_KINDS}
    return UsageReport(plan, used, api_calls, tokens, limits, remaining, seconds_until_reset(now))
