"""The compose deployment without Docker: each service started as its own process with
exactly the command and environment docker-compose.yml gives it, on real PostgreSQL and
Redis. Compose's host names become 127.0.0.1 and its ports free local ones; nothing else
changes."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import grpc
import httpx
import openai
import psycopg
import pytest
import yaml

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.stack import DrafterStack, base_env, free_port, spawn, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PG = os.environ.get(
    "DRAFTER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_TEST_URL = os.environ.get("DRAFTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
SERVICES = ("accounts", "chat", "images", "edge")
COMPOSE_SECRETS = {
    "POSTGRES_PASSWORD": "compose-secret",
    "ANTHROPIC_API_KEY": "sk-ant-test",
    "DRAFTER_SECRET_KEY": "kX9vQ2mZ7rT4wB8nL1pY6cJ3hF5dG0sA",
    "DRAFTER_INTERNAL_TOKEN": "pQ4wE8rT2yU6iO0aS3dF7gH1jK5lZ9xC",
    "DRAFTER_RESERVATION_KEY": "vB3nM7qW1eR5tY9uI2oP6aS0dF4gH8jK",
}

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def compose_config() -> dict:
    env = {**os.environ, **COMPOSE_SECRETS}
    out = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return yaml.safe_load(out)


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    name = f"drafter_compose_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_PG, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(ADMIN_PG)
    yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))
    with psycopg.connect(ADMIN_PG, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def localise(value: str, ports: dict[str, int], database_url: str, fake_url: str) -> str:
    """Compose's network → this machine: service names to 127.0.0.1 and free ports."""
    if value.startswith("postgresql://"):
        return database_url
    if value.startswith("redis://"):
        return REDIS_TEST_URL
    if value.startswith("https://api.anthropic.com"):
        return fake_url
    host, _, port = value.partition(":")
    if host in ports and port.isdigit():
        return f"127.0.0.1:{ports[host]}"
    return value


def service_process(
    name: str, service: dict, ports: dict[str, int], env: dict[str, str]
) -> list[str]:
    command = list(service["command"])
    assert command[:3] == ["drafter", "serve", name]
    command[0] = shutil.which("drafter") or "drafter"
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(ports[name])
    return command


@pytest.fixture(scope="module")
def compose_stack(
    tmp_path_factory: pytest.TempPathFactory,
    database_url: str,
    fake_anthropic_server: FakeAnthropic,
) -> Iterator[DrafterStack]:
    config = compose_config()
    ports = {name: free_port() for name in SERVICES}
    data_dir = tmp_path_factory.mktemp("compose")
    stack = DrafterStack(f"http://127.0.0.1:{ports['edge']}", {})
    for name in SERVICES:
        service = config["services"][name]
        env = base_env(data_dir / name)
        env.update(
            {
                k: localise(str(v), ports, database_url, fake_anthropic_server.base_url)
                for k, v in service["environment"].items()
            }
        )
        env["DRAFTER_DATA_DIR"] = str(data_dir / name)
        if name == "accounts":
            stack.env = env  # the admin CLI runs where the accounts service runs
        log = data_dir / f"{name}.log"
        stack.logs.append(log)
        stack.processes.append(spawn(service_process(name, service, ports, env), env, log))
    wait_until_healthy(stack, "/api/v1/status")
    try:
        yield stack
    finally:
        code = stack.stop()
        assert code == 0, f"a service did not stop cleanly ({code}):\n{stack.output()}"


def test_chat_through_separate_processes(
    compose_stack: DrafterStack, fake_anthropic: FakeAnthropic
) -> None:
    key = compose_stack.create_user_with_key("compose@example.com", "pro")
    client = openai.OpenAI(api_key=key, base_url=compose_stack.api_url, max_retries=0)
    fake_anthropic.enqueue(text="From four processes")
    completion = client.chat.completions.create(
        model="claude-sonnet-4-6", messages=[{"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content == "From four processes"
    assert fake_anthropic.last_request.body["model"] == "claude-sonnet-4-6"
    stream = client.chat.completions.create(
        model="claude-sonnet-4-6",
        messages=[{"role": "user", "content": "stream please"}],
        stream=True,
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


def test_status_sees_postgres_and_every_service(compose_stack: DrafterStack) -> None:
    body = httpx.get(f"{compose_stack.api_url}/status").json()
    assert body["status"] == "ok"
    assert body["services"]["database"]["backend"] == "postgresql"
    for name in ("accounts", "chat", "images"):
        assert body["services"][name]["status"] == "up"


def test_probe_command_of_the_healthchecks(compose_stack: DrafterStack) -> None:
    config = compose_config()
    for name in ("accounts", "chat", "images"):
        test = config["services"][name]["healthcheck"]["test"]
        assert test[1:4] == ["python", "-m", "drafter.rpc.healthcheck"]
        target = compose_stack.env[f"DRAFTER_{name.upper()}_ADDR"]
        result = subprocess.run(
            ["python", "-m", "drafter.rpc.healthcheck", target],
            env=compose_stack.env,
            capture_output=True,
        )
        assert result.returncode == 0, result.stderr
    assert (
        subprocess.run(
            ["python", "-m", "drafter.rpc.healthcheck", f"127.0.0.1:{free_port()}"],
            capture_output=True,
        ).returncode
        == 1
    )


def test_the_services_refuse_a_caller_without_the_internal_token(
    compose_stack: DrafterStack,
) -> None:
    """What a neighbour on the compose network could try: a key for any account, or a
    completion on the operator's Anthropic key. (The edge, with the token, is served: the
    tests above.)"""
    calls = (
        (
            "ACCOUNTS",
            accounts_grpc.AccountsServiceStub,
            "CreateApiKey",
            accounts_pb.CreateApiKeyRequest(),
        ),
        ("CHAT", chat_grpc.ChatServiceStub, "Complete", chat_pb.CompleteRequest()),
    )
    for service, stub_class, method, request in calls:
        target = compose_stack.env[f"DRAFTER_{service}_ADDR"]
        with grpc.insecure_channel(target) as channel, pytest.raises(grpc.RpcError) as refused:
            getattr(stub_class(channel), method)(request, timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED, service
