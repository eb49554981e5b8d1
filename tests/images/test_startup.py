"""The service starts without a Gemini key or a rembg model, and never downloads one."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.images.v1 import images_service_pb2_grpc as images_grpc
from drafter.limits import IMAGE_MAX_MESSAGE_BYTES as MAX_MESSAGE_BYTES
from drafter.rpc.channels import open_channel
from drafter.rpc.errors import error_from_rpc
from drafter.services.images.background import installed_model_file
from drafter.services.images.main import start
from tests.images.conftest import (
    SERVING,
    images_settings,
    pixel,
    removal_health_after_loading,
    square_on_dark,
)


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty rembg home, and a download that fails the test if anything tries it."""
    import pooch

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("rembg tried to download a model")

    home = tmp_path / "u2net-home"
    home.mkdir()
    monkeypatch.setenv("U2NET_HOME", str(home))
    monkeypatch.setattr(pooch, "retrieve", no_download)
    return home


@pytest_asyncio.fixture
async def bare_stub(tmp_path: Path) -> AsyncIterator[images_grpc.ImagesServiceStub]:
    running = await start(images_settings(tmp_path / "data", GEMINI_API_KEY=""), "127.0.0.1:0")
    try:
        async with open_channel(f"127.0.0.1:{running.port}", running.auth) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            answer = await health.Check(health_pb2.HealthCheckRequest(service=""))
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
            yield images_grpc.ImagesServiceStub(channel)
    finally:
        await running.stop(grace=0)


async def test_generation_without_key_is_unavailable(
    bare_stub: images_grpc.ImagesServiceStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await bare_stub.Generate(images_pb.GenerateRequest(prompt="a cat"))
    error = error_from_rpc(caught.value)
    assert error.code == grpc.StatusCode.UNAVAILABLE
    assert "not configured" in error.message


async def test_removal_without_model_is_unavailable(
    bare_stub: images_grpc.ImagesServiceStub,
) -> None:
    request = images_pb.RemoveBackgroundRequest(image=square_on_dark("PNG"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await bare_stub.RemoveBackground(request)
    error = error_from_rpc(caught.value)
    assert error.code == grpc.StatusCode.UNAVAILABLE
    assert "u2net" in error.message


async def test_named_model_is_loaded_from_rembg_home(
    offline: Path, tiny_model: Path, tmp_path: Path
) -> None:
    shutil.copy(tiny_model, offline / "u2netp.onnx")  # the layout `U2NET_HOME/<name>.onnx`
    settings = images_settings(tmp_path / "data", DRAFTER_REMBG_MODEL="u2netp")
    running = await start(settings, "127.0.0.1:0")
    try:
        target = f"127.0.0.1:{running.port}"
        async with open_channel(
            target, running.auth, max_message_bytes=MAX_MESSAGE_BYTES
        ) as channel:
            assert await removal_health_after_loading(channel) == SERVING
            stub = images_grpc.ImagesServiceStub(channel)
            request = images_pb.RemoveBackgroundRequest(image=square_on_dark("PNG"))
            response = await stub.RemoveBackground(request)
    finally:
        await running.stop(grace=0)
    image = Image.open(io.BytesIO(response.png))
    assert pixel(image, (200, 150))[3] >= 240
    assert pixel(image, (2, 2))[3] <= 15


@pytest.mark.parametrize(
    ("model", "reason"), [("none", "turned off"), ("u2net", "is not installed")]
)
def test_rembg_is_not_imported_without_a_model_to_load(
    tmp_path: Path, offline: Path, model: str, reason: str
) -> None:
    """``DRAFTER_REMBG_MODEL=none``, or a model whose file is not installed: removal answers
    UNAVAILABLE and rembg stays unloaded (checked in a fresh interpreter: this one has
    imported rembg long ago)."""
    script = f"""
import asyncio, sys
from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.rpc.channels import open_channel
from drafter.images.v1 import images_service_pb2_grpc as images_grpc
from drafter.services.images.background import installed_model_file
from drafter.services.images.main import start
from tests.images.conftest import images_settings

async def main():
    settings = images_settings({str(tmp_path / "data")!r}, DRAFTER_REMBG_MODEL={model!r})
    running = await start(settings, "127.0.0.1:0")
    try:
        async with open_channel(f"127.0.0.1:{{running.port}}", running.auth) as channel:
            stub = images_grpc.ImagesServiceStub(channel)
            try:
                await stub.RemoveBackground(images_pb.RemoveBackgroundRequest(image=b"x"))
            except Exception as exc:
                print(exc.code().name, exc.details())
    finally:
        await running.stop(grace=0)
    print("rembg imported:", "rembg" in sys.modules)

asyncio.run(main())
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "UNAVAILABLE" in done.stdout and reason in done.stdout
    assert "rembg imported: False" in done.stdout


LAYOUTS = [
    ({"U2NET_HOME": "u2net"}, "u2net/u2netp.onnx"),
    ({"U2NET_HOME": "u2net"}, "u2net/models/u2netp/u2netp.onnx"),
    ({"REMBG_HOME": "rembg"}, "rembg/models/u2netp/u2netp.onnx"),
    ({"REMBG_HOME": "rembg"}, "home/.u2net/u2netp.onnx"),
    ({"XDG_DATA_HOME": "xdg"}, "xdg/rembg/models/u2netp/u2netp.onnx"),
    ({"XDG_DATA_HOME": "xdg"}, "xdg/.u2net/u2netp.onnx"),
    ({}, "home/.rembg/models/u2netp/u2netp.onnx"),
    ({}, "home/.u2net/u2netp.onnx"),
    ({}, "home/.rembg/u2netp.onnx"),  # not a place rembg looks
    ({"U2NET_HOME": "u2net"}, "home/.rembg/models/u2netp/u2netp.onnx"),  # nor this one
]


@pytest.mark.parametrize(("environ", "placed"), LAYOUTS)
def test_installed_models_are_found_where_rembg_finds_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, environ: dict[str, str], placed: str
) -> None:
    from rembg.sessions import sessions

    for name in ("U2NET_HOME", "REMBG_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name, folder in environ.items():
        monkeypatch.setenv(name, str(tmp_path / folder))
    (tmp_path / placed).parent.mkdir(parents=True)
    (tmp_path / placed).write_bytes(b"onnx")

    ours = installed_model_file("u2netp")
    theirs = sessions["u2netp"].resolve_existing("u2netp.onnx")

    assert (str(ours) if ours else None) == theirs
