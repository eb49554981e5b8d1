"""``drafter up``: the three gRPC services and the edge in one process and one loop."""

from __future__ import annotations

import logging
import os

from drafter.rpc.server import RunningServer
from drafter.stack import GRPC_SERVICES, edge_server, serve_edge_until_signal

log = logging.getLogger("drafter")


async def run_stack(host: str | None = None, port: int | None = None) -> None:
    """Starts accounts, chat and images (on free loopback ports unless their
    ``DRAFTER_*_ADDR`` is set), then the edge on ``host:port``; stops all on a signal."""
    from edge.app import create_app
    from edge.settings import EdgeSettings

    edge_settings = EdgeSettings()
    started: list[RunningServer] = []
    addrs: dict[str, str] = {}
    try:
        for service in GRPC_SERVICES:
            settings = service.settings()
            settings.ensure_data_dir()
            addr = os.environ.get(service.addr_env) or "127.0.0.1:0"
            running = await service.starter()(settings, addr)
            started.append(running)
            addrs[f"{service.name}_addr"] = f"127.0.0.1:{running.port}"
        overrides: dict[str, object] = {**addrs}
        if host:
            overrides["host"] = host
        if port is not None:
            overrides["port"] = port
        edge_settings = edge_settings.model_copy(update=overrides)
        server = edge_server(create_app(edge_settings), edge_settings.host, edge_settings.port)
        log.info("Drafter is up: API at %s/api/v1", edge_settings.base_url)
        await serve_edge_until_signal(server)
    finally:
        for running in reversed(started):
            await running.stop()
        log.info("Drafter stopped")
