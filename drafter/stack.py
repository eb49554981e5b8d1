"""The processes Drafter is made of, in one table: each gRPC service's settings, its
address variable and its ``start``; and the edge's HTTP server."""

from __future__ import annotations

import asyncio
import importlib
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import uvicorn

from drafter.config import CommonSettings
from drafter.memory import tune_collector_for_serving
from drafter.rpc.server import RunningServer, stop_on_signals

log = logging.getLogger("drafter")


@dataclass(frozen=True)
class GrpcService:
    name: str
    addr_env: str
    module: str
    settings_class: str
    # Keyword arguments of ``start`` when ``drafter up`` runs the service (one process).
    up_options: tuple[tuple[str, object], ...] = ()

    def settings(self) -> CommonSettings:
        module = importlib.import_module(self.module.rsplit(".", 1)[0] + ".settings")
        settings: CommonSettings = getattr(module, self.settings_class)()
        return settings

    def default_addr(self, settings: CommonSettings) -> str:
        return str(getattr(settings, f"{self.name}_addr"))

    def starter(self) -> Callable[..., Awaitable[RunningServer]]:
        return importlib.import_module(self.module).start  # type: ignore[no-any-return]

    def server(self) -> Callable[[Any, str], Awaitable[None]]:
        return importlib.import_module(self.module).serve  # type: ignore[no-any-return]


# Started in this order (the edge needs all three). Accounts comes last: its status
# prober checks chat and images, so ``drafter up`` hands it their chosen addresses.
# Under ``drafter up`` there is exactly one accounts service: its quota counters live in
# its memory unless REDIS_URL is set (INTERFACE.md).
GRPC_SERVICES = (
    GrpcService("chat", "DRAFTER_CHAT_ADDR", "services.chat.main", "ChatSettings"),
    GrpcService("images", "DRAFTER_IMAGES_ADDR", "services.images.main", "ImagesSettings"),
    GrpcService(
        "accounts",
        "DRAFTER_ACCOUNTS_ADDR",
        "services.accounts.main",
        "AccountsSettings",
        up_options=(("in_process_quotas", True),),
    ),
)


class EdgeServer(uvicorn.Server):
    """uvicorn without its own signal handling: Drafter stops it with everything else."""

    def capture_signals(self) -> Any:  # type: ignore[override]
        import contextlib

        return contextlib.nullcontext()


def edge_server(app: Any, host: str, port: int) -> EdgeServer:
    from edge.http_protocol import TurnBufferedHttpToolsProtocol

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=TurnBufferedHttpToolsProtocol,
        loop="none",
        lifespan="on",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=10,
        server_header=False,
    )
    return EdgeServer(config)


def edge_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """The edge's listening socket; with ``reuse_port`` several edge processes share it
    and the kernel spreads connections between them (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


async def serve_edge_until_signal(
    server: EdgeServer, sockets: list[socket.socket] | None = None
) -> None:
    """Runs the edge until SIGINT/SIGTERM (or until it stops by itself)."""
    tune_collector_for_serving()
    stop = asyncio.Event()
    with stop_on_signals(stop):
        serving = asyncio.create_task(server.serve(sockets))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait((serving, stopping), return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        stopping.cancel()
        await serving
