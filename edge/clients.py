"""The edge's long-lived gRPC channels, one per service, and every stub the edge calls,
built once in the lifespan: nothing else in the edge builds a stub or looks up a channel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from grpc import aio
from grpc_health.v1 import health_pb2_grpc

from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.accounts.v1 import dashboard_service_pb2_grpc as dashboard_grpc
from drafter.accounts.v1 import identity_service_pb2_grpc as identity_grpc
from drafter.accounts.v1 import notifications_service_pb2_grpc as notifications_grpc
from drafter.accounts.v1 import oauth_service_pb2_grpc as oauth_grpc
from drafter.accounts.v1 import responses_service_pb2_grpc as responses_grpc
from drafter.accounts.v1 import status_service_pb2_grpc as status_grpc
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.edge.settings import EdgeSettings
from drafter.images.v1 import images_service_pb2_grpc as images_grpc
from drafter.limits import CHAT_MAX_MESSAGE_BYTES, IMAGE_MAX_MESSAGE_BYTES
from drafter.rpc.channels import open_channel
from drafter.rpc.internal_auth import InternalAuth, load_internal_auth


@dataclass(frozen=True)
class ServiceChannel:
    """One peer: its name as shown on the status page, address, channel and health stub."""

    name: str
    target: str
    channel: aio.Channel
    health: health_pb2_grpc.HealthStub


@dataclass(frozen=True)
class Services:
    """Stubs for every service the edge calls. The accounts process serves seven of them:
    the API's (accounts), OAuth, sign-in (identity), the dashboard's, notification
    preferences, the status history and the stored responses of the Responses API."""

    accounts: accounts_grpc.AccountsServiceStub
    oauth: oauth_grpc.OAuthServiceStub
    identity: identity_grpc.IdentityServiceStub
    dashboard: dashboard_grpc.DashboardServiceStub
    notifications: notifications_grpc.NotificationsServiceStub
    status: status_grpc.StatusServiceStub
    responses: responses_grpc.ResponsesServiceStub
    chat: chat_grpc.ChatServiceStub
    images: images_grpc.ImagesServiceStub
    peers: tuple[ServiceChannel, ...]

    async def close(self) -> None:
        for peer in self.peers:
            await peer.channel.close()


def _peer(
    name: str,
    target: str,
    limit: int | None,
    local: Mapping[str, aio.Channel],
    auth: InternalAuth | None,
) -> ServiceChannel:
    if name in local:
        channel = local[name]
    elif auth is None:
        raise ValueError(f"no internal credentials to reach {name}")
    elif limit:
        channel = open_channel(target, auth, max_message_bytes=limit)
    else:
        channel = open_channel(target, auth)
    return ServiceChannel(name, target, channel, health_pb2_grpc.HealthStub(channel))


def connect_services(
    settings: EdgeSettings, local: Mapping[str, aio.Channel] | None = None
) -> Services:
    """Opens one channel per service; channels connect lazily and reconnect by themselves.
    A service named in ``local`` runs in this process: its in-process channel is used
    (``drafter.rpc.local``), with no network hop; the others are called with the internal
    credentials (``drafter.rpc.internal_auth``)."""
    local = local or {}
    remote = {"accounts", "chat", "images"} - set(local)
    auth = load_internal_auth(settings) if remote else None
    peers = (
        _peer("accounts", settings.accounts_addr, None, local, auth),
        _peer("chat", settings.chat_addr, CHAT_MAX_MESSAGE_BYTES, local, auth),
        _peer("images", settings.images_addr, IMAGE_MAX_MESSAGE_BYTES, local, auth),
    )
    accounts, chat, images = (peer.channel for peer in peers)
    return Services(
        accounts=accounts_grpc.AccountsServiceStub(accounts),
        oauth=oauth_grpc.OAuthServiceStub(accounts),
        identity=identity_grpc.IdentityServiceStub(accounts),
        dashboard=dashboard_grpc.DashboardServiceStub(accounts),
        notifications=notifications_grpc.NotificationsServiceStub(accounts),
        status=status_grpc.StatusServiceStub(accounts),
        responses=responses_grpc.ResponsesServiceStub(accounts),
        chat=chat_grpc.ChatServiceStub(chat),
        images=images_grpc.ImagesServiceStub(images),
        peers=peers,
    )
