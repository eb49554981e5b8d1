"""Background removal's state in the images service's grpc.health.v1, under the name of
the RPC itself, ``drafter.images.v1.ImagesService.RemoveBackground`` (read by the edge's
status, ``edge/health.py``, from the same descriptor): UNKNOWN while the model loads
(shown as "starting"), SERVING once it is loaded, NOT_SERVING when it is off or failed.
The service as a whole (name "") is SERVING from the start: generation and stored
images do not wait for rembg."""

from __future__ import annotations

import asyncio
import contextlib

from grpc_health.v1 import health, health_pb2

from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.rpc.server import RunningServer
from drafter.services.images.background import BackgroundRemover, RemovalState

REMOVE_BACKGROUND_HEALTH = (
    images_pb.DESCRIPTOR.services_by_name["ImagesService"]
    .methods_by_name["RemoveBackground"]
    .full_name
)
_Serving = health_pb2.HealthCheckResponse
HEALTH_OF_STATE = {
    RemovalState.STARTING: _Serving.UNKNOWN,
    RemovalState.READY: _Serving.SERVING,
    RemovalState.UNAVAILABLE: _Serving.NOT_SERVING,
}


async def _publish(servicer: health.aio.HealthServicer, remover: BackgroundRemover) -> None:
    final = await remover.wait_loaded()
    await servicer.set(REMOVE_BACKGROUND_HEALTH, HEALTH_OF_STATE[final])


async def publish_removal_health(running: RunningServer, remover: BackgroundRemover) -> None:
    """Publishes the state now and again when loading ends; stopping ``running`` stops
    the watch."""
    await running.health.set(REMOVE_BACKGROUND_HEALTH, HEALTH_OF_STATE[remover.state])
    task = asyncio.create_task(_publish(running.health, remover), name="rembg-health")

    async def stop_watching() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    running.cleanups.append(stop_watching)
