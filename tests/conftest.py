"""Fixtures shared by every test folder: the fake Anthropic upstream and a real Drafter
stack started as the user would (``drafter up``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.stack_process import DrafterStack, start_drafter_up


@pytest.fixture(scope="session")
def fake_anthropic_server() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(chunks=4) as fake:
        yield fake


@pytest.fixture
def fake_anthropic(fake_anthropic_server: FakeAnthropic) -> FakeAnthropic:
    """The session's fake upstream, with no requests or scripted replies left over."""
    fake_anthropic_server.reset()
    return fake_anthropic_server


@pytest.fixture(scope="session")
def drafter_up(
    tmp_path_factory: pytest.TempPathFactory, fake_anthropic_server: FakeAnthropic
) -> Iterator[DrafterStack]:
    """``drafter up`` as a subprocess on a free port, on SQLite, against the fake upstream.
    Stopping it with SIGTERM must end it cleanly (exit code 0)."""
    stack = start_drafter_up(
        tmp_path_factory.mktemp("drafter-up"), anthropic_base_url=fake_anthropic_server.base_url
    )
    try:
        yield stack
    finally:
        code = stack.stop()
        assert code == 0, f"drafter up exited with {code}:\n{stack.output()}"
