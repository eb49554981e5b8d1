"""``kill -9`` under load, against split processes (``drafter serve`` accounts, chat, images
and two edges) and a slow fake Anthropic, in two layouts: a throwaway SQLite database
with SQL counters, and a throwaway PostgreSQL database with Redis counters (both on
loopback):

* accounts killed with 50 chats in flight (through both edges) and restarted on the same
  address and data: once the edges' settlements got through, the usage records equal
  the requests answered 200, and the day's counter (and the usage API) equals the records;
* an edge killed with 10 chats in flight while the other edge serves 10 more: the
  accounts service's sweep settles the killed edge's 10 reservations as ``abandoned``
  after ``DRAFTER_RESERVATION_DEADLINE_S``, each with a usage record, none left open, the
  other 10 succeed, and the counter equals the records.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis

from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.databases import throwaway_postgres_database
from tests.support.ledger import Ledger
from tests.support.stack import DrafterStack, base_env, drafter_command, free_port, spawn

pytestmark = pytest.mark.slow

SERVICES = ("accounts", "chat", "images", "edge", "edge2")
# A Redis database of its own (the tests' shared one is 11; the flush test's 13).
REDIS_URL = "redis://127.0.0.1:6379/14"
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
    ledger: Ledger
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.url_of("edge")

    def url_of(self, edge: str) -> str:
        return f"http://127.0.0.1:{self.ports[edge]}"

    def log(self, name: str) -> Path:
        return self.data_dir / f"{name}-{self.starts.get(name, 0)}.log"

    def start(self, name: str) -> None:
        self.starts[name] = self.starts.get(name, 0) + 1
        service = "edge" if name.startswith("edge") else name
        command = drafter_command(
            "serve", service, "--host", "127.0.0.1", "--port", str(self.ports[name])
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
        """Until the status of every running edge says every service is up."""
        deadline = time.monotonic() + timeout_s
        edges = [name for name in self.processes if name.startswith("edge")]
        waiting = [name for name in edges if self.processes[name].poll() is None]
        while waiting and time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None and name in waiting:
                    raise RuntimeError(f"{name} exited early:\n{self.output()}")
            try:
                response = httpx.get(self.url_of(waiting[0]) + "/api/v1/status", timeout=3)
                if response.status_code == 200:
                    waiting.pop(0)
                    continue
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        if waiting:
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

    def records(self) -> dict[str, tuple[int, int]]:
        """Chat usage records per status: (how many, units)."""
        return self.ledger.records()


@pytest.fixture
def slow_anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(chunks=4, delay_s=UPSTREAM_DELAY_S) as fake:
        yield fake


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql+redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ]
)
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    """Where the split stack keeps its state: SQLite (SQL counters), or PostgreSQL and
    Redis on loopback (a throwaway database; the test's own Redis database)."""
    if request.param == "sqlite":
        yield Ledger(f"sqlite:///{tmp_path / 'data' / 'drafter.db'}")
        return
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        with throwaway_postgres_database() as url:
            yield Ledger(url, REDIS_URL)
    finally:
        client.flushdb()
        client.close()


def split_stack(
    tmp_path: Path, upstream: FakeAnthropic, rembg_model: Path, ledger: Ledger, **accounts_env: str
) -> SplitStack:
    ports = {name: free_port() for name in SERVICES}
    if ledger.redis_url:
        accounts_env["REDIS_URL"] = ledger.redis_url
    env = base_env(
        tmp_path / "data",
        DATABASE_URL=ledger.database_url,
        ANTHROPIC_BASE_URL=upstream.base_url,
        ANTHROPIC_API_KEY="sk-ant-test",
        DRAFTER_INTERNAL_TOKEN="pQ4wE8rT2yU6iO0aS3dF7gH1jK5lZ9xC",
        DRAFTER_SECRET_KEY="kX9vQ2mZ7rT4wB8nL1pY6cJ3hF5dG0sA",
        DRAFTER_REMBG_MODEL_PATH=str(rembg_model),
        **{f"DRAFTER_{name.upper()}_ADDR": f"127.0.0.1:{ports[name]}" for name in SERVICES[:3]},
        **accounts_env,
    )
    (tmp_path / "data").mkdir(parents=True, exist_ok=True)
    return SplitStack(tmp_path / "data", env, ports, ledger)


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


async def _load(
    urls: list[str], key: str, n: int, while_in_flight: Callable[[], None]
) -> list[int]:
    """``n`` chats at once, the i-th to ``urls[i % len(urls)]``; ``while_in_flight`` runs
    (in a thread) once the upstream has them all; returns their statuses."""
    limits = httpx.Limits(max_connections=n + 10)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        calls = [
            asyncio.ensure_future(_chat(client, urls[i % len(urls)], key, i)) for i in range(n)
        ]
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


def _user(stack: SplitStack, prefix: str) -> tuple[str, str]:
    """A new pro user: (API key, user id)."""
    email = f"{prefix}-{uuid.uuid4().hex[:6]}@x.test"
    key = stack.admin().create_user_with_key(email, "pro")
    return key, stack.ledger.user_id(email)


@pytest.mark.parametrize("outage_s", [0.0, 5.0], ids=["restarted-at-once", "down-5s"])
async def test_accounts_killed_under_load_loses_no_usage(
    tmp_path: Path,
    slow_anthropic: FakeAnthropic,
    tiny_rembg_model_path: Path,
    ledger: Ledger,
    outage_s: float,
) -> None:
    """Restarted at once (back before the answers end), or after the answers ended (every
    settlement first fails and waits in the edges' queues)."""
    n = 50
    stack = split_stack(tmp_path, slow_anthropic, tiny_rembg_model_path, ledger)
    with running(stack):
        key, user_id = _user(stack, "kill")

        def kill_and_restart_accounts() -> None:
            _wait_for("all in flight", lambda: len(slow_anthropic.requests) >= n, stack, 30)
            stack.kill("accounts")
            time.sleep(outage_s)
            stack.start("accounts")

        edges = [stack.url_of("edge"), stack.url_of("edge2")]
        statuses = await _load(edges, key, n, kill_and_restart_accounts)
        stack.wait_serving()
        answered = statuses.count(200)
        assert answered == n, statuses  # all were authorized before the kill
        if outage_s:  # the settlements waited for the accounts service
            assert "will retry" in stack.log("edge").read_text()
            assert "will retry" in stack.log("edge2").read_text()

        def settled() -> bool:
            return "reserved" not in stack.records()

        _wait_for("every reservation settled", settled, stack, 60)
        records = stack.records()
        assert records == {"succeeded": (answered, answered)}, records
        assert _usage_today(stack, key) == answered
        assert stack.ledger.counter(user_id) == answered


async def test_an_edge_killed_with_requests_in_flight_leaks_no_reservation(
    tmp_path: Path, slow_anthropic: FakeAnthropic, tiny_rembg_model_path: Path, ledger: Ledger
) -> None:
    """20 chats, every other one through the edge that is killed."""
    n = 20
    stack = split_stack(
        tmp_path,
        slow_anthropic,
        tiny_rembg_model_path,
        ledger,
        DRAFTER_RESERVATION_DEADLINE_S="5",
    )
    with running(stack):
        key, user_id = _user(stack, "edge")

        def kill_the_edge() -> None:
            _wait_for("all in flight", lambda: len(slow_anthropic.requests) >= n, stack, 30)
            stack.kill("edge")

        edges = [stack.url_of("edge"), stack.url_of("edge2")]
        statuses = await _load(edges, key, n, kill_the_edge)
        # The killed edge died before any answer ended; the other answered every one.
        assert statuses == [0, 200] * (n // 2), statuses
        _wait_for("the sweep", lambda: "reserved" not in stack.records(), stack, 30)
        assert stack.records() == {"abandoned": (n // 2, n // 2), "succeeded": (n // 2, n // 2)}
        assert stack.ledger.counter(user_id) == n
        stack.start("edge")
        stack.wait_serving()
        assert _usage_today(stack, key) == n
