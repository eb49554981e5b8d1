"""``drafter serve NAME``: one service as its own process (what docker-compose runs)."""

from __future__ import annotations

from drafter.launch.observability import observed_process
from drafter.launch.processes import GRPC_SERVICES


def _addr(default: str, host: str | None, port: int | None) -> str:
    default_host, _, default_port = default.rpartition(":")
    return f"{host or default_host}:{port if port is not None else default_port}"


async def serve_one(
    name: str, host: str | None = None, port: int | None = None, *, reuse_port: bool = False
) -> None:
    with observed_process(name):
        if name == "edge":
            await _serve_edge(host, port, reuse_port=reuse_port)
            return
        service = next(s for s in GRPC_SERVICES if s.name == name)
        settings = service.settings()
        settings.ensure_data_dir()
        await service.server()(settings, _addr(service.default_addr(settings), host, port))


async def _serve_edge(host: str | None, port: int | None, *, reuse_port: bool) -> None:
    from drafter.edge.app import create_app
    from drafter.edge.server.uvicorn import edge_server, edge_socket, serve_edge_until_signal
    from drafter.edge.settings import EdgeSettings

    updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = EdgeSettings().model_copy(update=updates)
    sock = edge_socket(settings.host, settings.port, reuse_port=reuse_port)
    await serve_edge_until_signal(
        edge_server(
            create_app(settings),
            settings.host,
            settings.port,
            header_timeout_s=settings.header_timeout_s,
            max_streams=settings.max_streams,
        ),
        [sock],
    )
