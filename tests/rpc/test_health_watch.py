"""``grpc.health.v1.Health/Watch`` on a real server of the one bootstrap: the first status
at once, every change after it, and NOT_SERVING when the server shuts down. grpc's health
``Watch`` writes with ``context.write`` (a coroutine, not a generator): the error
interceptor must wrap it as such."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.rpc.channels import open_channel
from drafter.rpc.internal_auth import InternalAuth
from drafter.rpc.server import Registration, start_server

SERVICE = chat_pb.DESCRIPTOR.services_by_name["ChatService"].full_name
_Status = health_pb2.HealthCheckResponse


@pytest.mark.parametrize("service", ["", SERVICE])
async def test_watch_streams_the_status_and_its_changes(service: str) -> None:
    running = await start_server(
        [
            Registration(
                chat_grpc.add_ChatServiceServicer_to_server,
                chat_grpc.ChatServiceServicer(),
                SERVICE,
            )
        ],
        "127.0.0.1:0",
        auth=InternalAuth(token=secrets.token_urlsafe(48)),
    )
    # No credentials: health stays open.
    channel = aio.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        stub = health_pb2_grpc.HealthStub(channel)
        call = stub.Watch(health_pb2.HealthCheckRequest(service=service), timeout=10)
        first = await call.read()
        assert first.status == _Status.SERVING

        await running.health.set(service, _Status.NOT_SERVING)
        changed = await asyncio.wait_for(call.read(), 5)
        assert changed.status == _Status.NOT_SERVING

        await running.health.set(service, _Status.SERVING)
        back = await asyncio.wait_for(call.read(), 5)
        assert back.status == _Status.SERVING
        call.cancel()
    finally:
        await channel.close()
        await running.stop(0)


async def test_watch_of_an_unknown_service_says_so() -> None:
    auth = InternalAuth(token=secrets.token_urlsafe(48))
    running = await start_server([], "127.0.0.1:0", auth=auth)
    channel = open_channel(f"127.0.0.1:{running.port}", auth)
    try:
        stub = health_pb2_grpc.HealthStub(channel)
        call = stub.Watch(health_pb2.HealthCheckRequest(service="no.Such"), timeout=10)
        first = await call.read()
        assert first.status == _Status.SERVICE_UNKNOWN
        call.cancel()
    finally:
        await channel.close()
        await running.stop(0)
