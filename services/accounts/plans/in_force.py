"""Which plan is in force for a user at a given moment: a redeemed code's plan
(``upgrade_plan``) until ``upgrade_until``, then the user's own ``plan`` again, with no
job to run when an upgrade ends.

The one rule behind Authorize and the usage API (through the cached ``Principal``), the
dashboard, API key limits, app limits and redeeming a code (through the ``users`` row).
A plan that is no longer in the plan table (``DRAFTER_PLANS_FILE`` changed) is skipped:
an upgrade to it counts as ended, and a user whose own plan is gone gets the default one.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Protocol

from drafter.services.accounts.plans.table import Plan, PlanTable

log = logging.getLogger("drafter.accounts")


class PlanHolder(Protocol):
    """A user row, or anything else that carries a user's plan columns."""

    @property
    def plan(self) -> str: ...

    @property
    def upgrade_plan(self) -> str | None: ...

    @property
    def upgrade_until(self) -> dt.datetime | None: ...


def running_upgrade_until(holder: PlanHolder, now: dt.datetime) -> dt.datetime | None:
    """When the holder's upgrade ends, if one is running at ``now``."""
    until = holder.upgrade_until
    if holder.upgrade_plan and until is not None and now < until:
        return until
    return None


def upgrade_in_force_until(
    holder: PlanHolder, plans: PlanTable, now: dt.datetime
) -> dt.datetime | None:
    """When the plan in force at ``now`` stops being in force, when it is an upgrade's."""
    until = running_upgrade_until(holder, now)
    if until is None or plans.get(holder.upgrade_plan or "") is None:
        return None
    return until


def plan_in_force(holder: PlanHolder, plans: PlanTable, now: dt.datetime) -> Plan:
    """The holder's plan at ``now``: a running upgrade's, else their own, else (a plan
    the table lost) the default one."""
    if upgrade_in_force_until(holder, plans, now) is not None:
        return plans.resolve(holder.upgrade_plan or "")
    own = plans.get(holder.plan)
    if own is None:
        log.warning("a user has plan %r, not in the plan table", holder.plan)
        return plans.default_plan
    return own
