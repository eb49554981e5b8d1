"""OAuthServicer and IdentityServicer: proto in, domain call, proto out."""

from __future__ import annotations

from collections.abc import Iterable

from grpc import aio
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import identity_service_pb2 as identity_pb
from drafter.accounts.v1 import identity_service_pb2_grpc as identity_grpc
from drafter.accounts.v1 import oauth_service_pb2 as oauth_pb
from drafter.accounts.v1 import oauth_service_pb2_grpc as oauth_grpc
from drafter.rpc.server import Registration
from services.accounts import convert, credential_cache, oauth_apps
from services.accounts.identity import Identity, SessionInfo
from services.accounts.notifications import Notifier
from services.accounts.oauth import (
    AuthorizationRequest,
    ConnectionInfo,
    Invalidate,
    OAuthProvider,
)
from services.accounts.plans import PlanTable
from services.accounts.quota import Clock

OAUTH_SERVICE = oauth_pb.DESCRIPTOR.services_by_name["OAuthService"].full_name
IDENTITY_SERVICE = identity_pb.DESCRIPTOR.services_by_name["IdentityService"].full_name


def _connection_proto(conn: ConnectionInfo) -> oauth_pb.Connection:
    return oauth_pb.Connection(
        client_id=conn.client_id,
        app_name=conn.app_name,
        scopes=list(conn.scopes),
        first_authorized_at=convert.timestamp(conn.first_authorized_at),
        last_used_at=convert.timestamp(conn.last_used_at),
    )


def authorization_request(msg: oauth_pb.CheckAuthorizationRequest) -> AuthorizationRequest:
    return AuthorizationRequest(
        client_id=msg.client_id,
        redirect_uri=msg.redirect_uri,
        response_type=msg.response_type,
        scope=msg.scope,
        code_challenge=msg.code_challenge,
        code_challenge_method=msg.code_challenge_method,
    )


class OAuthServicer(oauth_grpc.OAuthServiceServicer):
    def __init__(
        self, *, provider: OAuthProvider, engine: AsyncEngine, plans: PlanTable, clock: Clock
    ) -> None:
        self._provider = provider
        self._engine = engine
        self._plans = plans
        self._clock = clock

    async def CreateApp(
        self, request: oauth_pb.CreateAppRequest, context: aio.ServicerContext
    ) -> oauth_pb.CreateAppResponse:
        created = await oauth_apps.create_app(
            engine=self._engine,
            plans=self._plans,
            owner_email=request.email,
            owner_id=request.user_id,
            name=request.name,
            redirect_uris=list(request.redirect_uris),
            homepage=request.homepage,
            now=self._clock(),
        )
        return oauth_pb.CreateAppResponse(
            app=convert.app_proto(created.app), client_secret=created.client_secret
        )

    async def ListApps(
        self, request: oauth_pb.ListAppsRequest, context: aio.ServicerContext
    ) -> oauth_pb.ListAppsResponse:
        apps = await oauth_apps.list_apps(engine=self._engine, user_id=request.user_id)
        return oauth_pb.ListAppsResponse(apps=[convert.app_proto(a) for a in apps])

    async def RotateAppSecret(
        self, request: oauth_pb.RotateAppSecretRequest, context: aio.ServicerContext
    ) -> oauth_pb.RotateAppSecretResponse:
        secret = await oauth_apps.rotate_secret(
            engine=self._engine, user_id=request.user_id, client_id=request.client_id
        )
        return oauth_pb.RotateAppSecretResponse(client_secret=secret)

    async def DeleteApp(
        self, request: oauth_pb.DeleteAppRequest, context: aio.ServicerContext
    ) -> oauth_pb.DeleteAppResponse:
        await self._provider.delete_app(user_id=request.user_id, client_id=request.client_id)
        return oauth_pb.DeleteAppResponse()

    async def CheckAuthorization(
        self, request: oauth_pb.CheckAuthorizationRequest, context: aio.ServicerContext
    ) -> oauth_pb.CheckAuthorizationResponse:
        checked = await self._provider.check(authorization_request(request))
        return oauth_pb.CheckAuthorizationResponse(
            app_name=checked.app.name, homepage=checked.app.homepage, scopes=list(checked.scopes)
        )

    async def IssueCode(
        self, request: oauth_pb.IssueCodeRequest, context: aio.ServicerContext
    ) -> oauth_pb.IssueCodeResponse:
        code = await self._provider.issue_code(
            user_id=request.user_id, request=authorization_request(request.authorization)
        )
        return oauth_pb.IssueCodeResponse(code=code)

    async def ExchangeCode(
        self, request: oauth_pb.ExchangeCodeRequest, context: aio.ServicerContext
    ) -> oauth_pb.ExchangeCodeResponse:
        issued = await self._provider.exchange(
            client_id=request.client.client_id,
            client_secret=request.client.client_secret,
            code=request.code,
            redirect_uri=request.redirect_uri,
            verifier=request.code_verifier,
        )
        return oauth_pb.ExchangeCodeResponse(
            access_token=issued.access_token, scope=issued.scope, app_name=issued.app_name
        )

    async def RevokeToken(
        self, request: oauth_pb.RevokeTokenRequest, context: aio.ServicerContext
    ) -> oauth_pb.RevokeTokenResponse:
        await self._provider.revoke_token(
            client_id=request.client.client_id,
            client_secret=request.client.client_secret,
            token=request.token,
        )
        return oauth_pb.RevokeTokenResponse()

    async def ListConnections(
        self, request: oauth_pb.ListConnectionsRequest, context: aio.ServicerContext
    ) -> oauth_pb.ListConnectionsResponse:
        found = await self._provider.list_connections(user_id=request.user_id)
        return oauth_pb.ListConnectionsResponse(connections=[_connection_proto(c) for c in found])

    async def RevokeConnection(
        self, request: oauth_pb.RevokeConnectionRequest, context: aio.ServicerContext
    ) -> oauth_pb.RevokeConnectionResponse:
        await self._provider.revoke_connection(user_id=request.user_id, client_id=request.client_id)
        return oauth_pb.RevokeConnectionResponse()


def _session_proto(session: SessionInfo) -> identity_pb.Session:
    return identity_pb.Session(
        token=session.token,
        user_id=session.user_id,
        email=session.email,
        plan=session.plan,
        expires_at=convert.timestamp(session.expires_at),
    )


class IdentityServicer(identity_grpc.IdentityServiceServicer):
    def __init__(self, *, identity: Identity) -> None:
        self._identity = identity

    async def SignUp(
        self, request: identity_pb.SignUpRequest, context: aio.ServicerContext
    ) -> identity_pb.SignUpResponse:
        session = await self._identity.sign_up(email=request.email, password=request.password)
        return identity_pb.SignUpResponse(session=_session_proto(session))

    async def LogIn(
        self, request: identity_pb.LogInRequest, context: aio.ServicerContext
    ) -> identity_pb.LogInResponse:
        session = await self._identity.log_in(email=request.email, password=request.password)
        return identity_pb.LogInResponse(session=_session_proto(session))

    async def GetSession(
        self, request: identity_pb.GetSessionRequest, context: aio.ServicerContext
    ) -> identity_pb.GetSessionResponse:
        session = await self._identity.get(token=request.token)
        return identity_pb.GetSessionResponse(session=_session_proto(session))

    async def EndSession(
        self, request: identity_pb.EndSessionRequest, context: aio.ServicerContext
    ) -> identity_pb.EndSessionResponse:
        await self._identity.end(token=request.token)
        return identity_pb.EndSessionResponse()


def cache_invalidator(engine: AsyncEngine, redis: Redis | None = None) -> Invalidate:
    """Revocations bump the credentials epoch, so every replica's credential cache forgets
    revoked client tokens before its next Authorize."""

    async def invalidate(digests: Iterable[str]) -> None:
        if list(digests):
            await credential_cache.invalidate(engine=engine, redis=redis)

    return invalidate


def oauth_registrations(
    *,
    engine: AsyncEngine,
    plans: PlanTable,
    clock: Clock,
    redis: Redis | None = None,
    notifier: Notifier | None = None,
) -> list[Registration]:
    """The OAuthService and IdentityService, ready for ``start_server``."""
    invalidate = cache_invalidator(engine, redis)
    provider = OAuthProvider(engine=engine, clock=clock, invalidate=invalidate, notifier=notifier)
    oauth = OAuthServicer(provider=provider, engine=engine, plans=plans, clock=clock)
    identity = IdentityServicer(identity=Identity(engine=engine, plans=plans, clock=clock))
    return [
        Registration(oauth_grpc.add_OAuthServiceServicer_to_server, oauth, OAUTH_SERVICE),
        Registration(
            identity_grpc.add_IdentityServiceServicer_to_server, identity, IDENTITY_SERVICE
        ),
    ]
