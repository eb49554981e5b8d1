"""OpenAI's own clients against Drafter's Responses API (``/v1/responses``): ``drafter up``
on the session's fake upstream, in both layouts (the edge calling its services in process,
and over their gRPC ports), with a plan table that adds a tiny plan to the built-in one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.layouts import LAYOUTS, layout_stack
from tests.support.stack import DrafterStack


@pytest.fixture(scope="package", **LAYOUTS)
def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_anthropic_server: FakeAnthropic,
) -> Iterator[DrafterStack]:
    with layout_stack(
        tmp_path_factory.mktemp("responses-api"),
        fake_anthropic_server,
        in_process=request.param,
    ) as stack:
        yield stack


def new_key(stack: DrafterStack, plan: str = "pro") -> str:
    return stack.create_user_with_key(f"responses-{uuid.uuid4().hex[:8]}@example.com", plan)


@pytest.fixture(scope="package")
def pro_key(stack: DrafterStack) -> str:
    return new_key(stack)


@pytest.fixture
def client(stack: DrafterStack, pro_key: str) -> openai.OpenAI:
    """The openai SDK as an application builds it, pointed at Drafter (no retries)."""
    return openai.OpenAI(api_key=pro_key, base_url=stack.base_url + "/v1", max_retries=0)
