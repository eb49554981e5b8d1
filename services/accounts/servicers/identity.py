"""IdentityServicer: proto in, domain call, proto out, for signing in and web sessions."""

from __future__ import annotations

from grpc import aio

from drafter.accounts.v1 import identity_service_pb2 as identity_pb
from drafter.accounts.v1 import identity_service_pb2_grpc as identity_grpc
from drafter.services.accounts import convert
from drafter.services.accounts.users.identity import Identity


class IdentityServicer(identity_grpc.IdentityServiceServicer):
    def __init__(self, *, identity: Identity) -> None:
        self._identity = identity

    async def SignUp(
        self, request: identity_pb.SignUpRequest, context: aio.ServicerContext
    ) -> identity_pb.SignUpResponse:
        session = await self._identity.sign_up(email=request.email, password=request.password)
        return identity_pb.SignUpResponse(session=convert.session_proto(session))

    async def LogIn(
        self, request: identity_pb.LogInRequest, context: aio.ServicerContext
    ) -> identity_pb.LogInResponse:
        session = await self._identity.log_in(email=request.email, password=request.password)
        return identity_pb.LogInResponse(session=convert.session_proto(session))

    async def GetSession(
        self, request: identity_pb.GetSessionRequest, context: aio.ServicerContext
    ) -> identity_pb.GetSessionResponse:
        session = await self._identity.get(token=request.token)
        return identity_pb.GetSessionResponse(session=convert.session_proto(session))

    async def EndSession(
        self, request: identity_pb.EndSessionRequest, context: aio.ServicerContext
    ) -> identity_pb.EndSessionResponse:
        await self._identity.end(token=request.token)
        return identity_pb.EndSessionResponse()
