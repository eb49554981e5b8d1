"""The pinned Node.js clients (``tests/clients/package.json``) from tests: the path of an
installed command such as ``claude``, and running an ESM script of ``tests/clients/scripts/``
with ``node``, in a clean environment, returning the JSON it prints.

``scripts/test.sh`` installs the clients (``npm ci`` into ``tests/clients/node_modules``).
Without that install a test is skipped on a developer's machine and fails on CI (``CI`` set),
so CI never passes by skipping them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

CLIENTS_DIR = Path(__file__).resolve().parents[1] / "clients"
SCRIPTS_DIR = CLIENTS_DIR / "scripts"
NODE_MODULES = CLIENTS_DIR / "node_modules"
DEFAULT_TIMEOUT_S = 60.0
# Of this process's environment, only what finding programs and temporary files needs: no
# OPENAI_*, ANTHROPIC_* or proxy settings of the developer reach a client.
_PASSTHROUGH = ("PATH", "LANG", "TMPDIR")


def on_ci() -> bool:
    return bool(os.environ.get("CI"))


def _not_installed(reason: str) -> None:
    message = f"{reason}; scripts/test.sh installs them (npm ci in tests/clients)"
    if on_ci():
        pytest.fail(f"Node clients are required on CI: {message}", pytrace=False)
    pytest.skip(f"Node clients not installed: {message}")


def require_node_clients() -> str:
    """The ``node`` executable, once the pinned clients are installed; skips the test (fails
    it on CI) otherwise."""
    node = shutil.which("node")
    if node is None:
        _not_installed("`node` is not on PATH")
    if not (NODE_MODULES / ".package-lock.json").is_file():
        _not_installed(f"{NODE_MODULES} is missing")
    assert node is not None
    return node


def bin_path(name: str) -> Path:
    """An installed command of the clients, e.g. ``bin_path("claude")``."""
    require_node_clients()
    path = NODE_MODULES / ".bin" / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in {NODE_MODULES}/.bin", pytrace=False)
    return path


def clean_env(env: Mapping[str, str], home: Path) -> dict[str, str]:
    """``env`` over the few variables a client needs; ``HOME`` is ``home`` unless ``env``
    sets it, so no client reads the developer's configuration."""
    base = {key: value for key, value in os.environ.items() if key in _PASSTHROUGH}
    base.update(HOME=str(home), NO_COLOR="1")
    base.update(env)
    return base


def run_bin(
    name: str,
    *args: str,
    env: Mapping[str, str],
    timeout_s: float = DEFAULT_TIMEOUT_S,
    cwd: Path | None = None,
    stdin: str = "",
) -> subprocess.CompletedProcess[str]:
    """Runs an installed command (``run_bin("claude", "-p", "hi", env=...)``) with ``env``
    over a clean environment (see ``clean_env``; a fresh temporary ``HOME`` unless ``env``
    gives one) and returns the finished process, whatever its exit code. A run that outlives
    ``timeout_s`` fails the test with what it printed."""
    command = [str(bin_path(name)), *args]
    with tempfile.TemporaryDirectory(prefix="node-home-") as home:
        return _run(command, clean_env(env, Path(home)), timeout_s, cwd or Path(home), stdin)


def run_script(
    script: str,
    *,
    env: Mapping[str, str],
    args: Sequence[str] = (),
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Any:
    """Runs ``tests/clients/scripts/<script>`` (an ES module) with ``node`` and returns the
    JSON value of the last line it prints. A non-zero exit, output that is not JSON or a
    timeout fails the test with the script's stdout and stderr."""
    node = require_node_clients()
    path = SCRIPTS_DIR / script
    if not path.is_file():
        pytest.fail(f"no such client script: {path}", pytrace=False)
    with tempfile.TemporaryDirectory(prefix="node-home-") as home:
        command = [node, str(path), *args]
        result = _run(command, clean_env(env, Path(home)), timeout_s, CLIENTS_DIR, "")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0 or not lines:
        pytest.fail(f"{script} exited {result.returncode}:\n{_printed(result)}", pytrace=False)
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError:
        pytest.fail(f"{script} did not print JSON last:\n{_printed(result)}", pytrace=False)


def _run(
    command: list[str], env: dict[str, str], timeout_s: float, cwd: Path, stdin: str
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command,
            env=env,
            cwd=cwd,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired as timeout:
        printed = _printed_parts(timeout.stdout, timeout.stderr)
        label = " ".join(Path(part).name for part in command[:2])
        pytest.fail(f"{label} timed out after {timeout_s} s:\n{printed}", pytrace=False)


def _printed(result: subprocess.CompletedProcess[str]) -> str:
    return _printed_parts(result.stdout, result.stderr)


def _printed_parts(stdout: str | bytes | None, stderr: str | bytes | None) -> str:
    def text(value: str | bytes | None) -> str:
        if isinstance(value, bytes):
            return value.decode(errors="replace")
        return value or ""

    return f"--- stdout\n{text(stdout)[-4000:]}\n--- stderr\n{text(stderr)[-4000:]}"
