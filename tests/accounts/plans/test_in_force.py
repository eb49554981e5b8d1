"""Which plan is in force: a running upgrade's, else the user's own, else the default;
the same rule for every caller (table-driven, no I/O)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from drafter.services.accounts.plans.in_force import (
    plan_in_force,
    running_upgrade_until,
    upgrade_in_force_until,
)
from drafter.services.accounts.plans.table import load_plans

NOW = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=3)
EARLIER = NOW - dt.timedelta(seconds=1)
PLANS = load_plans()


@dataclass(frozen=True)
class User:
    plan: str
    upgrade_plan: str | None = None
    upgrade_until: dt.datetime | None = None


@pytest.mark.parametrize(
    ("user", "plan", "ends"),
    [
        (User("free"), "free", None),
        (User("pro"), "pro", None),
        (User("free", "plus", LATER), "plus", LATER),
        (User("free", "plus", NOW), "free", None),  # ends at its instant
        (User("free", "plus", EARLIER), "free", None),
        (User("free", "plus", None), "free", None),
        (User("free", None, LATER), "free", None),
        (User("pro", "gone", LATER), "pro", None),  # an upgrade to a removed plan is over
        (User("gone"), "free", None),  # a removed own plan: the default one
        (User("gone", "pro", LATER), "pro", LATER),
    ],
)
def test_plan_in_force(user: User, plan: str, ends: dt.datetime | None) -> None:
    assert plan_in_force(user, PLANS, NOW).key == plan
    assert upgrade_in_force_until(user, PLANS, NOW) == ends


def test_a_running_upgrade_is_running_whatever_the_table_says() -> None:
    assert running_upgrade_until(User("free", "gone", LATER), NOW) == LATER
    assert running_upgrade_until(User("free", "gone", EARLIER), NOW) is None
