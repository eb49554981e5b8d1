"""The gateways under comparison, each started as its own process tree on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.litellm_env import ensure_litellm
from bench.procs import ROOT, stop, wait_http
from tests.support.stack import base_env, drafter_command, free_port

BENCH_PLANS = """
default = "bench"
[plans.bench]
name = "Bench"
price_eur_per_week = 0
models = ["claude-haiku-4-5"]
max_api_keys = 5
max_apps = 3
[plans.bench.limits]
chat = 1000000000
imageGen = 10
imageEdit = 10
"""

LITELLM_CONFIG = """
model_list:
  - model_name: claude-haiku-4-5
    litellm_params:
      model: anthropic/claude-haiku-4-5-20251001
      api_base: {upstream}
      api_key: sk-ant-bench
general_settings:
  master_key: {master_key}
litellm_settings:
  drop_params: true
"""


@dataclass
class Gateway:
    name: str
    base_url: str
    api_key: str
    process: subprocess.Popen[bytes]
    logs: list[Path] = field(default_factory=list)
    extra_headers: dict[str, str] = field(default_factory=dict)  # e.g. Portkey's routing

    @property
    def chat_url(self) -> str:
        return f"{self.base_url}/v1/chat/completions"

    def stop(self) -> None:
        stop(self.process)


def drafter_env(workdir: Path, upstream: str, **env: str) -> dict[str, str]:
    """The environment every benchmarked ``drafter`` command runs with: its data dir in
    ``workdir``, the fake upstream, the bench plan, no background-removal model."""
    workdir.mkdir(parents=True, exist_ok=True)
    plans = workdir / "plans.toml"
    plans.write_text(BENCH_PLANS)
    # rembg's home is an empty folder: no model is installed unless the caller names one.
    (workdir / "rembg-home").mkdir(exist_ok=True)
    return base_env(
        workdir,
        ANTHROPIC_BASE_URL=upstream,
        ANTHROPIC_API_KEY="sk-ant-bench",
        DRAFTER_PLANS_FILE=str(plans),
        DRAFTER_LOG_LEVEL="WARNING",
        U2NET_HOME=str(workdir / "rembg-home"),
        **env,
    )


def create_key(env: dict[str, str]) -> str:
    """A user on the bench plan and an API key for them, through ``drafter admin``, which
    works on the data dir's database directly (migrating it first): the stack need not run."""
    admin = drafter_command("admin")
    subprocess.run(
        [*admin, "user", "create", "bench@example.com", "--password", "bench-pass-1"],
        env=env,
        check=True,
        capture_output=True,
    )
    created = subprocess.run(
        [*admin, "key", "create", "bench@example.com"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return created.stdout.strip().splitlines()[-1]


def launch_drafter(
    workdir: Path,
    env: dict[str, str],
    port: int,
    edge_workers: int = 1,
    launcher: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """``drafter up`` on ``port``, its output in ``workdir/drafter.log``; not waited for.
    ``launcher`` is a command that runs ``drafter`` with its arguments instead (such as
    ``python -m bench.objects_census``)."""
    args = ["up", "--port", str(port)]
    if edge_workers > 1:
        args += ["--edge-workers", str(edge_workers)]
    command = [*launcher, *args] if launcher else drafter_command(*args)
    with (workdir / "drafter.log").open("wb") as out:
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def start_drafter(
    workdir: Path,
    upstream: str,
    *,
    edge_workers: int = 1,
    launcher: Sequence[str] = (),
    **env: str,
) -> Gateway:
    environment = drafter_env(workdir, upstream, **env)
    port = free_port()
    process = launch_drafter(workdir, environment, port, edge_workers, launcher)
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/api/v1/status")
    key = create_key(environment)
    return Gateway("drafter", base, key, process, [workdir / "drafter.log"])


def start_litellm(workdir: Path, upstream: str) -> Gateway:
    binary = ensure_litellm()
    workdir.mkdir(parents=True, exist_ok=True)
    master_key = "sk-bench-master"
    config = workdir / "litellm.yaml"
    config.write_text(LITELLM_CONFIG.format(upstream=upstream, master_key=master_key))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update(
        LITELLM_LOG="ERROR",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        LITELLM_TELEMETRY="False",
        DISABLE_ADMIN_UI="True",
    )
    log = workdir / "litellm.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(binary),
                "--config",
                str(config),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--num_workers",
                "1",
                "--telemetry",
                "False",
            ],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/health/liveliness", timeout=180)
    return Gateway("litellm", base, master_key, process, [log])


def start_floor_relay(upstream: str, request: bytes) -> Gateway:
    """The floor row (``bench/floor_relay.py``): a relay with nothing of a gateway's,
    sending ``request`` upstream for every stream."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.floor_relay", "--upstream", upstream, "--port", str(port)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(request)
    process.stdin.close()
    process.stdout.readline()  # ready
    return Gateway("floor relay", f"http://127.0.0.1:{port}", "unused", process)
