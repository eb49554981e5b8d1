"""The images service on loopback over real gRPC, with the fake Gemini and the tiny model."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image, ImageDraw

from drafter.images.v1 import images_service_pb2_grpc as images_grpc
from drafter.limits import IMAGE_MAX_MESSAGE_BYTES as MAX_MESSAGE_BYTES
from drafter.rpc.channels import open_channel
from drafter.rpc.server import RunningServer
from drafter.services.images.main import start
from drafter.services.images.readiness import REMOVE_BACKGROUND_HEALTH
from drafter.services.images.settings import ImagesSettings
from tests.fakes.gemini_server import FakeGemini

ATTEMPT_TIMEOUT_S = 1.0


@pytest.fixture
def gemini(fake_gemini_server: FakeGemini) -> Iterator[FakeGemini]:
    """The session's one fake upstream (tests/conftest.py) with an empty script and
    history for this test."""
    fake_gemini_server.reset()
    fake_gemini_server.default_size = (1024, 1024)
    yield fake_gemini_server
    fake_gemini_server.reset()


@pytest.fixture(scope="session")
def tiny_model(tiny_rembg_model_path: Path) -> Path:
    """The session's tiny rembg model (tests/conftest.py), outside rembg's home folder:
    the service must load it from anywhere."""
    return tiny_rembg_model_path


SERVING = health_pb2.HealthCheckResponse.SERVING


async def removal_health_after_loading(channel: aio.Channel, timeout_s: float = 120.0) -> int:
    """Background removal's health once its model has finished loading (SERVING, or
    NOT_SERVING when it could not), polled as the status page reads it: it loads in the
    background after the service has started."""
    health = health_pb2_grpc.HealthStub(channel)
    request = health_pb2.HealthCheckRequest(service=REMOVE_BACKGROUND_HEALTH)
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        status = (await health.Check(request)).status
        if status != health_pb2.HealthCheckResponse.UNKNOWN:
            return int(status)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"the rembg model did not load within {timeout_s} s")
        await asyncio.sleep(0.05)


def images_settings(data_dir: Path, **env: object) -> ImagesSettings:
    values: dict[str, object] = {
        "DRAFTER_DATA_DIR": data_dir,
        "DRAFTER_IMAGE_UPSTREAM_BACKOFF_S": 0.01,
        "DRAFTER_IMAGE_UPSTREAM_TIMEOUT_S": ATTEMPT_TIMEOUT_S,
        "DRAFTER_REMBG_WORKERS": 2,
    }
    values.update(env)
    return ImagesSettings(**values)  # type: ignore[arg-type]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def images_server(
    fake_gemini_server: FakeGemini, tiny_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    settings = images_settings(
        tmp_path_factory.mktemp("data"),
        GEMINI_API_KEY="test-gemini-key",
        DRAFTER_GEMINI_BASE_URL=fake_gemini_server.base_url,
        DRAFTER_REMBG_MODEL_PATH=tiny_model,
    )
    running = await start(settings, "127.0.0.1:0")
    assert await removal_health_after_loading(running.local.channel()) == SERVING
    yield running
    await running.stop(grace=1)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def channel(images_server: RunningServer) -> AsyncIterator[aio.Channel]:
    async with open_channel(
        f"127.0.0.1:{images_server.port}", images_server.auth, max_message_bytes=MAX_MESSAGE_BYTES
    ) as ch:
        yield ch


@pytest.fixture(params=["grpc", "in-process"])
def stub(
    request: pytest.FixtureRequest, channel: aio.Channel, images_server: RunningServer
) -> images_grpc.ImagesServiceStub:
    """A stub over gRPC on loopback, and over the in-process channel ``drafter up`` uses."""
    if request.param == "in-process":
        return images_grpc.ImagesServiceStub(images_server.local.channel())
    return images_grpc.ImagesServiceStub(channel)


def square_on_dark(fmt: str, size: tuple[int, int] = (400, 300), **save: object) -> bytes:
    """A bright square in the middle of a dark field, encoded as ``fmt``."""
    image = Image.new("RGB", size, (12, 12, 16))
    w, h = size
    ImageDraw.Draw(image).rectangle((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=(245, 245, 240))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    """The channel values of one pixel (RGB or RGBA)."""
    value = image.getpixel(xy)
    assert isinstance(value, tuple)
    return value
