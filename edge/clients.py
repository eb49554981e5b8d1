"""The edge's long-lived gRPC channels and stubs, one per service, opened in the lifespan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from grpc import aio
from grpc_health.v1 import health_pb2_grpc

from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.images.v1 import images_service_pb2_grpc as images_grpc
from drafter.rpc.channels import open_channel
from edge.settings import EdgeSettings
from services.images.limits import MAX_MESSAGE_BYTES as IMAGES_MAX_MESSAGE_BYTES


@dataclass(frozen=True)
class ServiceChannel:
    """One peer: its name as shown on the status page, address, channel and health stub."""

    name: str
    target: str
    channel: aio.Channel
    health: health_pb2_grpc.HealthStub


@dataclass(frozen=True)
class Services:
    """Stubs for every service the edge calls."""

    accounts: accounts_grpc.AccountsServiceStub
    chat: chat_grpc.ChatServiceStub
    images: images_grpc.ImagesServiceStub
    peers: tuple[ServiceChannel, ...]

    async def close(self) -> None:
        for peer in self.peers:
            await peer.channel.close()


def connect_services(
    settings: EdgeSettings, local: Mapping[str, aio.Channel] | None = None
) -> Services:
    """Opens one channel per service; channels connect lazily and reconnect by themselves.
    A service named in ``local`` runs in this process: its in-process channel is used
    (``drafter.rpc.local``), with no network hop."""
    targets = (
        ("accounts", settings.accounts_addr, None),
        ("chat", settings.chat_addr, None),
        ("images", settings.images_addr, IMAGES_MAX_MESSAGE_BYTES),
    )
    local = local or {}
    peers = []
    for name, target, limit in targets:
        if name in local:
            channel = local[name]
        elif limit:
            channel = open_channel(target, max_message_bytes=limit)
        else:
            channel = open_channel(target)
        peers.append(ServiceChannel(name, target, channel, health_pb2_grpc.HealthStub(channel)))
    by_name = {peer.name: peer.channel for peer in peers}
    return Services(
        accounts=accounts_grpc.AccountsServiceStub(by_name["accounts"]),
        chat=chat_grpc.ChatServiceStub(by_name["chat"]),
        images=images_grpc.ImagesServiceStub(by_name["images"]),
        peers=tuple(peers),
    )
