"""RemoveBackground over real gRPC with the tiny brightness model."""

from __future__ import annotations

import asyncio
import io
import struct
import time
import zlib

import grpc
import pytest
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image, ImageDraw, ImageOps

from drafter.common.v1 import errors_pb2
from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.images.v1 import images_service_pb2_grpc as images_grpc
from drafter.limits import IMAGE_MAX_UPLOAD_BYTES as MAX_UPLOAD_BYTES
from drafter.rpc.errors import RemoteError, error_from_rpc
from tests.images.conftest import pixel, square_on_dark


async def _fails(call: object) -> RemoteError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return error_from_rpc(caught.value)


async def _remove(stub: images_grpc.ImagesServiceStub, data: bytes) -> Image.Image:
    response = await stub.RemoveBackground(images_pb.RemoveBackgroundRequest(image=data))
    image = Image.open(io.BytesIO(response.png))
    assert image.format == "PNG"
    assert image.mode == "RGBA"
    return image


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _png_claiming(width: int, height: int) -> bytes:
    """A few dozen bytes whose header announces a ``width``x``height`` 1-bit image."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("fmt", "save"), [("PNG", {}), ("JPEG", {"quality": 90}), ("WEBP", {"quality": 90})]
)
async def test_background_becomes_transparent(
    stub: images_grpc.ImagesServiceStub, fmt: str, save: dict[str, object]
) -> None:
    image = await _remove(stub, square_on_dark(fmt, (400, 300), **save))
    assert image.size == (400, 300)
    centre = pixel(image, (200, 150))
    assert centre[3] >= 240  # the bright square stays opaque
    assert min(centre[:3]) >= 200  # with its own colour
    for corner in [(2, 2), (397, 2), (2, 297), (397, 297)]:
        assert pixel(image, corner)[3] <= 15


async def test_exif_orientation_is_honoured(stub: images_grpc.ImagesServiceStub) -> None:
    stored = Image.new("RGB", (400, 300), (12, 12, 16))
    ImageDraw.Draw(stored).rectangle((20, 20, 140, 140), fill=(245, 245, 240))  # top left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    out = io.BytesIO()
    stored.save(out, "JPEG", quality=95, exif=exif.tobytes())
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(out.getvalue())))
    assert upright.size == (300, 400)
    bright = [
        (x, y)
        for x in range(10, 300, 20)
        for y in range(10, 400, 20)
        if pixel(upright, (x, y))[0] > 200
    ]
    assert bright

    image = await _remove(stub, out.getvalue())
    assert image.size == (300, 400)
    for x in range(10, 300, 20):
        for y in range(10, 400, 20):
            if (x, y) in bright:
                assert pixel(image, (x, y))[3] >= 200, (x, y)
            elif pixel(upright, (x, y))[0] < 40:
                assert pixel(image, (x, y))[3] <= 60, (x, y)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"hello, this is not an image at all", "not a PNG, JPEG or WebP"),
        (b"GIF89a" + b"\x00" * 64, "not a PNG, JPEG or WebP"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "could not be decoded"),
        (b"\xff\xd8\xff\xe0" + b"garbage" * 10, "could not be decoded"),
        (b"", "No image"),
    ],
)
async def test_not_an_image_is_invalid(
    stub: images_grpc.ImagesServiceStub, data: bytes, words: str
) -> None:
    error = await _fails(stub.RemoveBackground(images_pb.RemoveBackgroundRequest(image=data)))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert words in error.message
    assert error.metadata["param"] == "image"
    assert "http_status" not in error.metadata


async def test_upload_of_exactly_the_limit_passes(stub: images_grpc.ImagesServiceStub) -> None:
    data = square_on_dark("PNG", (64, 64))
    data += b"\x00" * (MAX_UPLOAD_BYTES - len(data))  # trailing bytes after IEND
    image = await _remove(stub, data)
    assert image.size == (64, 64)


async def test_upload_over_the_limit_is_too_large(stub: images_grpc.ImagesServiceStub) -> None:
    data = square_on_dark("JPEG", (64, 64))
    data += b"\x00" * (MAX_UPLOAD_BYTES + 1 - len(data))
    error = await _fails(stub.RemoveBackground(images_pb.RemoveBackgroundRequest(image=data)))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == errors_pb2.ERROR_REASON_PAYLOAD_TOO_LARGE
    assert "10 MB" in error.message


@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (5000, 4000), (20_000, 10)])
async def test_decompression_bomb_is_refused_quickly(
    stub: images_grpc.ImagesServiceStub, width: int, height: int
) -> None:
    started = time.monotonic()
    request = images_pb.RemoveBackgroundRequest(image=_png_claiming(width, height))
    error = await _fails(stub.RemoveBackground(request))
    assert time.monotonic() - started < 1.0
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "pixels" in error.message


async def test_health_answers_while_removals_run(
    stub: images_grpc.ImagesServiceStub, channel: aio.Channel
) -> None:
    request = images_pb.RemoveBackgroundRequest(image=square_on_dark("JPEG", (2000, 2000)))

    async def remove() -> images_pb.RemoveBackgroundResponse:
        return await stub.RemoveBackground(request)

    jobs = [asyncio.create_task(remove()) for _ in range(6)]
    health = health_pb2_grpc.HealthStub(channel)
    await asyncio.sleep(0.05)
    checks = 0
    while not all(job.done() for job in jobs):
        answer = await health.Check(
            health_pb2.HealthCheckRequest(service="drafter.images.v1.ImagesService"), timeout=1.0
        )
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        checks += 1
        await asyncio.sleep(0.02)
    assert checks >= 1
    for response in await asyncio.gather(*jobs):
        assert Image.open(io.BytesIO(response.png)).size == (2000, 2000)
