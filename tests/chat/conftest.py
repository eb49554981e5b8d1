"""Chat service fixtures: the fake Anthropic server, a real chat gRPC server on loopback
(started with ``services.chat.main.start``) and a generated stub dialling it, or calling
it in process as ``drafter up`` does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.model_table import ModelNotFound, load_model_table
from drafter.rpc.channels import open_channel
from drafter.rpc.server import RunningServer
from drafter.services.chat.main import start
from drafter.services.chat.settings import ChatSettings
from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.reservations import TEST_RESERVATION_KEY, chat_reservation


def chat_settings(fake: FakeAnthropic, **overrides: Any) -> ChatSettings:
    values: dict[str, Any] = {
        "anthropic_base_url": fake.base_url,
        "anthropic_api_key": "test-key",
        "upstream_max_retries": 2,
        "upstream_timeout_s": 10.0,
        "reservation_key": TEST_RESERVATION_KEY,
    }
    return ChatSettings(**(values | overrides))


def _reservation_for(name: str) -> str:
    """A fresh reservation for the model ``name`` refers to (as Authorize resolves it)."""
    try:
        return chat_reservation(load_model_table().resolve(name).id)
    except ModelNotFound:
        return chat_reservation(name)


def complete_request(req: chat_pb.ChatRequest) -> chat_pb.CompleteRequest:
    """``req`` with a fresh reservation for its model, as the edge sends it."""
    return chat_pb.CompleteRequest(request=req, reservation_id=_reservation_for(req.model))


def stream_request(req: chat_pb.ChatRequest) -> chat_pb.StreamCompleteRequest:
    """``req`` with a fresh reservation for its model, as the edge sends it."""
    return chat_pb.StreamCompleteRequest(request=req, reservation_id=_reservation_for(req.model))


def chat_request(*messages: tuple[chat_pb.Role, str], **fields: Any) -> chat_pb.ChatRequest:
    """``chat_request((chat_pb.ROLE_USER, "hi"), model="claude-haiku-4-5", ...)``."""
    fields.setdefault("model", "claude-haiku-4-5")
    return chat_pb.ChatRequest(
        messages=[
            chat_pb.Message(role=role, content=[chat_pb.ContentPart(text=text)])
            for role, text in messages
        ],
        **fields,
    )


@pytest.fixture
def fake(fake_anthropic_server: FakeAnthropic) -> Iterator[FakeAnthropic]:
    """The session's one fake upstream (tests/conftest.py), clean before and after."""
    fake_anthropic_server.reset()
    yield fake_anthropic_server
    fake_anthropic_server.reset()


@pytest.fixture(scope="session")
async def chat_server(fake_anthropic_server: FakeAnthropic) -> AsyncIterator[RunningServer]:
    running = await start(chat_settings(fake_anthropic_server), "127.0.0.1:0")
    yield running
    await running.stop(0)


@pytest.fixture(scope="session", params=["grpc", "in-process"])
async def chat_stub(
    request: pytest.FixtureRequest, chat_server: RunningServer
) -> AsyncIterator[chat_grpc.ChatServiceStub]:
    """A stub over gRPC on loopback, and over the in-process channel ``drafter up`` uses."""
    if request.param == "in-process":
        yield chat_grpc.ChatServiceStub(chat_server.local.channel())
        return
    channel = open_channel(f"127.0.0.1:{chat_server.port}", chat_server.auth)
    yield chat_grpc.ChatServiceStub(channel)
    await channel.close()
