"""The edge's HTTP server: uvicorn over the turn-buffered protocol, on a socket that
several edge processes may share, run until SIGINT/SIGTERM. ``drafter up`` and
``drafter serve edge`` both start the edge through here."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import uvicorn

from drafter.asgi_handoff import HandingOff
from drafter.edge.server.http_protocol import DEFAULT_HEADER_TIMEOUT_S, with_header_timeout
from drafter.edge.server.stream_cap import DEFAULT_MAX_STREAMS, listen_backlog
from drafter.rpc.server import stop_on_signals
from drafter.runtime import tune_collector_for_serving


class EdgeServer(uvicorn.Server):
    """uvicorn without its own signal handling: Drafter stops it with everything else."""

    def capture_signals(self) -> Any:
        return contextlib.nullcontext()


def edge_server(
    app: Any,
    host: str,
    port: int,
    *,
    header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S,
    max_streams: int = DEFAULT_MAX_STREAMS,
) -> EdgeServer:
    """uvicorn for the edge. Its proxy-header handling is off: the client's address
    behind trusted proxies is the edge's own rule (``client_address``). The listen queue
    is sized for the stream cap (``stream_cap.listen_backlog``). A stream's rest is
    handed off by its response (``drafter.asgi_handoff``)."""
    config = uvicorn.Config(
        HandingOff(app),
        host=host,
        port=port,
        http=with_header_timeout(header_timeout_s),
        proxy_headers=False,
        loop="none",
        lifespan="on",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=10,
        server_header=False,
        backlog=listen_backlog(max_streams),
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
