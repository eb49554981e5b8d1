"""The README's first command on a fresh machine: ``pip install .`` (no extras) into a new
virtual environment, then ``drafter up`` from it. Every module imported at run time must
come from [project.dependencies]; the dev extra (httpx, pytest, ...) must not be needed.

Only pip reaches outside (its cache and the package registry): the running stack talks to
the fake Anthropic and fake Gemini on loopback and loads the tiny rembg model from a file,
so rembg never looks for, let alone downloads, a model of its own."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.gemini_server import FakeGemini
from tests.support.stack import ISOLATED_PASSTHROUGH, start_drafter_up

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT_S = 600
# The first start compiles (and caches) pymatting's numba functions, imported with rembg:
# about a minute on two cores.
STARTUP_TIMEOUT_S = 300


def _create_venv(venv: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    # pip keeps its own configuration (index, cache, certificates) from the environment, but
    # nothing may point Python at the checkout or at another environment.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(ROOT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
    )
    assert installed.returncode == 0, f"pip install failed:\n{installed.stderr[-4000:]}"
    return python


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_drafter_up_from_a_fresh_install_without_extras(
    tmp_path: Path,
    fake_anthropic: FakeAnthropic,
    fake_gemini_upstream: FakeGemini,
    tiny_rembg_model_path: Path,
) -> None:
    started = time.monotonic()
    venv = tmp_path / "venv"
    python = _create_venv(venv)
    installed_s = time.monotonic() - started

    missing = subprocess.run([str(python), "-c", "import httpx"], capture_output=True, text=True)
    assert missing.returncode != 0 and "No module named 'httpx'" in missing.stderr

    elsewhere = tmp_path / "cwd"  # not the checkout: nothing is imported from it
    elsewhere.mkdir()
    rembg_home = tmp_path / "u2net-home"  # empty: no model of rembg's own is found
    rembg_home.mkdir()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    stack = start_drafter_up(
        data_dir,
        anthropic_base_url=fake_anthropic.base_url,
        up_args=("--host", "127.0.0.1"),
        drafter=(str(venv / "bin" / "drafter"),),
        cwd=elsewhere,
        passthrough=ISOLATED_PASSTHROUGH,
        startup_timeout_s=STARTUP_TIMEOUT_S,
        GEMINI_API_KEY="gemini-test-key",
        DRAFTER_GEMINI_BASE_URL=fake_gemini_upstream.base_url,
        DRAFTER_IMAGE_UPSTREAM_BACKOFF_S="0.01",
        DRAFTER_REMBG_MODEL_PATH=str(tiny_rembg_model_path),
        U2NET_HOME=str(rembg_home),
    )
    try:
        assert "PYTHONPATH" not in stack.env and "VIRTUAL_ENV" not in stack.env
        key = stack.create_user_with_key("fresh@example.com")
        client = openai.OpenAI(api_key=key, base_url=f"{stack.base_url}/v1", max_retries=0)
        completion = client.chat.completions.create(
            model="claude-haiku-4-5", messages=[{"role": "user", "content": "hello"}]
        )
        assert completion.choices[0].message.content == "Echo: hello"  # the fake's echo
        assert len(fake_anthropic.requests) == 1
        # google-genai, from this environment (httpx2 only), against the fake Gemini.
        images = client.images.generate(prompt="a cat", size="256x256", response_format="b64_json")
        assert images.data and base64.b64decode(images.data[0].b64_json or "")
        assert len(fake_gemini_upstream.requests) == 1
    finally:
        code = stack.stop(signal.SIGTERM)
    output = stack.output()
    assert code == 0, f"drafter up exited with {code}:\n{output}"
    assert "background removal disabled" not in output, output
    print(f"fresh install: pip {installed_s:.0f}s, total {time.monotonic() - started:.0f}s")
