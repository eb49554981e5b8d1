"""A database outage answers 503 with ``Retry-After`` in OpenAI's shape, is logged once
(not once per request, no tracebacks), and service resumes when the database is back.

Real processes on loopback: ``drafter serve accounts`` on a throwaway PostgreSQL
database and ``drafter serve edge`` in front of it. The outage: the database refuses new
connections (``ALLOW_CONNECTIONS false``) and every open one is terminated."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support.databases import POSTGRES_ADMIN_URL, throwaway_postgres_database
from tests.support.stack import DrafterStack, base_env, drafter_command, free_port, spawn

pytestmark = [pytest.mark.postgres]

OUTAGE_REQUESTS = 20
START_TIMEOUT_S = 60.0


def _wait_healthy(stack: DrafterStack) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert all(p.poll() is None for p in stack.processes), stack.output()
        try:
            if httpx.get(stack.base_url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the split stack did not start:\n{stack.output()}")


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with throwaway_postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[DrafterStack]:
    data_dir: Path = tmp_path_factory.mktemp("db-outage")
    accounts_port, edge_port = free_port(), free_port()
    env = base_env(
        data_dir,
        DATABASE_URL=database,
        DRAFTER_ACCOUNTS_ADDR=f"127.0.0.1:{accounts_port}",
        DRAFTER_CHAT_ADDR=f"127.0.0.1:{free_port()}",
        DRAFTER_IMAGES_ADDR=f"127.0.0.1:{free_port()}",
        DRAFTER_INTERNAL_TOKEN=secrets.token_urlsafe(32),
        DRAFTER_SECRET_KEY=secrets.token_urlsafe(32),
    )
    stack = DrafterStack(f"http://127.0.0.1:{edge_port}", env)
    for name, args in (("accounts", ()), ("edge", ("--port", str(edge_port)))):
        log = data_dir / f"{name}.log"
        stack.logs.append(log)
        stack.processes.append(spawn(drafter_command("serve", name, *args), env, log))
    try:
        _wait_healthy(stack)
        yield stack
    finally:
        stack.stop()


def _set_connections(database: str, allowed: bool) -> None:
    name = database.rsplit("/", 1)[-1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )


def _accounts_log(stack: DrafterStack) -> str:
    return stack.logs[0].read_text(errors="replace")


def _usage(stack: DrafterStack, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(stack.api_url + "/usage", headers=headers, timeout=15)


def test_an_outage_answers_503_with_retry_after_logged_once_and_service_resumes(
    stack: DrafterStack, database: str
) -> None:
    key = stack.create_user_with_key(f"outage-{secrets.token_hex(4)}@example.com")
    headers = {"Authorization": f"Bearer {key}"}
    assert _usage(stack, headers).status_code == 200

    _set_connections(database, allowed=False)
    try:
        answers = [_usage(stack, headers) for _ in range(OUTAGE_REQUESTS)]
    finally:
        _set_connections(database, allowed=True)

    for r in answers:
        assert r.status_code == 503, r.text
        assert int(r.headers["Retry-After"]) > 0
        error = r.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["code"] == "database_unavailable"
        assert "database" in error["message"]

    deadline = time.monotonic() + 15
    while (r := _usage(stack, headers)).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert r.status_code == 200, r.text

    log = _accounts_log(stack)
    assert log.count("database unavailable") == 1, log
    assert log.count("database reachable again") == 1, log
    # No request answered as a bug (the interceptor's "unexpected error" and traceback).
    assert "unexpected error" not in log, log
