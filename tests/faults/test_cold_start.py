"""Start in seconds: a cold ``drafter up`` (an empty numba compile cache, so rembg's
pymatting compiles everything again) serves ``/healthz`` and a chat completion within
10 s of the spawn, while background removal loads behind it: remove-bg answers 503 with
``Retry-After`` in OpenAI's error shape (refunded) and the status says "starting", until
the model is loaded; then it answers 200."""

from __future__ import annotations

import io
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from PIL import Image

from tests.fakes.anthropic_server import FakeAnthropic
from tests.images.conftest import square_on_dark
from tests.support.stack import DRAFTER, DrafterStack, base_env, start_drafter_up

ROOT = Path(__file__).resolve().parents[2]
START_BUDGET_S = 10.0
# How long a cold compile of pymatting may take on a busy 2-core machine.
MODEL_LOAD_BUDGET_S = 300.0
EMAIL = "cold@example.com"


def _api_key(data_dir: Path) -> str:
    """A user and key made before the spawn, so the clock measures only ``drafter up``."""
    env = base_env(data_dir)
    admin = [*DRAFTER, "admin"]
    subprocess.run(
        [*admin, "user", "create", EMAIL, "--plan", "pro", "--password", "correct-horse-9"],
        env=env,
        check=True,
        capture_output=True,
    )
    created = subprocess.run(
        [*admin, "key", "create", EMAIL], env=env, check=True, capture_output=True, text=True
    )
    return created.stdout.strip().splitlines()[-1]


@pytest.fixture
def cold_start(
    tmp_path: Path, fake_anthropic: FakeAnthropic, tiny_rembg_model_path: Path
) -> Iterator[tuple[DrafterStack, dict[str, str], float]]:
    """``drafter up`` with an empty NUMBA_CACHE_DIR, its spawn time and a user's headers."""
    data_dir = tmp_path / "data"
    numba_cache = tmp_path / "numba-cache"
    numba_cache.mkdir()
    headers = {"Authorization": f"Bearer {_api_key(data_dir)}"}
    spawned = time.monotonic()
    stack = start_drafter_up(
        data_dir,
        anthropic_base_url=fake_anthropic.base_url,
        startup_timeout_s=START_BUDGET_S,
        DRAFTER_REMBG_MODEL_PATH=str(tiny_rembg_model_path),
        NUMBA_CACHE_DIR=str(numba_cache),
    )
    try:
        yield stack, headers, spawned
    finally:
        code = stack.stop()
        assert code == 0, f"drafter up exited with {code}:\n{stack.output()}"


def _remove_bg(stack: DrafterStack, headers: dict[str, str]) -> httpx.Response:
    files = {"image": ("photo.png", square_on_dark("PNG"), "image/png")}
    return httpx.post(stack.api_url + "/image/remove-bg", headers=headers, files=files, timeout=60)


def _removal_state(stack: DrafterStack) -> str:
    status = httpx.get(stack.api_url + "/status", timeout=10).json()
    return str(status["services"]["images"].get("background_removal"))


def _image_edits_today(stack: DrafterStack, headers: dict[str, str], expected: int) -> int:
    deadline = time.monotonic() + 10
    while True:
        today = httpx.get(stack.api_url + "/usage", headers=headers, timeout=10).json()["today"]
        if today["imageEdit"] == expected or time.monotonic() > deadline:
            return int(today["imageEdit"])
        time.sleep(0.1)


@pytest.mark.slow
def test_cold_start_serves_chat_at_once_and_remove_bg_once_loaded(
    cold_start: tuple[DrafterStack, dict[str, str], float],
) -> None:
    stack, headers, spawned = cold_start

    assert httpx.get(stack.base_url + "/healthz", timeout=5).status_code == 200
    chat = httpx.post(
        stack.api_url + "/chat/completions",
        headers=headers,
        json={"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "Hello!"}]},
        timeout=START_BUDGET_S,
    )
    answered_after = time.monotonic() - spawned
    assert chat.status_code == 200, chat.text
    assert chat.json()["choices"][0]["message"]["content"]
    assert answered_after < START_BUDGET_S, f"first chat {answered_after:.1f} s after spawn"

    # Right after start the model may still be loading (a cold compile takes tens of
    # seconds) or, on a fast machine, be loaded already: either is the real state.
    first = _remove_bg(stack, headers)
    assert first.status_code in (200, 503), first.text
    if first.status_code == 503:
        assert int(first.headers["Retry-After"]) > 0
        error = first.json()["error"]
        assert error["code"] == "warming_up"
        assert error["type"] == "overloaded_error"
        assert "starting" in error["message"]
        assert _removal_state(stack) in ("starting", "up")

    deadline = time.monotonic() + MODEL_LOAD_BUDGET_S
    answer = first
    while answer.status_code != 200:
        assert answer.status_code == 503 and "Retry-After" in answer.headers, answer.text
        assert time.monotonic() < deadline, f"rembg never loaded:\n{stack.output()}"
        time.sleep(1)
        answer = _remove_bg(stack, headers)
    assert answer.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(answer.content)).mode == "RGBA"
    assert _removal_state(stack) == "up"
    page = httpx.get(stack.base_url + "/status", timeout=10).text
    assert "background removal up" in page
    # Every 503 while warming up was refunded: only the answered request counts.
    assert _image_edits_today(stack, headers, 1) == 1


def test_the_image_ships_a_warm_compile_cache_its_user_owns() -> None:
    """The build stage compiles pymatting into the cache (importing rembg) and the final
    image hands it to the ``drafter`` user, with the same settings at run time."""
    build, final = (ROOT / "Dockerfile").read_text().split("\nFROM ", 2)[1:]
    assert "NUMBA_CACHE_DIR=/numba-cache" in build and 'python -c "import rembg"' in build
    assert "COPY --from=build --chown=drafter:drafter /numba-cache /var/cache/drafter/numba" in (
        final
    )
    assert "NUMBA_CACHE_DIR=/var/cache/drafter/numba" in final
    assert "NUMBA_CPU_NAME=generic" in build and "NUMBA_CPU_NAME=generic" in final


def test_compose_health_checks_allow_a_start_period() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("accounts", "chat", "images", "edge"):
        assert services[name]["healthcheck"]["start_period"] == "60s", name
