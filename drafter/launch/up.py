"""``drafter up``: the three gRPC services and the edge in one process and one loop.

With ``--edge-workers N`` it also starts N-1 more edge processes (``drafter serve edge
--reuse-port``) on the same port, pointed at the same services, so HTTP work spreads
over more cores; they stop with the stack.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from grpc import aio
from pydantic import SecretStr

from drafter.config import CommonSettings
from drafter.launch.observability import start_observing, worker_metrics_env
from drafter.launch.processes import GRPC_SERVICES
from drafter.rpc.internal_auth import load_internal_auth
from drafter.rpc.server import RunningServer

log = logging.getLogger("drafter")

WORKER_STOP_TIMEOUT_S = 15.0


def _shared_token() -> dict[str, SecretStr]:
    """The one internal token of the whole stack (``DRAFTER_INTERNAL_TOKEN``, or the one
    kept in the data dir, created here on first start), as a settings override; nothing
    when mutual TLS is configured."""
    token = load_internal_auth(CommonSettings()).token
    return {} if token is None else {"internal_token": SecretStr(token)}


async def _start_edge_workers(
    count: int, host: str, port: int, addrs: dict[str, str], shared: dict[str, SecretStr]
) -> list[asyncio.subprocess.Process]:
    env = {**os.environ, **{f"DRAFTER_{k.upper()}": v for k, v in addrs.items()}}
    if "internal_token" in shared:
        env["DRAFTER_INTERNAL_TOKEN"] = shared["internal_token"].get_secret_value()
    command = [
        sys.executable,
        "-m",
        "drafter.cli",
        "serve",
        "edge",
        "--host",
        host,
        "--port",
        str(port),
        "--reuse-port",
    ]
    return [
        await asyncio.create_subprocess_exec(*command, env={**env, **worker_metrics_env(i + 1)})
        for i in range(count)
    ]


async def _stop_edge_workers(workers: list[asyncio.subprocess.Process]) -> None:
    for worker in workers:
        if worker.returncode is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            await asyncio.wait_for(worker.wait(), WORKER_STOP_TIMEOUT_S)
        except TimeoutError:
            worker.kill()


async def run_stack(
    host: str | None = None, port: int | None = None, edge_workers: int = 1
) -> None:
    """Starts accounts, chat and images (on free loopback ports unless their
    ``DRAFTER_*_ADDR`` is set), then the edge on ``host:port``; stops all on a signal.
    All of them, and the extra edge workers, share one internal token."""
    from drafter.edge.app import create_app
    from drafter.edge.server.uvicorn import edge_server, edge_socket, serve_edge_until_signal
    from drafter.edge.settings import EdgeSettings

    edge_settings = EdgeSettings()
    started: list[RunningServer] = []
    workers: list[asyncio.subprocess.Process] = []
    addrs: dict[str, str] = {}
    local_channels: dict[str, aio.Channel] = {}
    shared = _shared_token()
    stop_observing = start_observing("up")
    preparing: dict[str, asyncio.Task[None]] = {}
    try:
        # What a service can do before any starts (accounts: a migration due, in a child
        # process) runs alongside the start-up of those before it.
        for service in GRPC_SERVICES:
            if service.prepared:
                settings = service.settings().model_copy(update=shared)
                preparing[service.name] = asyncio.create_task(service.preparation(settings))
        for service in GRPC_SERVICES:
            settings = service.settings().model_copy(update={**addrs, **shared})
            settings.ensure_data_dir()
            if service.name in preparing:
                await preparing.pop(service.name)
            addr = os.environ.get(service.addr_env) or "127.0.0.1:0"
            running = await service.starter()(settings, addr, **dict(service.up_options))
            started.append(running)
            addrs[f"{service.name}_addr"] = f"127.0.0.1:{running.port}"
            local_channels[service.name] = running.local.channel()
        overrides: dict[str, object] = {**addrs, **shared}
        if host:
            overrides["host"] = host
        if port is not None:
            overrides["port"] = port
        edge_settings = edge_settings.model_copy(update=overrides)
        sock = edge_socket(edge_settings.host, edge_settings.port, reuse_port=edge_workers > 1)
        workers = await _start_edge_workers(
            edge_workers - 1, edge_settings.host, edge_settings.port, addrs, shared
        )
        app = create_app(edge_settings, local_channels if edge_settings.in_process_calls else None)
        server = edge_server(
            app,
            edge_settings.host,
            edge_settings.port,
            header_timeout_s=edge_settings.header_timeout_s,
            max_streams=edge_settings.max_streams,
        )
        log.info("Drafter is up: API at %s/api/v1", edge_settings.base_url)
        await serve_edge_until_signal(server, [sock])
    finally:
        for task in preparing.values():  # start-up failed before their service started
            task.cancel()
        await asyncio.gather(*preparing.values(), return_exceptions=True)
        await _stop_edge_workers(workers)
        for running in reversed(started):
            await running.stop()
        stop_observing()
        log.info("Drafter stopped")
