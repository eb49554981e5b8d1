"""Anthropic's own clients against Drafter's Messages API (``/v1/messages``): ``drafter up``
on the session's fake upstream, in both layouts (the edge calling its services in process,
and over their gRPC ports), with a plan table that adds a tiny plan to the built-in one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import anthropic
import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.layouts import LAYOUTS, layout_stack
from tests.support.stack import DrafterStack

UPSTREAM_KEY = "sk-ant-test"  # what tests/support/stack.py gives drafter up
HAIKU = "claude-haiku-4-5"
# Short, so a silent upstream shows Drafter's keep-alive within a test.
KEEPALIVE_S = "0.3"
# Above gRPC's default message size (4 MiB), so a body between the two must pass, and small
# enough that a test can send one over it.
MAX_BODY_BYTES = 6_000_000


@pytest.fixture(scope="package", **LAYOUTS)
def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_anthropic_server: FakeAnthropic,
) -> Iterator[DrafterStack]:
    with layout_stack(
        tmp_path_factory.mktemp("anthropic-api"),
        fake_anthropic_server,
        in_process=request.param,
        DRAFTER_KEEPALIVE_S=KEEPALIVE_S,
        DRAFTER_MAX_BODY_BYTES=str(MAX_BODY_BYTES),
    ) as stack:
        yield stack


def new_key(stack: DrafterStack, plan: str = "pro") -> str:
    return stack.create_user_with_key(f"anthropic-{uuid.uuid4().hex[:8]}@example.com", plan)


@pytest.fixture(scope="package")
def pro_key(stack: DrafterStack) -> str:
    return new_key(stack)


@pytest.fixture
def client(stack: DrafterStack, pro_key: str) -> anthropic.Anthropic:
    """The anthropic SDK as an application builds it, pointed at Drafter (no retries)."""
    return anthropic.Anthropic(api_key=pro_key, base_url=stack.base_url, max_retries=0)
