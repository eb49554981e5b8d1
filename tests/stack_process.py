"""Running Drafter as real processes in tests: ``drafter up``, ``drafter serve NAME`` and
``drafter admin ...``, with their own data directory and environment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

STARTUP_TIMEOUT_S = 60.0
_PASSTHROUGH = ("PATH", "HOME", "LANG", "PYTHONPATH", "VIRTUAL_ENV", "PYENV_VERSION", "TMPDIR")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment: nothing of the developer's Drafter or Anthropic settings leaks in."""
    env = {k: v for k, v in os.environ.items() if k in _PASSTHROUGH}
    env.update(DRAFTER_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", DRAFTER_LOG_LEVEL="INFO")
    env.update(extra)
    return env


def drafter_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "drafter.cli", *args]


@dataclass
class DrafterStack:
    """A running Drafter (one ``drafter up`` or several ``drafter serve`` processes)."""

    base_url: str
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v1"

    def admin(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            drafter_command("admin", *args), env=self.env, capture_output=True, text=True
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


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_until_healthy(stack: DrafterStack, path: str = "/healthz") -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
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
    data_dir: Path, *, anthropic_base_url: str, up_args: tuple[str, ...] = (), **env: str
) -> DrafterStack:
    port = free_port()
    full_env = base_env(
        data_dir,
        ANTHROPIC_BASE_URL=anthropic_base_url,
        ANTHROPIC_API_KEY="sk-ant-test",
        **env,
    )
    stack = DrafterStack(f"http://127.0.0.1:{port}", full_env)
    log = data_dir / "drafter-up.log"
    stack.logs.append(log)
    command = drafter_command("up", "--port", str(port), *up_args)
    stack.processes.append(spawn(command, full_env, log))
    wait_until_healthy(stack, "/api/v1/status")
    return stack
