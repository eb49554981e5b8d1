"""Background removal loads its model in the background: STARTING (UNAVAILABLE with the
reason WARMING_UP and ``retry_after_s``, health UNKNOWN) until the session is loaded,
then READY (health SERVING), or UNAVAILABLE (NOT_SERVING) when loading fails.

The loaders here are real: rembg's session over the tiny model, held back by an event
until the test lets it finish, so each state is observed for as long as the test wants."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from drafter.common.v1 import errors_pb2
from drafter.edge.errors import api_error_from_remote
from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.images.v1 import images_service_pb2_grpc as images_grpc
from drafter.limits import IMAGE_MAX_MESSAGE_BYTES
from drafter.rpc.channels import open_channel
from drafter.rpc.errors import RemoteError, UpstreamUnavailable, error_from_rpc
from drafter.rpc.internal_auth import load_internal_auth
from drafter.rpc.server import Registration, RunningServer, start_server
from drafter.services.images.background import (
    REMOVAL_RETRY_AFTER_S,
    BackgroundRemover,
    ModelUnavailable,
    RemovalState,
    session_loader,
)
from drafter.services.images.generation import ImageGenerator, RetryPolicy
from drafter.services.images.producer import ImageProducer
from drafter.services.images.readiness import REMOVE_BACKGROUND_HEALTH, publish_removal_health
from drafter.services.images.servicer import ImagesServicer
from drafter.services.images.storage import FilesystemImageStore
from tests.images.conftest import images_settings, pixel, square_on_dark

HEALTH = health_pb2.HealthCheckResponse


class HeldLoader:
    """``load`` runs the real loader only once :meth:`release` is called; meanwhile the
    loading thread waits, as it would while numba compiles."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load
        self._released = threading.Event()
        self.started = threading.Event()

    def __call__(self) -> Any:
        self.started.set()
        self._released.wait(timeout=60)
        return self._load()

    def release(self) -> None:
        self._released.set()


def broken_model() -> Any:
    raise ModelUnavailable("rembg model could not be loaded: the file is not an ONNX model")


@pytest.fixture
def held(tiny_model: Path) -> Iterator[HeldLoader]:
    loader = HeldLoader(session_loader("u2net", tiny_model))
    yield loader
    loader.release()


async def test_remover_is_starting_until_its_session_is_loaded(held: HeldLoader) -> None:
    remover = BackgroundRemover(held, workers=1)
    try:
        remover.start_loading()
        await asyncio.to_thread(held.started.wait, 10)
        assert remover.state is RemovalState.STARTING

        with pytest.raises(UpstreamUnavailable) as caught:
            await remover.remove(square_on_dark("PNG"))
        assert caught.value.reason == errors_pb2.ERROR_REASON_WARMING_UP
        assert caught.value.metadata["retry_after_s"] == str(REMOVAL_RETRY_AFTER_S)
        assert "starting" in caught.value.message

        held.release()
        assert await remover.wait_loaded() is RemovalState.READY
        png = await remover.remove(square_on_dark("PNG"))
    finally:
        await remover.aclose()
    image = Image.open(io.BytesIO(png))
    assert pixel(image, (200, 150))[3] >= 240
    assert pixel(image, (2, 2))[3] <= 15


async def test_a_load_that_fails_leaves_removal_unavailable() -> None:
    remover = BackgroundRemover(broken_model, workers=1)
    try:
        remover.start_loading()
        assert await remover.wait_loaded() is RemovalState.UNAVAILABLE
        with pytest.raises(UpstreamUnavailable) as caught:
            await remover.remove(square_on_dark("PNG"))
    finally:
        await remover.aclose()
    assert caught.value.reason == errors_pb2.ERROR_REASON_UPSTREAM_UNAVAILABLE
    assert "not an ONNX model" in caught.value.message
    assert "retry_after_s" not in caught.value.metadata


async def test_nothing_to_load_is_unavailable_at_once(tmp_path: Path) -> None:
    """What can be told without rembg is told at start, not after a load."""
    with pytest.raises(ModelUnavailable, match="turned off"):
        session_loader("none", None)
    with pytest.raises(ModelUnavailable, match="is not a file"):
        session_loader("u2net", tmp_path / "missing.onnx")
    remover = BackgroundRemover(None, workers=1, unavailable="turned off")
    assert remover.state is RemovalState.UNAVAILABLE
    assert await remover.wait_loaded() is RemovalState.UNAVAILABLE
    await remover.aclose()


async def test_stopping_while_loading_does_not_wait_for_the_load(held: HeldLoader) -> None:
    remover = BackgroundRemover(held, workers=1)
    remover.start_loading()
    await asyncio.to_thread(held.started.wait, 10)
    await asyncio.wait_for(remover.aclose(), timeout=2)
    assert remover.state is RemovalState.STARTING


@pytest_asyncio.fixture
async def held_service(
    held: HeldLoader, tmp_path: Path
) -> AsyncIterator[tuple[RunningServer, BackgroundRemover]]:
    """The images servicer on a real gRPC server, its remover loading with ``held``."""
    settings = images_settings(tmp_path / "data")
    remover = BackgroundRemover(held, workers=1)
    remover.start_loading()
    generator = ImageGenerator(None, upstream_model="unused", policy=RetryPolicy(attempts=1))
    store = FilesystemImageStore(settings.images_dir)
    producer = ImageProducer(generator=generator, remover=remover, store=store)
    servicer = ImagesServicer(producer=producer, remover=remover, store=store)
    name = images_pb.DESCRIPTOR.services_by_name["ImagesService"].full_name
    registration = Registration(images_grpc.add_ImagesServiceServicer_to_server, servicer, name)
    running = await start_server(
        [registration],
        "127.0.0.1:0",
        auth=load_internal_auth(settings),
        max_message_bytes=IMAGE_MAX_MESSAGE_BYTES,
    )
    running.cleanups.extend([generator.aclose, remover.aclose])
    await publish_removal_health(running, remover)
    try:
        yield running, remover
    finally:
        await running.stop(grace=0)


async def test_the_service_answers_warming_up_then_serves(
    held_service: tuple[RunningServer, BackgroundRemover], held: HeldLoader
) -> None:
    running, remover = held_service
    target = f"127.0.0.1:{running.port}"
    request = images_pb.RemoveBackgroundRequest(image=square_on_dark("PNG"))
    removal_health = health_pb2.HealthCheckRequest(service=REMOVE_BACKGROUND_HEALTH)
    async with open_channel(
        target, running.auth, max_message_bytes=IMAGE_MAX_MESSAGE_BYTES
    ) as channel:
        stub = images_grpc.ImagesServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        whole = await health.Check(health_pb2.HealthCheckRequest(service=""))
        assert whole.status == HEALTH.SERVING  # the service is up while rembg loads
        assert (await health.Check(removal_health)).status == HEALTH.UNKNOWN

        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.RemoveBackground(request)
        error = error_from_rpc(caught.value)
        assert error.code == grpc.StatusCode.UNAVAILABLE
        assert error.reason == errors_pb2.ERROR_REASON_WARMING_UP
        assert error.metadata["retry_after_s"] == str(REMOVAL_RETRY_AFTER_S)

        held.release()
        assert await remover.wait_loaded() is RemovalState.READY
        for _ in range(100):
            if (await health.Check(removal_health)).status != HEALTH.UNKNOWN:
                break
            await asyncio.sleep(0.01)
        assert (await health.Check(removal_health)).status == HEALTH.SERVING
        response = await stub.RemoveBackground(request)
    assert Image.open(io.BytesIO(response.png)).mode == "RGBA"


async def test_failed_load_is_not_serving_on_health(tmp_path: Path) -> None:
    settings = images_settings(tmp_path / "data")
    remover = BackgroundRemover(broken_model, workers=1)
    remover.start_loading()
    running = await start_server([], "127.0.0.1:0", auth=load_internal_auth(settings))
    running.cleanups.append(remover.aclose)
    await publish_removal_health(running, remover)
    try:
        await remover.wait_loaded()
        health = health_pb2_grpc.HealthStub(running.local.channel())
        removal_health = health_pb2.HealthCheckRequest(service=REMOVE_BACKGROUND_HEALTH)
        for _ in range(100):
            if (await health.Check(removal_health)).status != HEALTH.UNKNOWN:
                break
            await asyncio.sleep(0.01)
        assert (await health.Check(removal_health)).status == HEALTH.NOT_SERVING
    finally:
        await running.stop(grace=0)


def test_the_edge_answers_warming_up_with_503_and_retry_after() -> None:
    """The one mapping line (edge/errors.py): OpenAI's shape, 503, Retry-After."""
    remote = RemoteError(
        grpc.StatusCode.UNAVAILABLE,
        "Background removal is starting (its model is loading); retry in 5 seconds.",
        errors_pb2.ERROR_REASON_WARMING_UP,
        {"component": "rembg", "retry_after_s": "5"},
    )
    api_error = api_error_from_remote(remote)
    assert api_error.status == 503
    assert api_error.headers["Retry-After"] == "5"
    assert api_error.code == "warming_up"
    assert api_error.body() == {
        "error": {
            "message": remote.message,
            "type": "overloaded_error",
            "param": None,
            "code": "warming_up",
        }
    }
