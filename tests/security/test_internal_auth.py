"""Every RPC of every Drafter gRPC service refuses a caller without the internal token and
serves one with it; health stays open; reflection is off unless asked for.

The RPCs are found from the generated descriptors (every ``*_pb2`` module under
drafter/{accounts,chat,images}/v1), never listed by hand, and called over real loopback
servers started as the services start (their ``main.start``)."""

from __future__ import annotations

import importlib
import pkgutil
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message_factory import GetMessageClass
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from drafter.config import CommonSettings, ConfigError
from drafter.rpc.channels import open_channel
from drafter.rpc.internal_auth import (
    REFUSED,
    TOKEN_FILE,
    TOKEN_METADATA_KEY,
    InternalAuth,
    load_internal_auth,
    load_internal_token,
)
from drafter.rpc.server import RunningServer
from drafter.services.accounts.main import start as start_accounts
from drafter.services.accounts.settings import AccountsSettings
from drafter.services.chat.main import start as start_chat
from drafter.services.images.main import start as start_images
from tests.chat.conftest import chat_settings
from tests.fakes.anthropic_server import FakeAnthropic
from tests.images.conftest import images_settings

PROTO_PACKAGES = ("drafter.accounts.v1", "drafter.chat.v1", "drafter.images.v1")
CALL_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Rpc:
    service: str  # "accounts", "chat" or "images": the process that serves it
    method: MethodDescriptor

    @property
    def path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    def __str__(self) -> str:
        return self.path


def _every_rpc() -> Iterator[Rpc]:
    for package_name in PROTO_PACKAGES:
        package = importlib.import_module(package_name)
        for module_info in pkgutil.iter_modules(package.__path__):
            if not module_info.name.endswith("_pb2"):
                continue
            module = importlib.import_module(f"{package_name}.{module_info.name}")
            for service in module.DESCRIPTOR.services_by_name.values():
                for method in service.methods:
                    yield Rpc(package_name.split(".")[1], method)


RPCS = sorted(_every_rpc(), key=str)


def test_the_descriptors_name_every_service() -> None:
    services = {rpc.method.containing_service.full_name for rpc in RPCS}
    assert {s.rsplit(".", 1)[-1] for s in services} >= {
        "AccountsService",
        "ChatService",
        "ImagesService",
        "OAuthService",
        "DashboardService",
    }
    assert any(rpc.method.server_streaming for rpc in RPCS)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def servers(
    tmp_path_factory: pytest.TempPathFactory, fake_anthropic_server: FakeAnthropic
) -> AsyncIterator[dict[str, RunningServer]]:
    """The three services, each as ``drafter serve`` starts it, on loopback ports."""
    root = tmp_path_factory.mktemp("internal-auth")
    started = {
        "chat": await start_chat(chat_settings(fake_anthropic_server), "127.0.0.1:0"),
        "images": await start_images(
            images_settings(root / "images", GEMINI_API_KEY="", DRAFTER_REMBG_MODEL="none"),
            "127.0.0.1:0",
        ),
        "accounts": await start_accounts(
            AccountsSettings(
                data_dir=root / "accounts", database_url=f"sqlite:///{root / 'drafter.db'}"
            ),
            "127.0.0.1:0",
        ),
    }
    yield started
    for running in started.values():
        await running.stop(0)


async def _call(
    channel: aio.Channel, rpc: Rpc, metadata: Any = None
) -> tuple[grpc.StatusCode, str]:
    """Calls ``rpc`` with an empty request; the status it ended with and its details."""
    request = GetMessageClass(rpc.method.input_type)()
    serializer = type(request).SerializeToString
    try:
        if rpc.method.server_streaming:
            stream = channel.unary_stream(rpc.path, request_serializer=serializer)
            async for _ in stream(request, timeout=CALL_TIMEOUT_S, metadata=metadata):
                pass
        else:
            unary = channel.unary_unary(rpc.path, request_serializer=serializer)
            await unary(request, timeout=CALL_TIMEOUT_S, metadata=metadata)
    except aio.AioRpcError as exc:
        return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""


# What the interceptor answers. A servicer may answer UNAUTHENTICATED too, for a bad API
# key in the request (AccountsService.GetUsage with an empty credential): not a refusal.
REFUSAL = (grpc.StatusCode.UNAUTHENTICATED, REFUSED)


@pytest.mark.parametrize("rpc", RPCS, ids=str)
async def test_every_rpc_refuses_a_caller_without_the_token(
    servers: dict[str, RunningServer], rpc: Rpc
) -> None:
    async with aio.insecure_channel(f"127.0.0.1:{servers[rpc.service].port}") as channel:
        assert await _call(channel, rpc) == REFUSAL
        wrong = ((TOKEN_METADATA_KEY, secrets.token_urlsafe(48)),)
        assert await _call(channel, rpc, wrong) == REFUSAL


@pytest.mark.parametrize("rpc", RPCS, ids=str)
async def test_every_rpc_serves_a_caller_with_the_token(
    servers: dict[str, RunningServer], rpc: Rpc
) -> None:
    running = servers[rpc.service]
    async with open_channel(f"127.0.0.1:{running.port}", running.auth) as channel:
        assert await _call(channel, rpc) != REFUSAL


@pytest.mark.parametrize("service", ["accounts", "chat", "images"])
async def test_health_answers_without_the_token(
    servers: dict[str, RunningServer], service: str
) -> None:
    async with aio.insecure_channel(f"127.0.0.1:{servers[service].port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def _list_services(channel: aio.Channel) -> list[str]:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    async for reply in stub.ServerReflectionInfo(iter([request]), timeout=CALL_TIMEOUT_S):
        return [s.name for s in reply.list_services_response.service]
    return []


async def test_reflection_is_off_by_default(servers: dict[str, RunningServer]) -> None:
    running = servers["chat"]
    async with open_channel(f"127.0.0.1:{running.port}", running.auth) as channel:
        with pytest.raises(aio.AioRpcError) as refused:
            await _list_services(channel)
    assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED


async def test_reflection_is_on_with_the_variable_and_still_needs_the_token(
    tmp_path: Path, fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRAFTER_GRPC_REFLECTION", "1")
    running = await start_chat(chat_settings(fake_anthropic, data_dir=tmp_path), "127.0.0.1:0")
    try:
        target = f"127.0.0.1:{running.port}"
        async with open_channel(target, running.auth) as channel:
            assert "drafter.chat.v1.ChatService" in await _list_services(channel)
        async with aio.insecure_channel(target) as channel:
            with pytest.raises(aio.AioRpcError) as refused:
                await _list_services(channel)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        await running.stop(0)


def test_the_token_is_generated_once_into_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DRAFTER_INTERNAL_TOKEN")
    first = load_internal_auth(CommonSettings(data_dir=tmp_path))
    stored = tmp_path / TOKEN_FILE
    assert stored.stat().st_mode & 0o777 == 0o600
    assert first.token is not None and len(first.token) >= 32
    assert load_internal_auth(CommonSettings(data_dir=tmp_path)) == first


def test_a_configured_token_wins_over_the_stored_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = secrets.token_urlsafe(48)
    monkeypatch.setenv("DRAFTER_INTERNAL_TOKEN", configured)
    assert load_internal_auth(CommonSettings(data_dir=tmp_path)).token == configured
    assert not (tmp_path / TOKEN_FILE).exists()


@pytest.mark.parametrize(
    "weak", ["short-token", "a" * 64, "drafter-internal-token-changeme-0123456789", ""]
)
def test_a_weak_token_is_refused_without_being_echoed(tmp_path: Path, weak: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_internal_token(weak, tmp_path)
    message = str(refused.value)
    assert "DRAFTER_INTERNAL_TOKEN is too weak" in message
    assert not weak or weak not in message


def test_the_token_is_never_in_a_repr() -> None:
    token = secrets.token_urlsafe(48)
    assert token not in repr(InternalAuth(token=token))
