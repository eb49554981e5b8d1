"""IdentityService over real gRPC: sign-up, log-in with one error for every failure,
sessions that expire and end."""

from __future__ import annotations

import grpc
import pytest

from drafter.accounts.v1 import identity_service_pb2 as identity_pb
from tests.support.accounts import Stubs
from tests.support.clock import FakeClock

PASSWORD = "correct horse battery"


async def test_sign_up_log_in_and_end_a_session(stubs: Stubs) -> None:
    signed_up = await stubs.identity.SignUp(
        identity_pb.SignUpRequest(email="Ann@Example.com", password=PASSWORD)
    )
    assert signed_up.session.token and signed_up.session.plan == "free"
    logged_in = await stubs.identity.LogIn(
        identity_pb.LogInRequest(email="ann@example.com", password=PASSWORD)
    )
    token = logged_in.session.token
    assert token != signed_up.session.token
    found = await stubs.identity.GetSession(identity_pb.GetSessionRequest(token=token))
    assert found.session.user_id == signed_up.session.user_id and not found.session.token
    await stubs.identity.EndSession(identity_pb.EndSessionRequest(token=token))
    with pytest.raises(grpc.RpcError) as caught:
        await stubs.identity.GetSession(identity_pb.GetSessionRequest(token=token))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_log_in_failures_look_the_same(stubs: Stubs) -> None:
    await stubs.identity.SignUp(
        identity_pb.SignUpRequest(email="bo@example.com", password=PASSWORD)
    )
    messages = set()
    for email, password in (("bo@example.com", "wrong-password"), ("nobody@example.com", PASSWORD)):
        with pytest.raises(grpc.RpcError) as caught:
            await stubs.identity.LogIn(identity_pb.LogInRequest(email=email, password=password))
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        messages.add(caught.value.details())
    assert messages == {"Invalid email or password."}


async def test_sessions_expire(stubs: Stubs, clock: FakeClock) -> None:
    signed_up = await stubs.identity.SignUp(
        identity_pb.SignUpRequest(email="cy@example.com", password=PASSWORD)
    )
    clock.advance(days=14, seconds=1)
    with pytest.raises(grpc.RpcError) as caught:
        await stubs.identity.GetSession(
            identity_pb.GetSessionRequest(token=signed_up.session.token)
        )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
