"""A chat request opens only with a genuine, fresh, unused chat reservation for its model:
checked in the servicer (over gRPC and in process) and in ``ReservationCheck`` itself."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from grpc import aio

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.rpc.errors import PermissionDenied
from drafter.services.chat.reservation_check import ReservationCheck
from drafter.timeutil import utc_now
from tests.chat.conftest import chat_request
from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.clock import FakeClock
from tests.support.reservations import TEST_RESERVATION_KEY, chat_reservation

USER = chat_pb.ROLE_USER
KEY = TEST_RESERVATION_KEY.encode()
MODEL = "claude-haiku-4-5"


async def _refusal(stub: chat_grpc.ChatServiceStub, reservation_id: str, model: str = MODEL) -> str:
    request = chat_pb.CompleteRequest(
        request=chat_request((USER, "hi"), model=model), reservation_id=reservation_id
    )
    with pytest.raises(aio.AioRpcError) as refused:
        await stub.Complete(request, timeout=10)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    return refused.value.details() or ""


async def test_a_request_without_a_reservation_is_refused_before_the_upstream(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    assert "reservation_id" in await _refusal(chat_stub, "")
    stream = chat_stub.StreamComplete(
        chat_pb.StreamCompleteRequest(request=chat_request((USER, "hi"))), timeout=10
    )
    with pytest.raises(aio.AioRpcError) as refused:
        await stream.read()
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert fake.requests == []


async def test_forged_foreign_and_altered_ids_are_refused(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    genuine = chat_reservation(MODEL)
    signed, _, signature = genuine.rpartition(".")
    altered = f"{signed}x.{signature}"
    for forged in (
        "rsv_made-up",
        altered,
        chat_reservation(MODEL, key="another-key-of-another-deployment-0123456789"),
    ):
        assert "not one the accounts service signed" in await _refusal(chat_stub, forged)
    assert fake.requests == []


async def test_a_reservation_for_another_kind_or_model_is_refused(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    assert "not made for chat" in await _refusal(
        chat_stub, chat_reservation(MODEL, kind="imageGen")
    )
    other = await _refusal(chat_stub, chat_reservation(MODEL), model="claude-sonnet-4-6")
    assert f"made for `{MODEL}`" in other
    assert fake.requests == []


async def test_a_reservation_opens_one_request_only(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    reservation_id = chat_reservation(MODEL)
    request = chat_pb.CompleteRequest(
        request=chat_request((USER, "hi")), reservation_id=reservation_id
    )
    first = await chat_stub.Complete(request, timeout=10)
    assert first.choices[0].content
    assert "already opened" in await _refusal(chat_stub, reservation_id)
    assert len(fake.requests) == 1


async def test_an_expired_reservation_is_refused(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    # The servers' deadline is the default, 900 s.
    stale = chat_reservation(MODEL, created_at=utc_now() - dt.timedelta(seconds=901))
    assert "expired" in await _refusal(chat_stub, stale)
    assert fake.requests == []


def test_used_ids_are_forgotten_once_they_could_not_be_honoured_anyway() -> None:
    clock = FakeClock()
    check = ReservationCheck(KEY, deadline_s=60, clock=clock)
    first = chat_reservation(MODEL, created_at=clock())
    check.admit(first, MODEL)
    clock.advance(seconds=30)
    check.admit(chat_reservation(MODEL, created_at=clock()), MODEL)
    assert len(check._used) == 2
    clock.advance(seconds=31)  # the first has expired, the second not yet
    check.admit(chat_reservation(MODEL, created_at=clock()), MODEL)
    assert len(check._used) == 2
    with pytest.raises(PermissionDenied, match="expired"):
        check.admit(first, MODEL)


async def test_a_messages_passthrough_without_a_reservation_is_refused(
    chat_stub: chat_grpc.ChatServiceStub, fake: FakeAnthropic
) -> None:
    body = (
        b'{"model":"claude-haiku-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}'
    )
    call = chat_stub.Messages(chat_pb.MessagesRequest(model=MODEL, body=body), timeout=10)
    with pytest.raises(aio.AioRpcError) as refused:
        await call.read()
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert fake.requests == []

    granted = chat_pb.MessagesRequest(model=MODEL, body=body, reservation_id=chat_reservation())
    answers = [answer async for answer in chat_stub.Messages(granted, timeout=10)]
    assert answers[0].head.status == 200
    assert len(fake.requests) == 1
