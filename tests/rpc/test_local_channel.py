"""In-process calls (``drafter.rpc.local``) behave as calls over gRPC do: every scenario
runs through a real grpc.aio server on loopback and through the in-process channel of
the same bootstrap, and both must give the same messages, statuses and details."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable

import grpc
import pytest
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.common.v1 import errors_pb2
from drafter.rpc.channels import open_channel
from drafter.rpc.errors import DrafterError, QuotaExceeded, error_from_rpc
from drafter.rpc.internal_auth import InternalAuth
from drafter.rpc.server import Registration, RunningServer, start_server

SERVICE = chat_pb.DESCRIPTOR.services_by_name["ChatService"].full_name


def _text(text: str) -> chat_pb.StreamCompleteResponse:
    return chat_pb.StreamCompleteResponse(delta=chat_pb.Delta(text=text))


class Gone(LookupError):
    """What the service knows of (``_translate``): not a DrafterError."""


def _translate(exc: Exception) -> DrafterError | None:
    return QuotaExceeded("gone", metadata={"retry_after_s": "3"}) if isinstance(exc, Gone) else None


class ScriptedChat(chat_grpc.ChatServiceServicer):
    """Answers by the request's model name: what each scenario needs of a handler."""

    def __init__(self) -> None:
        self.seen_metadata: list[tuple[str, str]] = []
        self.closed_streams = 0
        self.cancelled_completes = 0

    async def Complete(
        self, request: chat_pb.CompleteRequest, context: aio.ServicerContext
    ) -> chat_pb.CompleteResponse:
        model = request.request.model
        self.seen_metadata = [(k, v) for k, v in context.invocation_metadata() or ()]
        if model == "quota":
            raise QuotaExceeded("Daily quota: 20/20 used.", metadata={"retry_after_s": "42"})
        if model == "bug":
            raise RuntimeError("a bug with a secret in it")
        if model == "slow":
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.cancelled_completes += 1
                raise
        if model == "abort":
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "not like this")
        return chat_pb.CompleteResponse(upstream_model=f"echo-{model}")

    async def StreamComplete(
        self, request: chat_pb.StreamCompleteRequest, context: aio.ServicerContext
    ) -> AsyncIterator[chat_pb.StreamCompleteResponse]:
        model = request.request.model
        try:
            yield _text("a")
            yield _text("b")
            if model == "fail":
                raise QuotaExceeded("over", metadata={"retry_after_s": "7"})
            if model == "bug":
                raise RuntimeError("a bug with a secret in it")
            if model == "known":
                raise Gone("the service knows this one")
            if model in ("slow", "endless"):
                await asyncio.sleep(30)
            yield _text("c")
        finally:
            self.closed_streams += 1


@pytest.fixture(scope="module")
async def scripted() -> AsyncIterator[tuple[ScriptedChat, RunningServer]]:
    servicer = ScriptedChat()
    running = await start_server(
        [Registration(chat_grpc.add_ChatServiceServicer_to_server, servicer, SERVICE)],
        "127.0.0.1:0",
        auth=InternalAuth(token=secrets.token_urlsafe(48)),
        translate=_translate,
    )
    yield servicer, running
    await running.stop(0)


@pytest.fixture(params=["grpc", "in-process"])
async def channel(
    request: pytest.FixtureRequest, scripted: tuple[ScriptedChat, RunningServer]
) -> AsyncIterator[aio.Channel]:
    _, running = scripted
    if request.param == "in-process":
        yield running.local.channel()
        return
    channel = open_channel(f"127.0.0.1:{running.port}", running.auth)
    yield channel
    await channel.close()


@pytest.fixture
def servicer(scripted: tuple[ScriptedChat, RunningServer]) -> ScriptedChat:
    return scripted[0]


async def _eventually(condition: Callable[[], bool]) -> bool:
    """Over gRPC the server learns of a deadline or a cancellation a moment later."""
    for _ in range(50):
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


def _complete(model: str) -> chat_pb.CompleteRequest:
    return chat_pb.CompleteRequest(request=chat_pb.ChatRequest(model=model))


def _stream(model: str) -> chat_pb.StreamCompleteRequest:
    return chat_pb.StreamCompleteRequest(request=chat_pb.ChatRequest(model=model))


async def test_unary_answers_and_passes_metadata(
    channel: aio.Channel, servicer: ScriptedChat
) -> None:
    stub = chat_grpc.ChatServiceStub(channel)

    response = await stub.Complete(_complete("m"), timeout=5, metadata=(("x-request-id", "r1"),))

    assert response.upstream_model == "echo-m"
    assert ("x-request-id", "r1") in servicer.seen_metadata


async def test_a_drafter_error_keeps_its_status_reason_and_metadata(channel: aio.Channel) -> None:
    stub = chat_grpc.ChatServiceStub(channel)

    with pytest.raises(aio.AioRpcError) as info:
        await stub.Complete(_complete("quota"), timeout=5)

    error = error_from_rpc(info.value)
    assert error.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert (error.message, error.reason) == (
        "Daily quota: 20/20 used.",
        errors_pb2.ERROR_REASON_QUOTA_EXCEEDED,
    )
    assert error.metadata == {"retry_after_s": "42"}


async def test_an_unexpected_error_is_a_bare_internal(channel: aio.Channel) -> None:
    stub = chat_grpc.ChatServiceStub(channel)

    with pytest.raises(aio.AioRpcError) as info:
        await stub.Complete(_complete("bug"), timeout=5)

    assert info.value.code() == grpc.StatusCode.INTERNAL
    assert info.value.details() == "internal error"
    assert "secret" not in str(info.value.trailing_metadata())


async def test_an_abort_in_the_handler_is_the_callers_status(channel: aio.Channel) -> None:
    stub = chat_grpc.ChatServiceStub(channel)

    with pytest.raises(aio.AioRpcError) as info:
        await stub.Complete(_complete("abort"), timeout=5)

    assert (info.value.code(), info.value.details()) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "not like this",
    )


async def test_a_unary_deadline_cancels_the_handler(
    channel: aio.Channel, servicer: ScriptedChat
) -> None:
    stub = chat_grpc.ChatServiceStub(channel)
    before = servicer.cancelled_completes

    with pytest.raises(aio.AioRpcError) as info:
        await stub.Complete(_complete("slow"), timeout=0.2)

    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert await _eventually(lambda: servicer.cancelled_completes == before + 1)


async def test_a_unary_call_runs_before_it_is_awaited_and_cancel_stops_it(
    channel: aio.Channel, servicer: ScriptedChat
) -> None:
    stub = chat_grpc.ChatServiceStub(channel)
    before = servicer.cancelled_completes

    call = stub.Complete(_complete("slow"), timeout=5)
    await asyncio.sleep(0.2)
    call.cancel()

    with pytest.raises(asyncio.CancelledError):
        await call
    assert await _eventually(lambda: servicer.cancelled_completes == before + 1)


async def test_a_stream_delivers_every_message_then_ends(
    channel: aio.Channel, servicer: ScriptedChat
) -> None:
    stub = chat_grpc.ChatServiceStub(channel)
    before = servicer.closed_streams

    call = stub.StreamComplete(_stream("m"), timeout=5)
    texts = [event.delta.text async for event in call]

    assert texts == ["a", "b", "c"]
    assert await call.read() is aio.EOF
    assert await call.code() == grpc.StatusCode.OK
    assert servicer.closed_streams == before + 1


async def test_a_stream_failure_follows_the_messages_before_it(channel: aio.Channel) -> None:
    stub = chat_grpc.ChatServiceStub(channel)
    call = stub.StreamComplete(_stream("fail"), timeout=5)

    assert (await call.read()).delta.text == "a"
    assert (await call.read()).delta.text == "b"
    with pytest.raises(aio.AioRpcError) as info:
        await call.read()

    error = error_from_rpc(info.value)
    assert (error.code, error.reason, error.metadata) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        errors_pb2.ERROR_REASON_QUOTA_EXCEEDED,
        {"retry_after_s": "7"},
    )
    assert await call.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_an_unexpected_stream_failure_is_a_bare_internal_logged_once(
    channel: aio.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    stub = chat_grpc.ChatServiceStub(channel)
    call = stub.StreamComplete(_stream("bug"), timeout=5)
    assert (await call.read()).delta.text == "a"
    assert (await call.read()).delta.text == "b"

    with (
        caplog.at_level(logging.ERROR, logger="drafter.rpc"),
        pytest.raises(aio.AioRpcError) as info,
    ):
        await call.read()

    assert (info.value.code(), info.value.details()) == (grpc.StatusCode.INTERNAL, "internal error")
    assert "secret" not in str(info.value.trailing_metadata())
    assert await call.code() == grpc.StatusCode.INTERNAL
    logged = [r for r in caplog.records if "unexpected error in" in r.getMessage()]
    assert len(logged) == 1
    assert "/drafter.chat.v1.ChatService/StreamComplete" in logged[0].getMessage()
    assert logged[0].exc_info is not None and logged[0].exc_info[0] is RuntimeError


async def test_a_stream_failure_the_service_knows_is_answered_as_it_says(
    channel: aio.Channel,
) -> None:
    stub = chat_grpc.ChatServiceStub(channel)
    call = stub.StreamComplete(_stream("known"), timeout=5)
    assert [(await call.read()).delta.text for _ in range(2)] == ["a", "b"]

    with pytest.raises(aio.AioRpcError) as info:
        await call.read()

    error = error_from_rpc(info.value)
    assert (error.code, error.message, error.reason, error.metadata) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "gone",
        errors_pb2.ERROR_REASON_QUOTA_EXCEEDED,
        {"retry_after_s": "3"},
    )
    assert await call.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_a_stream_deadline_ends_it(channel: aio.Channel) -> None:
    stub = chat_grpc.ChatServiceStub(channel)
    call = stub.StreamComplete(_stream("slow"), timeout=0.3)

    assert (await call.read()).delta.text == "a"
    assert (await call.read()).delta.text == "b"
    with pytest.raises(aio.AioRpcError) as info:
        await call.read()

    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_a_stream_deadline_passed_between_reads_ends_it(
    channel: aio.Channel, servicer: ScriptedChat
) -> None:
    stub = chat_grpc.ChatServiceStub(channel)
    before = servicer.closed_streams
    call = stub.StreamComplete(_stream("slow"), timeout=0.3)
    assert (await call.read()).delta.text == "a"
    await asyncio.sleep(0.5)  # the caller is busy elsewhere when the deadline passes

    with pytest.raises(aio.AioRpcError) as info:
        for _ in range(3):  # "b" may already be on its way; "c" never comes
            await call.read()

    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert await call.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert await _eventually(lambda: servicer.closed_streams == before + 1)


@pytest.mark.parametrize("pending_read", [True, False])
async def test_cancelling_a_stream_closes_the_handler(
    channel: aio.Channel, servicer: ScriptedChat, pending_read: bool
) -> None:
    stub = chat_grpc.ChatServiceStub(channel)
    before = servicer.closed_streams
    call = stub.StreamComplete(_stream("endless"), timeout=30)
    assert (await call.read()).delta.text == "a"
    assert (await call.read()).delta.text == "b"
    reading = asyncio.ensure_future(call.read()) if pending_read else None
    await asyncio.sleep(0.05)

    assert call.cancel()

    if reading is not None:
        with pytest.raises(asyncio.CancelledError):
            await reading
    assert await _eventually(lambda: servicer.closed_streams == before + 1)
    assert call.cancelled()
    assert not call.cancel()  # only once


async def test_health_is_served_the_same(channel: aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)

    serving = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=5)
    with pytest.raises(aio.AioRpcError) as info:
        await health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)

    assert serving.status == health_pb2.HealthCheckResponse.SERVING
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_an_unknown_method_is_unimplemented(channel: aio.Channel) -> None:
    call = channel.unary_unary(
        "/drafter.chat.v1.ChatService/NoSuchMethod",
        request_serializer=chat_pb.CompleteRequest.SerializeToString,
        response_deserializer=chat_pb.CompleteResponse.FromString,
    )

    with pytest.raises(aio.AioRpcError) as info:
        await call(_complete("m"), timeout=5)

    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
