"""The Node.js client tests: the pinned install checked before any stack starts, and a
Drafter key per test module on ``drafter up`` (the session's stack, fake upstream)."""

from __future__ import annotations

import uuid

import pytest

from tests.support import node_clients
from tests.support.stack import DrafterStack


@pytest.fixture(scope="session", autouse=True)
def node_installed() -> str:
    """Skips (fails on CI) before ``drafter up`` starts when the clients are not installed."""
    return node_clients.require_node_clients()


def new_key(stack: DrafterStack, plan: str = "plus") -> str:
    return stack.create_user_with_key(f"node-{uuid.uuid4().hex[:8]}@example.com", plan)


@pytest.fixture(scope="module")
def drafter_env(drafter_up: DrafterStack) -> dict[str, str]:
    """What a client script needs to reach Drafter with a key of its own (plan ``plus``)."""
    return {"DRAFTER_BASE_URL": drafter_up.api_url, "DRAFTER_API_KEY": new_key(drafter_up)}
