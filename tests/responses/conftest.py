"""OpenAI's own clients against Drafter's Responses API (``/v1/responses``): ``drafter up``
on the session's fake upstream, in both layouts (the edge calling its services in process,
and over their gRPC ports), with a plan table that adds a tiny plan to the built-in one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.stack import DrafterStack, free_port, start_drafter_up

TINY_PLAN = """
[plans.tiny]
name = "Tiny"
price_eur_per_week = 0
models = ["claude-haiku-4-5"]
max_api_keys = 1
max_apps = 1

[plans.tiny.limits]
chat = 2
imageGen = 0
imageEdit = 0
"""


def _plans_file(folder: Path) -> Path:
    built_in = resources.files("drafter.services.accounts.plans").joinpath("plans.toml")
    path = folder / "plans.toml"
    path.write_text(built_in.read_text() + TINY_PLAN)
    return path


@pytest.fixture(scope="package", params=[True, False], ids=["in-process", "over-grpc"])
def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_anthropic_server: FakeAnthropic,
) -> Iterator[DrafterStack]:
    folder = tmp_path_factory.mktemp("responses-api")
    ports = {name: free_port() for name in ("accounts", "chat", "images")}
    stack = start_drafter_up(
        folder,
        anthropic_base_url=fake_anthropic_server.base_url,
        DRAFTER_IN_PROCESS_CALLS=str(request.param).lower(),
        DRAFTER_PLANS_FILE=str(_plans_file(folder)),
        **{f"DRAFTER_{name.upper()}_ADDR": f"127.0.0.1:{port}" for name, port in ports.items()},
    )
    try:
        yield stack
    finally:
        code = stack.stop()
        assert code == 0, f"drafter up exited with {code}:\n{stack.output()}"


def new_key(stack: DrafterStack, plan: str = "pro") -> str:
    return stack.create_user_with_key(f"responses-{uuid.uuid4().hex[:8]}@example.com", plan)


@pytest.fixture(scope="package")
def pro_key(stack: DrafterStack) -> str:
    return new_key(stack)


@pytest.fixture
def client(stack: DrafterStack, pro_key: str) -> openai.OpenAI:
    """The openai SDK as an application builds it, pointed at Drafter (no retries)."""
    return openai.OpenAI(api_key=pro_key, base_url=stack.base_url + "/v1", max_retries=0)
