"""A hung upstream gets the model's ``upstream_timeout_s`` (the model table) and a clear
504 in OpenAI's shape, refunded; against a real ``drafter up`` whose model table gives
claude-haiku-4-5 a one-second timeout, and the fake Anthropic server's ``delay_s``.

The rule: a call for the whole Message must be answered within the timeout; a streamed
call must open and send each next event within it, so a long stream that keeps coming is
never cut."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import httpx
import pytest

from tests.fakes.anthropic_server import FakeAnthropic, Reply
from tests.support.stack import DrafterStack, start_drafter_up

CHAT = "/api/v1/chat/completions"
MODEL = "claude-haiku-4-5"
TIMEOUT_S = 1.0


def _short_timeout_table(path: Path) -> Path:
    """The built-in model table with ``MODEL`` given ``TIMEOUT_S``."""
    table = resources.files("drafter").joinpath("models.toml").read_text()
    row = f'id = "{MODEL}"\n'
    assert row in table
    path.write_text(table.replace(row, f"{row}upstream_timeout_s = {TIMEOUT_S}\n", 1))
    return path


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, fake_anthropic_server: FakeAnthropic
) -> Iterator[DrafterStack]:
    data_dir = tmp_path_factory.mktemp("upstream-timeout")
    models = _short_timeout_table(data_dir / "models.toml")
    running = start_drafter_up(
        data_dir,
        anthropic_base_url=fake_anthropic_server.base_url,
        DRAFTER_MODELS_FILE=str(models),
        DRAFTER_REMBG_MODEL_PATH=str(data_dir / "no-rembg.onnx"),
    )
    try:
        yield running
    finally:
        assert running.stop() == 0, running.output()


def _user(stack: DrafterStack) -> dict[str, str]:
    key = stack.create_user_with_key(f"timeout-{uuid.uuid4().hex[:8]}@example.com")
    return {"Authorization": f"Bearer {key}"}


def _used_today(stack: DrafterStack, headers: dict[str, str]) -> int:
    """Today's chat count once settling had time to land (it is asynchronous)."""
    time.sleep(0.5)
    return int(httpx.get(stack.api_url + "/usage", headers=headers).json()["today"]["chat"])


def _body(stream: bool) -> dict[str, object]:
    return {
        "model": MODEL,
        "stream": stream,
        "messages": [{"role": "user", "content": "are you there?"}],
    }


def _assert_timeout_error(error: dict[str, object]) -> None:
    assert error["type"] == "timeout_error"
    assert error["code"] == "upstream_timeout"
    assert "1 s" in str(error["message"])


def test_a_hung_whole_answer_is_a_504_in_openai_shape_and_refunded(
    stack: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    headers = _user(stack)
    # The whole answer would take 1 s per event, several seconds in all.
    fake_anthropic.enqueue(Reply(text="too late", chunks=4, delay_s=1.0))
    started = time.monotonic()
    r = httpx.post(stack.base_url + CHAT, json=_body(False), headers=headers, timeout=30)
    elapsed = time.monotonic() - started
    assert r.status_code == 504, r.text
    _assert_timeout_error(r.json()["error"])
    assert TIMEOUT_S <= elapsed < TIMEOUT_S + 2.0
    assert fake_anthropic.wait_for_disconnect_blocking(5.0)  # the upstream call was closed
    assert _used_today(stack, headers) == 0


def test_a_stream_whose_next_event_is_late_fails_as_a_timeout_and_is_refunded(
    stack: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    headers = _user(stack)
    fake_anthropic.enqueue(Reply(text="too late", chunks=2, delay_s=2.5))
    r = httpx.post(stack.base_url + CHAT, json=_body(True), headers=headers, timeout=30)
    if r.status_code == 200:  # the stream had started: the failure is its error frame
        frames = [line for line in r.text.splitlines() if line.startswith("data: {")]
        assert '"content"' not in r.text and "[DONE]" not in r.text
        error = httpx.Response(200, content=frames[-1].removeprefix("data: ")).json()["error"]
    else:
        assert r.status_code == 504, r.text
        error = r.json()["error"]
    _assert_timeout_error(error)
    assert fake_anthropic.wait_for_disconnect_blocking(5.0)
    assert _used_today(stack, headers) == 0


def test_a_stream_that_keeps_coming_is_not_cut(
    stack: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    headers = _user(stack)
    # About 14 events 0.3 s apart: 4 s in all, each well within the 1 s timeout.
    fake_anthropic.enqueue(Reply(text="word " * 40, chunks=8, delay_s=0.3))
    started = time.monotonic()
    r = httpx.post(stack.base_url + CHAT, json=_body(True), headers=headers, timeout=30)
    assert r.status_code == 200
    assert time.monotonic() - started > 3 * TIMEOUT_S
    assert "[DONE]" in r.text and "error" not in r.text
    assert _used_today(stack, headers) == 1
