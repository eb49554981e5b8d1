"""``kill -9`` under load, against split processes (``drafter serve`` accounts, chat, images
and edge, on a throwaway SQLite database) and a slow fake Anthropic:

* accounts killed with 50 chats in flight and restarted on the same address and data:
  once the edge's settlements got through, the usage records equal the requests
  answered 200, and the day's counter (the usage API) equals the records;
* an edge killed with 10 chats in flight: the accounts service's sweep settles the 10
  reservations as ``abandoned`` after ``DRAFTER_RESERVATION_DEADLINE_S``, each with a
  usage record, none left open, the counter equal to the records.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.stack import DrafterStack, base_env, drafter_command, free_port, spawn

pytestmark = pytest.mark.slow

SERVICES = ("accounts", "chat", "images", "edge")
CHAT = "/api/v1/chat/completions"
# Each event of the fake's answers waits this long: a request takes a few seconds.
UPSTREAM_DELAY_S = 0.3
STARTUP_TIMEOUT_S = 60.0


@dataclass
class SplitStack:
    """The four services as their own ``drafter serve`` processes on one data store."""

    data_dir: Path
    env: dict[str, str]
    ports: dict[str, int]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['edge']}"

    @property
    def database(self) -> Path:
        return self.data_dir / "drafter.db"

    def log(self, name: str) -> Path:
        return self.data_dir / f"{name}-{self.starts.get(name, 0)}.log"

    def start(self, name: str) -> None:
        self.starts[name] = self.starts.get(name, 0) + 1
        command = drafter_command(
            "serve", name, "--host", "127.0.0.1", "--port", str(self.ports[name])
        )
        self.processes[name] = spawn(command, self.env, self.log(name))

    def kill(self, name: str) -> None:
        process = self.processes[name]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def output(self) -> str:
        logs = sorted(self.data_dir.glob("*.log"))
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs)

    def wait_serving(self, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
        """Until the edge's status says every service is up."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited early:\n{self.output()}")
            try:
                response = httpx.get(self.base_url + "/api/v1/status", timeout=3)
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the split stack did not come up:\n{self.output()}")

    def admin(self) -> DrafterStack:
        return DrafterStack(self.base_url, self.env)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def rows(self, query: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.database, timeout=10) as conn:
            return conn.execute(query).fetchall()

    def records(self) -> dict[str, tuple[int, int]]:
        """Chat usage records per status: (how many, units)."""
        found = self.rows(
            "SELECT status, count(*), coalesce(sum(units), 0) FROM usage_records "
            "WHERE kind = 'chat' GROUP BY status"
        )
        return {str(row[0]): (int(str(row[1])), int(str(row[2]))) for row in found}


@pytest.fixture
def slow_anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(chunks=4, delay_s=UPSTREAM_DELAY_S) as fake:
        yield fake


def split_stack(
    tmp_path: Path, upstream: FakeAnthropic, rembg_model: Path, **accounts_env: str
) -> SplitStack:
    ports = {name: free_port() for name in SERVICES}
    env = base_env(
        tmp_path / "data",
        DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'drafter.db'}",
        ANTHROPIC_BASE_URL=upstream.base_url,
        ANTHROPIC_API_KEY="sk-ant-test",
        DRAFTER_INTERNAL_TOKEN="pQ4wE8rT2yU6iO0aS3dF7gH1jK5lZ9xC",
        DRAFTER_SECRET_KEY="kX9vQ2mZ7rT4wB8nL1pY6cJ3hF5dG0sA",
        DRAFTER_REMBG_MODEL_PATH=str(rembg_model),
        **{f"DRAFTER_{name.upper()}_ADDR": f"127.0.0.1:{ports[name]}" for name in SERVICES[:3]},
        **accounts_env,
    )
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    return SplitStack(tmp_path / "data", env, ports)


@contextlib.contextmanager
def running(stack: SplitStack) -> Iterator[SplitStack]:
    try:
        for name in SERVICES:
            stack.start(name)
        stack.wait_serving()
        yield stack
    finally:
        stack.stop()


def _body(index: int) -> dict[str, object]:
    return {
        "model": "claude-haiku-4-5",
        "stream": index % 2 == 1,
        "messages": [{"role": "user", "content": f"request {index}"}],
    }


async def _chat(client: httpx.AsyncClient, url: str, key: str, index: int) -> int:
    """One chat, read to its end; its status (0 when the connection failed)."""
    headers = {"Authorization": f"Bearer {key}"}
    try:
        async with client.stream("POST", url + CHAT, json=_body(index), headers=headers) as r:
            async for _ in r.aiter_bytes():
                pass
            return r.status_code
    except httpx.HTTPError:
        return 0


async def _load(url: str, key: str, n: int, while_in_flight: Callable[[], None]) -> list[int]:
    """``n`` chats at once; ``while_in_flight`` runs (in a thread) once the upstream has
    them all; returns their statuses."""
    limits = httpx.Limits(max_connections=n + 10)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        calls = [asyncio.ensure_future(_chat(client, url, key, i)) for i in range(n)]
        await asyncio.to_thread(while_in_flight)
        return list(await asyncio.gather(*calls))


def _wait_for(what: str, check: Callable[[], bool], stack: SplitStack, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within_s} s\n{stack.output()}")
        time.sleep(0.25)


def _usage_today(stack: SplitStack, key: str) -> int:
    response = httpx.get(
        stack.base_url + "/api/v1/usage", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return int(response.json()["today"]["chat"])


@pytest.mark.parametrize("outage_s", [0.0, 5.0], ids=["restarted-at-once", "down-5s"])
async def test_accounts_killed_under_load_loses_no_usage(
    tmp_path: Path, slow_anthropic: FakeAnthropic, tiny_rembg_model_path: Path, outage_s: float
) -> None:
    """Restarted at once (back before the answers end), or after the answers ended (every
    settlement first fails and waits in the edge's queue)."""
    n = 50
    with running(split_stack(tmp_path, slow_anthropic, tiny_rembg_model_path)) as stack:
        key = stack.admin().create_user_with_key(f"kill-{uuid.uuid4().hex[:6]}@x.test", "pro")

        def kill_and_restart_accounts() -> None:
            _wait_for("all in flight", lambda: len(slow_anthropic.requests) >= n, stack, 30)
            stack.kill("accounts")
            time.sleep(outage_s)
            stack.start("accounts")

        statuses = await _load(stack.base_url, key, n, kill_and_restart_accounts)
        stack.wait_serving()
        answered = statuses.count(200)
        assert answered == n, statuses  # all were authorized before the kill
        if outage_s:  # the settlements waited for the accounts service
            assert "will retry" in stack.log("edge").read_text()

        def settled() -> bool:
            return "reserved" not in stack.records()

        _wait_for("every reservation settled", settled, stack, 60)
        records = stack.records()
        assert records == {"succeeded": (answered, answered)}, records
        assert _usage_today(stack, key) == answered
        [(counter,)] = stack.rows("SELECT used FROM quota_counters WHERE kind = 'chat'")
        assert counter == answered


async def test_an_edge_killed_with_requests_in_flight_leaks_no_reservation(
    tmp_path: Path, slow_anthropic: FakeAnthropic, tiny_rembg_model_path: Path
) -> None:
    n = 10
    deadline_s = "3"
    stack = split_stack(
        tmp_path, slow_anthropic, tiny_rembg_model_path, DRAFTER_RESERVATION_DEADLINE_S=deadline_s
    )
    with running(stack):
        key = stack.admin().create_user_with_key(f"edge-{uuid.uuid4().hex[:6]}@x.test", "pro")

        def kill_the_edge() -> None:
            _wait_for("all in flight", lambda: len(slow_anthropic.requests) >= n, stack, 30)
            stack.kill("edge")

        statuses = await _load(stack.base_url, key, n, kill_the_edge)
        assert statuses == [0] * n  # the edge died before any answer ended
        _wait_for("the sweep", lambda: "reserved" not in stack.records(), stack, 30)
        assert stack.records() == {"abandoned": (n, n)}
        [(counter,)] = stack.rows("SELECT used FROM quota_counters WHERE kind = 'chat'")
        assert counter == n
        stack.start("edge")
        stack.wait_serving()
        assert _usage_today(stack, key) == n
