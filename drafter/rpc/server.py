"""The one server bootstrap: every Drafter gRPC service is built and stopped here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from drafter.rpc.interceptors import ErrorInterceptor, ExceptionTranslator
from drafter.rpc.internal_auth import InternalAuth
from drafter.rpc.local import LocalRegistry
from drafter.runtime import tune_collector_for_serving

log = logging.getLogger("drafter.rpc")

MiB = 1024 * 1024
DEFAULT_MAX_MESSAGE_BYTES = 4 * MiB
STOP_GRACE_S = 5.0
# Clients ping idle connections every 30 s (drafter.rpc.channels): allowed from every 20 s
# on, so a ping never counts as abuse; more often, twice, and the server sends GOAWAY.
KEEPALIVE_MIN_PING_INTERVAL_MS = 20_000
KEEPALIVE_MAX_PING_STRIKES = 2


class ConnectionSettings(BaseSettings):
    """How long a client connection lives. Clients balance over the replicas they
    resolved when they connected (drafter.rpc.channels); ending every connection after
    ``max_age_s`` (gRPC adds up to 10% jitter) makes them resolve again and spread over
    the replicas started since. Calls under way when the age is reached go on for up to
    ``max_age_grace_s`` (a streamed answer may last many minutes); new calls open a new
    connection at once."""

    model_config = SettingsConfigDict(extra="ignore")

    max_age_s: float = Field(300.0, gt=0, validation_alias="DRAFTER_GRPC_MAX_CONNECTION_AGE_S")
    max_age_grace_s: float = Field(
        3600.0, ge=0, validation_alias="DRAFTER_GRPC_MAX_CONNECTION_AGE_GRACE_S"
    )

    def server_options(self) -> list[tuple[str, int]]:
        return [
            ("grpc.max_connection_age_ms", round(self.max_age_s * 1000)),
            ("grpc.max_connection_age_grace_ms", round(self.max_age_grace_s * 1000)),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", KEEPALIVE_MIN_PING_INTERVAL_MS),
            ("grpc.http2.max_ping_strikes", KEEPALIVE_MAX_PING_STRIKES),
        ]


@dataclass(frozen=True)
class Registration:
    """One servicer to mount: the generated ``add_..._to_server`` and its service name."""

    add: Callable[[Any, aio.Server], None]
    servicer: Any
    name: str


@dataclass
class RunningServer:
    """A started gRPC server with its health servicer, the port it bound, and the same
    servicers for in-process calls (``local``)."""

    server: aio.Server
    health: health.aio.HealthServicer
    port: int
    service_names: tuple[str, ...]
    local: LocalRegistry
    # What a client of this server must present (``open_channel(target, running.auth)``).
    auth: InternalAuth
    cleanups: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def stop(self, grace: float = STOP_GRACE_S) -> None:
        """Marks every service NOT_SERVING, stops accepting, drains for ``grace`` s, then
        closes what the service opened (clients, engines), last opened first."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        for cleanup in reversed(self.cleanups):
            await cleanup()


async def start_server(
    registrations: Sequence[Registration],
    addr: str,
    *,
    auth: InternalAuth,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    maximum_concurrent_rpcs: int | None = None,
    translate: ExceptionTranslator | None = None,
    connections: ConnectionSettings | None = None,
) -> RunningServer:
    """Builds a grpc.aio server that refuses callers without ``auth``'s credentials (all
    but health checks), with the error interceptor, health, and reflection when ``auth``
    asks for it; binds ``addr`` (port 0 picks a free one) and starts it. The same servicers
    are registered for in-process calls too (``RunningServer.local``). ``translate`` is
    what the service knows of exceptions that are not ``DrafterError``s (see
    ``drafter.rpc.interceptors``), for both. ``connections``: the connection lifetime and
    keepalive rules (read from the environment when not given)."""
    connections = connections or ConnectionSettings()
    server = aio.server(
        interceptors=[*auth.server_interceptors(), ErrorInterceptor(translate)],
        maximum_concurrent_rpcs=maximum_concurrent_rpcs,
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.so_reuseport", 0),
            *connections.server_options(),
        ],
    )
    health_servicer = health.aio.HealthServicer()
    local = LocalRegistry(translate)
    for target in (server, local):
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, target)
        for registration in registrations:
            registration.add(registration.servicer, target)
    names = tuple(r.name for r in registrations)
    if auth.reflection:
        reflection.enable_server_reflection(
            (
                *names,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            server,
        )
    credentials = auth.server_credentials()
    if credentials is None:
        port = server.add_insecure_port(addr)
    else:
        port = server.add_secure_port(addr, credentials)
    if port == 0:
        raise OSError(f"cannot listen on {addr}")
    await server.start()
    for name in ("", *names):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info(
        "serving %s on port %d (%s)",
        ", ".join(names),
        port,
        "mutual TLS" if auth.tls else "internal token",
    )
    return RunningServer(server, health_servicer, port, names, local, auth)


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Any:
    """Sets ``stop`` on SIGINT or SIGTERM while the block runs."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


async def serve_until_signal(running: RunningServer, grace: float = STOP_GRACE_S) -> None:
    """Runs a started server until SIGINT or SIGTERM, then stops it gracefully."""
    tune_collector_for_serving()
    stop = asyncio.Event()
    with stop_on_signals(stop):
        await stop.wait()
    log.info("stopping %s", ", ".join(running.service_names))
    await running.stop(grace)
