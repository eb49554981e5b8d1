"""``drafter up`` as the user runs it: its gRPC ports refuse a plain gRPC client, health
stays open, and the API works, from the main process (in-process calls) and from an
extra edge worker (gRPC over loopback, with the token ``drafter up`` generated once into
the data dir and shared)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.rpc.internal_auth import REFUSED, TOKEN_FILE, TOKEN_METADATA_KEY
from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.stack import DrafterStack, free_port, start_drafter_up

EDGE_WORKERS = 2


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, fake_anthropic_server: FakeAnthropic
) -> Iterator[tuple[DrafterStack, str, Path]]:
    data_dir = tmp_path_factory.mktemp("up-auth")
    accounts_addr = f"127.0.0.1:{free_port()}"
    stack = start_drafter_up(
        data_dir,
        anthropic_base_url=fake_anthropic_server.base_url,
        up_args=("--edge-workers", str(EDGE_WORKERS)),
        DRAFTER_ACCOUNTS_ADDR=accounts_addr,
        DRAFTER_REMBG_MODEL="none",
    )
    try:
        yield stack, accounts_addr, data_dir
    finally:
        assert stack.stop() == 0, stack.output()


def test_a_plain_grpc_client_is_refused(stack: tuple[DrafterStack, str, Path]) -> None:
    _, accounts_addr, _ = stack
    with grpc.insecure_channel(accounts_addr) as channel:
        stub = accounts_grpc.AccountsServiceStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.GetUsage(accounts_pb.GetUsageRequest(), timeout=5)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert refused.value.details() == REFUSED
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert health.status == health_pb2.HealthCheckResponse.SERVING


def test_the_token_is_kept_in_the_data_dir_and_opens_the_port(
    stack: tuple[DrafterStack, str, Path],
) -> None:
    _, accounts_addr, data_dir = stack
    token_file = data_dir / TOKEN_FILE
    assert token_file.stat().st_mode & 0o777 == 0o600
    token = token_file.read_text().strip()
    with grpc.insecure_channel(accounts_addr) as channel:
        stub = accounts_grpc.AccountsServiceStub(channel)
        with pytest.raises(grpc.RpcError) as answered:
            stub.GetUsage(
                accounts_pb.GetUsageRequest(), timeout=5, metadata=((TOKEN_METADATA_KEY, token),)
            )
    assert answered.value.details() != REFUSED  # an empty credential: the servicer's answer
    stack_log = stack[0].output()
    assert token not in stack_log


def test_the_api_is_served_by_every_edge_worker(stack: tuple[DrafterStack, str, Path]) -> None:
    drafter, _, _ = stack
    key = drafter.create_user_with_key("auth-stack@example.com", plan="pro")
    body = {"model": "claude-haiku", "messages": [{"role": "user", "content": "hi"}]}
    for _ in range(8):  # a new connection each: the kernel spreads them over the workers
        response = httpx.post(
            f"{drafter.api_url}/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {key}", "Connection": "close"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
