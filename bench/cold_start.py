"""Cold start: from launching ``drafter up`` to its first successful chat completion.

    python -m bench.cold_start [--launches 3]

Every launch gets a new data dir and the environment the other benchmarks start Drafter
with (``bench.gateways.drafter_env``). An API key is made with ``drafter admin``, which
works on the data dir's database directly, so there are two ways to count:

- empty data dir: launch → ``/api/v1/status`` answers 200 (database created and
  migrated, every service and the edge up); then the two ``drafter admin`` runs that make
  a user and a key; launch → first chat completion answered 200 with content, which
  includes those two runs;
- key made before the launch (the admin runs create and migrate the database first):
  launch → first chat completion answered 200 with content, polled from the launch on.

A chat completion is polled every 50 ms. With a reachable Docker daemon and the
``drafter:latest`` image already built (``docker compose build``), the same second count
is taken for ``docker run`` of that image; without one a line says why it was not.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson

from bench.gateways import BENCH_PLANS, create_key, drafter_env, launch_drafter
from bench.instant import markdown_table
from bench.procs import ROOT, fake_anthropic, stop
from bench.targets import PROMPT
from tests.support.stack import free_port

POLL_S = 0.05
TIMEOUT_S = 120.0
IMAGE = "drafter:latest"  # docker-compose.yml's name for the Dockerfile's image
CHAT_BODY = orjson.dumps({"model": "claude-haiku-4-5", "messages": PROMPT, "max_tokens": 64})


def _status_ok(client: httpx.Client, base: str) -> bool:
    try:
        return client.get(f"{base}/api/v1/status").status_code == 200
    except httpx.HTTPError:
        return False


def _chat_ok(client: httpx.Client, base: str, key: str) -> bool:
    """One chat completion: answered 200 with a non-empty message."""
    try:
        response = client.post(
            f"{base}/v1/chat/completions",
            content=CHAT_BODY,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        if response.status_code != 200:
            return False
        return bool(orjson.loads(response.content)["choices"][0]["message"]["content"])
    except (httpx.HTTPError, orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        return False


def _until(check: Callable[[], bool], alive: Callable[[], bool], log: Path | None) -> float:
    """Polls ``check`` every POLL_S; the clock time it first held."""
    deadline = time.perf_counter() + TIMEOUT_S
    while time.perf_counter() < deadline:
        if check():
            return time.perf_counter()
        if not alive():
            tail = log.read_text(errors="replace")[-2000:] if log else ""
            raise RuntimeError(f"the stack exited before answering\n{tail}")
        time.sleep(POLL_S)
    raise RuntimeError(f"no answer within {TIMEOUT_S:.0f} s")


def launch_empty(workdir: Path, upstream: str) -> tuple[float, float, float]:
    """Seconds from launch to healthy, of the two admin runs, from launch to first 200."""
    env = drafter_env(workdir, upstream)
    base = f"http://127.0.0.1:{(port := free_port())}"
    log = workdir / "drafter.log"
    with httpx.Client(timeout=5) as client:
        started = time.perf_counter()
        process = launch_drafter(workdir, env, port)
        try:

            def alive() -> bool:
                return process.poll() is None

            healthy = _until(lambda: _status_ok(client, base), alive, log)
            key = create_key(env)
            keyed = time.perf_counter()
            first = _until(lambda: _chat_ok(client, base, key), alive, log)
        finally:
            stop(process)
    return healthy - started, keyed - healthy, first - started


def launch_keyed(workdir: Path, upstream: str) -> float:
    """Seconds from launch to first 200, the key made (and database migrated) before."""
    env = drafter_env(workdir, upstream)
    key = create_key(env)
    base = f"http://127.0.0.1:{(port := free_port())}"
    with httpx.Client(timeout=5) as client:
        started = time.perf_counter()
        process = launch_drafter(workdir, env, port)
        try:
            first = _until(
                lambda: _chat_ok(client, base, key),
                lambda: process.poll() is None,
                workdir / "drafter.log",
            )
        finally:
            stop(process)
    return first - started


def docker_unavailable() -> str | None:
    """Why the container start cannot be measured here (``None`` when it can)."""
    if not (ROOT / "Dockerfile").exists():
        return "the project has no Dockerfile"
    if shutil.which("docker") is None:
        return "no docker command"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        said = (info.stderr.strip().splitlines() or ["no reason given"])[-1]
        return f"no Docker daemon reachable (docker info: {said})"
    image = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True)
    if image.returncode != 0:
        return f"image {IMAGE} is not built (docker compose build)"
    return None


def _docker(*args: str) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"docker {args[0]} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def launch_container(workdir: Path, upstream: str) -> float:
    """Seconds from ``docker run`` of the built image (host network, so the loopback fake
    upstream is reachable) to its first 200 chat completion. The data volume is new, with
    the key made before by the image's own ``drafter admin``."""
    workdir.mkdir(parents=True, exist_ok=True)
    plans = workdir / "plans.toml"
    plans.write_text(BENCH_PLANS)
    plans.chmod(0o644)  # read by the image's own user
    name = f"drafter-bench-{secrets.token_hex(4)}"
    port = free_port()
    options = [
        "--network=host",
        f"--volume={name}:/data",
        f"--volume={plans}:/etc/drafter-bench/plans.toml:ro",
        "--env=DRAFTER_PLANS_FILE=/etc/drafter-bench/plans.toml",
        f"--env=ANTHROPIC_BASE_URL={upstream}",
        "--env=ANTHROPIC_API_KEY=sk-ant-bench",
        "--env=DRAFTER_LOG_LEVEL=WARNING",
    ]
    admin = ["run", "--rm", *options, IMAGE, "drafter", "admin"]
    _docker("volume", "create", name)
    try:
        _docker(*admin, "user", "create", "bench@example.com", "--password", "bench-pass-1")
        key = _docker(*admin, "key", "create", "bench@example.com").strip().splitlines()[-1]
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(timeout=5) as client:
            started = time.perf_counter()
            _docker("run", "--detach", f"--name={name}", *options, IMAGE, "drafter", "up",
                    "--host", "127.0.0.1", "--port", str(port))  # fmt: skip
            first = _until(lambda: _chat_ok(client, base, key), lambda: True, None)
        return first - started
    finally:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True)
        subprocess.run(["docker", "volume", "rm", "--force", name], capture_output=True)


def _row(what: str, seconds: list[float], includes: str) -> list[str]:
    return [
        what,
        str(len(seconds)),
        f"{statistics.median(seconds):.2f}",
        f"{min(seconds):.2f} to {max(seconds):.2f}",
        includes,
    ]


def cold_start_report(workdir: Path, upstream: str, launches: int) -> list[str]:
    healthy, admin, first, keyed = [], [], [], []
    for i in range(launches):
        h, a, f = launch_empty(workdir / f"empty-{i}", upstream)
        healthy.append(h)
        admin.append(a)
        first.append(f)
        keyed.append(launch_keyed(workdir / f"keyed-{i}", upstream))
        print(f"done: cold start {i + 1}/{launches}", flush=True)
    rows = [
        _row(
            "launch → healthy, empty data dir",
            healthy,
            "`/api/v1/status` 200: database created and migrated, services and edge up",
        ),
        _row(
            "`drafter admin` user + key, once healthy",
            admin,
            "two CLI processes (Python start-up and imports each)",
        ),
        _row(
            "launch → first 200 chat completion, empty data dir",
            first,
            "start-up, migrations, the two CLI runs above, the first request",
        ),
        _row(
            "launch → first 200 chat completion, key made before launch",
            keyed,
            "start-up and the first request; database migrated by the CLI beforehand",
        ),
    ]
    notes = []
    if (why := docker_unavailable()) is None:
        container = [launch_container(workdir / f"docker-{i}", upstream) for i in range(launches)]
        rows.append(
            _row(
                f"`docker run {IMAGE}` → first 200 chat completion, key made before",
                container,
                "container creation and start-up, the first request",
            )
        )
    else:
        notes.append(f"Container start not measured: {why}.")
    header = ["from → to", "launches", "median s", "range s", "what is included"]
    return [
        *markdown_table(header, rows),
        "",
        *notes,
        f"Chat completions polled every {POLL_S * 1000:.0f} ms; each launch a new data dir.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=3)
    args = parser.parse_args()
    with fake_anthropic() as upstream, tempfile.TemporaryDirectory() as tmp:
        print("\n".join(cold_start_report(Path(tmp), upstream, args.launches)))


if __name__ == "__main__":
    main()
