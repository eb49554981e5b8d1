"""Client-side balancing over replicas (``drafter.rpc.channels``): one channel whose target
resolves to two chat servers spreads its calls over both, as an edge's channel does over
the replicas behind a headless Service; servers end connections at their maximum age
(``drafter.rpc.server``) without failing the calls under way or the calls after."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.rpc.channels import grpc_target, open_channel
from drafter.rpc.server import ConnectionSettings, RunningServer
from drafter.services.chat.main import start
from drafter.services.chat.settings import ChatSettings
from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.reservations import TEST_RESERVATION_KEY, chat_reservation


def _complete_request() -> chat_pb.CompleteRequest:
    request = chat_pb.ChatRequest(
        model="claude-haiku-4-5",
        messages=[
            chat_pb.Message(role=chat_pb.ROLE_USER, content=[chat_pb.ContentPart(text="hi")])
        ],
    )
    return chat_pb.CompleteRequest(request=request, reservation_id=chat_reservation())


def _stream_request() -> chat_pb.StreamCompleteRequest:
    complete = _complete_request()
    return chat_pb.StreamCompleteRequest(
        request=complete.request, reservation_id=complete.reservation_id
    )


@pytest.fixture
def upstreams() -> Iterator[tuple[FakeAnthropic, FakeAnthropic]]:
    """One fake upstream per replica, so each one's request count is that replica's."""
    with FakeAnthropic(chunks=4) as first, FakeAnthropic(chunks=4, delay_s=0.05) as second:
        yield first, second


@contextlib.asynccontextmanager
async def _replica(fake: FakeAnthropic) -> AsyncIterator[RunningServer]:
    settings = ChatSettings(
        anthropic_base_url=fake.base_url,
        anthropic_api_key="test-key",
        reservation_key=TEST_RESERVATION_KEY,
    )
    running = await start(settings, "127.0.0.1:0")
    try:
        yield running
    finally:
        await running.stop(0)


@pytest.mark.parametrize(
    ("addr", "target"),
    [
        ("chat:50052", "dns:///chat:50052"),
        ("localhost:50052", "dns:///localhost:50052"),
        ("127.0.0.1:50052", "dns:///127.0.0.1:50052"),
        ("dns:///chat.drafter.svc:50052", "dns:///chat.drafter.svc:50052"),
        ("ipv4:127.0.0.1:1,127.0.0.1:2", "ipv4:127.0.0.1:1,127.0.0.1:2"),
        ("unix:/run/drafter/chat.sock", "unix:/run/drafter/chat.sock"),
    ],
)
def test_an_address_becomes_a_dns_target_unless_it_names_its_resolver(
    addr: str, target: str
) -> None:
    assert grpc_target(addr) == target


async def test_one_channel_spreads_calls_over_both_replicas(
    upstreams: tuple[FakeAnthropic, FakeAnthropic],
) -> None:
    async with _replica(upstreams[0]) as first, _replica(upstreams[1]) as second:
        channel = open_channel(f"ipv4:127.0.0.1:{first.port},127.0.0.1:{second.port}", first.auth)
        try:
            stub = chat_grpc.ChatServiceStub(channel)
            await channel.channel_ready()
            # Both connections up before counting: round_robin alternates over READY ones.
            await stub.Complete(_complete_request(), timeout=10)
            await stub.Complete(_complete_request(), timeout=10)
            for fake in upstreams:
                fake.reset()
            answers = await asyncio.gather(
                *(stub.Complete(_complete_request(), timeout=10) for _ in range(20))
            )
            streamed = [
                [event async for event in stub.StreamComplete(_stream_request(), timeout=10)]
                for _ in range(4)
            ]
        finally:
            await channel.close()
    assert all(answer.choices for answer in answers)
    assert all(events for events in streamed)
    served = [len(fake.requests) for fake in upstreams]
    assert sum(served) == 24
    # round_robin over two READY connections: every other call, give or take the calls
    # a connection that was still settling in passed on.
    assert min(served) >= 8, served


async def test_connections_end_at_their_age_without_failing_calls(
    monkeypatch: pytest.MonkeyPatch, upstreams: tuple[FakeAnthropic, FakeAnthropic]
) -> None:
    monkeypatch.setenv("DRAFTER_GRPC_MAX_CONNECTION_AGE_S", "0.3")
    monkeypatch.setenv("DRAFTER_GRPC_MAX_CONNECTION_AGE_GRACE_S", "30")
    assert ConnectionSettings().server_options()[0] == ("grpc.max_connection_age_ms", 300)
    slow = upstreams[1]  # 50 ms between events: a stream outlives the connection's age
    slow.chunks = 20
    async with _replica(slow) as replica:
        channel = open_channel(f"127.0.0.1:{replica.port}", replica.auth)
        try:
            stub = chat_grpc.ChatServiceStub(channel)
            events = [e async for e in stub.StreamComplete(_stream_request(), timeout=20)]
            later = [await stub.Complete(_complete_request(), timeout=10) for _ in range(3)]
            await asyncio.sleep(0.5)  # past the age again: the next call reconnects
            last = await stub.Complete(_complete_request(), timeout=10)
        finally:
            await channel.close()
    assert [e.WhichOneof("event") for e in events][-2:] == ["finished", "usage"]
    assert all(answer.choices for answer in [*later, last])
    assert slow.completed_streams == 1
