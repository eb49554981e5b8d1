"""Fixtures shared by every test folder: the fake Anthropic upstream and a real Drafter
stack started as the user would (``drafter up``)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from grpc import aio

from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.gemini_server import FakeGemini
from tests.fakes.tiny_rembg_model import write_tiny_rembg_model
from tests.support.stack import DrafterStack, start_drafter_up

TESTS = Path(__file__).resolve().parent
# Folders whose every test starts processes (drafter up, drafter serve, a browser).
PROCESS_FOLDERS = frozenset({"stack", "browser"})
# The services and edges a test builds in this interpreter (each with a data dir of its
# own) share one internal token, as a deployment's processes do (DRAFTER_INTERNAL_TOKEN).
# Processes started through tests/support/stack.py get a clean environment instead.
os.environ["DRAFTER_INTERNAL_TOKEN"] = secrets.token_urlsafe(48)
# grpc.aio shuts its completion queue down when the last of its channels and servers is
# collected, and joins its poller thread. Collected after the session's event loop closed
# (in pytest's summary), the poller can be stuck writing to a socket that loop no longer
# reads, and the join never returns: the run hangs after its last test
# (grpc/grpc#40989). A reference taken here for the whole run keeps that shutdown out of
# the collector (grpc/grpc#22365); the poller is a daemon thread, gone with the process.
aio.init_grpc_aio()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks what the fast loop skips (``-m "not slow"``): every test that starts
    processes is ``slow``, and the Chromium tests are ``browser`` too."""
    for item in items:
        folder = item.path.relative_to(TESTS).parts[0]
        if folder in PROCESS_FOLDERS or "drafter_up" in item.fixturenames:
            item.add_marker(pytest.mark.slow)
        if folder == "browser":
            item.add_marker(pytest.mark.browser)


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
def fake_gemini_server() -> Iterator[FakeGemini]:
    server = FakeGemini().start()
    yield server
    server.stop()


@pytest.fixture
def fake_gemini_upstream(fake_gemini_server: FakeGemini) -> FakeGemini:
    """The session's fake Gemini, with nothing left over from other tests."""
    fake_gemini_server.reset()
    fake_gemini_server.default_size = (1024, 1024)
    return fake_gemini_server


@pytest.fixture(scope="session")
def tiny_rembg_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_rembg_model(tmp_path_factory.mktemp("rembg") / "tiny-u2net.onnx")


def wait_for_background_removal(stack: DrafterStack, timeout_s: float = 300.0) -> None:
    """Until the stack's rembg model, loading in the background after start, is loaded
    (``/api/v1/status``: background removal no longer "starting")."""
    deadline = time.monotonic() + timeout_s
    while True:
        images = httpx.get(stack.api_url + "/status", timeout=10).json()["services"]["images"]
        if images.get("background_removal") != "starting":
            return
        assert time.monotonic() < deadline, f"rembg did not load:\n{stack.output()}"
        time.sleep(0.1)


@pytest.fixture(scope="session")
def drafter_up(
    tmp_path_factory: pytest.TempPathFactory,
    fake_anthropic_server: FakeAnthropic,
    fake_gemini_server: FakeGemini,
    tiny_rembg_model_path: Path,
) -> Iterator[DrafterStack]:
    """``drafter up`` as a subprocess on a free port, on SQLite, against the fake upstreams
    and the tiny rembg model. Stopping it with SIGTERM must end it cleanly (exit code 0)."""
    stack = start_drafter_up(
        tmp_path_factory.mktemp("drafter-up"),
        anthropic_base_url=fake_anthropic_server.base_url,
        GEMINI_API_KEY="gemini-test-key",
        DRAFTER_GEMINI_BASE_URL=fake_gemini_server.base_url,
        DRAFTER_REMBG_MODEL_PATH=str(tiny_rembg_model_path),
        DRAFTER_IMAGE_UPSTREAM_BACKOFF_S="0.01",
    )
    try:
        wait_for_background_removal(stack)
        yield stack
    finally:
        code = stack.stop()
        assert code == 0, f"drafter up exited with {code}:\n{stack.output()}"
