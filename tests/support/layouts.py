"""``drafter up`` in both of its layouts (the edge calling its services in process, and
over their gRPC ports) on the session's fake upstream, with a plan table that adds a tiny
plan (two chats a day) to the built-in one: the stack the API-surface packages
(``tests/anthropic_api``, ``tests/responses``) run their real clients against."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.stack import DrafterStack, free_port, start_drafter_up

LAYOUTS = {"params": [True, False], "ids": ["in-process", "over-grpc"]}
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


def plans_file_with_tiny(folder: Path) -> Path:
    built_in = resources.files("drafter.services.accounts.plans").joinpath("plans.toml")
    path = folder / "plans.toml"
    path.write_text(built_in.read_text() + TINY_PLAN)
    return path


@contextlib.contextmanager
def layout_stack(
    folder: Path, fake: FakeAnthropic, *, in_process: bool, **env: str
) -> Iterator[DrafterStack]:
    """``drafter up`` in ``folder``, its services in process or over gRPC; stopped (and
    required to exit 0) when the block ends."""
    ports = {name: free_port() for name in ("accounts", "chat", "images")}
    stack = start_drafter_up(
        folder,
        anthropic_base_url=fake.base_url,
        DRAFTER_IN_PROCESS_CALLS=str(in_process).lower(),
        DRAFTER_PLANS_FILE=str(plans_file_with_tiny(folder)),
        **{f"DRAFTER_{name.upper()}_ADDR": f"127.0.0.1:{port}" for name, port in ports.items()},
        **env,
    )
    try:
        yield stack
    finally:
        code = stack.stop()
        assert code == 0, f"drafter up exited with {code}:\n{stack.output()}"
