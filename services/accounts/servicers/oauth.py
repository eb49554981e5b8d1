"""OAuthServicer: proto in, domain call, proto out, for OAuth apps, the code grant and
a user's connections."""

from __future__ import annotations

from grpc import aio
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import oauth_service_pb2 as oauth_pb
from drafter.accounts.v1 import oauth_service_pb2_grpc as oauth_grpc
from drafter.services.accounts import convert
from drafter.services.accounts.oauth import apps as oauth_apps
from drafter.services.accounts.oauth.provider import OAuthProvider
from drafter.services.accounts.plans.table import PlanTable
from drafter.timeutil import Clock


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
        checked = await self._provider.check(convert.authorization_request(request))
        return oauth_pb.CheckAuthorizationResponse(
            app_name=checked.app.name, homepage=checked.app.homepage, scopes=list(checked.scopes)
        )

    async def IssueCode(
        self, request: oauth_pb.IssueCodeRequest, context: aio.ServicerContext
    ) -> oauth_pb.IssueCodeResponse:
        code = await self._provider.issue_code(
            user_id=request.user_id, request=convert.authorization_request(request.authorization)
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
        return oauth_pb.ListConnectionsResponse(
            connections=[convert.connection_proto(c) for c in found]
        )

    async def RevokeConnection(
        self, request: oauth_pb.RevokeConnectionRequest, context: aio.ServicerContext
    ) -> oauth_pb.RevokeConnectionResponse:
        await self._provider.revoke_connection(user_id=request.user_id, client_id=request.client_id)
        return oauth_pb.RevokeConnectionResponse()
