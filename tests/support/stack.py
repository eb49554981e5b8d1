"""Running Drafter as real processes in tests: ``drafter up``, ``drafter serve NAME`` and
``drafter admin ...``, with their own data directory and environment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

STARTUP_TIMEOUT_S = 60.0
_PASSTHROUGH = ("PATH", "HOME", "LANG", "PYTHONPATH", "VIRTUAL_ENV", "PYENV_VERSION", "TMPDIR")
# What a program installed in its own virtual environment gets: nothing that points Python
# at another environment or at the checkout.
ISOLATED_PASSTHROUGH = ("PATH", "HOME", "LANG", "TMPDIR")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(
    data_dir: Path, *, passthrough: Sequence[str] = _PASSTHROUGH, **extra: str
) -> dict[str, str]:
    """A clean environment: nothing of the developer's Drafter or Anthropic settings leaks in;
    of the caller's variables only ``passthrough`` ones."""
    env = {k: v for k, v in os.environ.items() if k in passthrough}
    env.update(DRAFTER_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", DRAFTER_LOG_LEVEL="INFO")
    env.update(extra)
    return env


DRAFTER = (sys.executable, "-m", "drafter.cli")


def drafter_command(*args: str) -> list[str]:
    return [*DRAFTER, *args]


@dataclass
class DrafterStack:
    """A running Drafter (one ``drafter up`` or several ``drafter serve`` processes)."""

    base_url: str
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    # How to run `drafter` (this interpreter's, or an installed script) and from where.
    drafter: Sequence[str] = DRAFTER
    cwd: Path | None = None

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v1"

    def admin(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*self.drafter, "admin", *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"drafter admin {' '.join(args)} failed: {result.stderr}")
        return result

    def create_user_with_key(self, email: str, plan: str = "free") -> str:
        """Creates a user on ``plan`` and returns a fresh API key for them."""
        self.admin("user", "create", email, "--plan", plan, "--password", "correct-horse-9")
        return self.admin("key", "create", email).stdout.strip().splitlines()[-1]

    def output(self) -> str:
        return "\n".join(log.read_text(errors="replace")[-4000:] for log in self.logs)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Signals every process and returns the worst exit code."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(sig)
        codes = []
        for process in self.processes:
            try:
                codes.append(process.wait(timeout))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(-9)
        return max(codes, key=abs) if codes else 0


def spawn(
    command: list[str], env: dict[str, str], log: Path, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)


def wait_until_healthy(
    stack: DrafterStack, path: str = "/healthz", timeout_s: float = STARTUP_TIMEOUT_S
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for process in stack.processes:
            if process.poll() is not None:
                stack.stop()
                raise RuntimeError(f"a Drafter process exited early:\n{stack.output()}")
        try:
            if httpx.get(stack.base_url + path, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stack.stop()
    raise RuntimeError(f"Drafter did not become healthy:\n{stack.output()}")


def start_drafter_up(
    data_dir: Path,
    *,
    anthropic_base_url: str,
    up_args: tuple[str, ...] = (),
    drafter: Sequence[str] = DRAFTER,
    cwd: Path | None = None,
    passthrough: Sequence[str] = _PASSTHROUGH,
    startup_timeout_s: float = STARTUP_TIMEOUT_S,
    **env: str,
) -> DrafterStack:
    """``drafter up`` on a free port; ``drafter`` is how to run it (by default this
    interpreter's ``drafter.cli``), from ``cwd``, with only ``passthrough`` variables of
    this process's environment."""
    port = free_port()
    full_env = base_env(
        data_dir,
        passthrough=passthrough,
        ANTHROPIC_BASE_URL=anthropic_base_url,
        ANTHROPIC_API_KEY="sk-ant-test",
        **env,
    )
    stack = DrafterStack(f"http://127.0.0.1:{port}", full_env, drafter=tuple(drafter), cwd=cwd)
    log = data_dir / "drafter-up.log"
    stack.logs.append(log)
    command = [*drafter, "up", "--port", str(port), *up_args]
    stack.processes.append(spawn(command, full_env, log, cwd))
    wait_until_healthy(stack, "/api/v1/status", startup_timeout_s)
    return stack
