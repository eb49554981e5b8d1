"""Edit over real gRPC (and in process) against the fake Gemini through the real SDK: the
input images as inline parts, the mask applied here, the output as asked; the fake
refusing an image config the live API refuses."""

from __future__ import annotations

import io

import grpc
import httpx
import pytest
from PIL import Image, ImageDraw

from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.images.v1 import images_service_pb2_grpc as images_grpc
from drafter.rpc.errors import RemoteError, error_from_rpc
from tests.fakes.gemini_server import FakeGemini, blob_bytes, mime_type_of

UPSTREAM_PATH = "/v1beta/models/gemini-3-pro-image-preview:generateContent"


def _picture(size: tuple[int, int], fmt: str = "PNG") -> bytes:
    image = Image.new("RGB", size, (180, 40, 40))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def _mask(size: tuple[int, int], mode: str = "RGBA") -> bytes:
    mask = Image.new(mode, size, (0, 0, 0, 255) if mode == "RGBA" else (0, 0, 0))
    ImageDraw.Draw(mask).rectangle((0, 0, size[0] // 2, size[1]), fill=(0, 0, 0, 0))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


async def _fails(call: object) -> RemoteError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return error_from_rpc(caught.value)


@pytest.fixture
def live_sized(gemini: FakeGemini) -> FakeGemini:
    gemini.default_size = None
    return gemini


async def test_edit_sends_every_image_inline(
    stub: images_grpc.ImagesServiceStub, live_sized: FakeGemini
) -> None:
    inputs = [_picture((300, 200)), _picture((100, 100), "JPEG"), _picture((90, 160), "WEBP")]
    output = images_pb.ImageOutput(width=512, height=512, format=images_pb.IMAGE_FORMAT_WEBP)
    response = await stub.Edit(
        images_pb.EditRequest(prompt="combine", images=inputs, n=2, output=output)
    )
    assert len(response.images) == 2 and len(live_sized.requests) == 2
    request = live_sized.requests[0]
    assert request.path == UPSTREAM_PATH
    [content] = request.body["contents"]
    assert content["role"] == "user" and content["parts"][0] == {"text": "combine"}
    blobs = [part["inlineData"] for part in content["parts"][1:]]
    assert [blob_bytes(b) for b in blobs] == inputs
    assert [mime_type_of(b) for b in blobs] == ["image/png", "image/jpeg", "image/webp"]
    assert request.body["generationConfig"]["imageConfig"] == {
        "aspectRatio": "1:1",
        "imageSize": "1K",
    }
    image = response.images[0]
    assert (image.mime_type, image.width, image.height) == ("image/webp", 512, 512)
    assert Image.open(io.BytesIO(image.png)).format == "WEBP"
    fetched = await stub.GetImage(images_pb.GetImageRequest(id=image.id))
    assert fetched.mime_type == "image/webp"
    assert response.usage.input_image_tokens == 2 * 3 * 560
    assert response.usage.output_tokens == 2 * 1120


async def test_edit_applies_the_mask(
    stub: images_grpc.ImagesServiceStub, live_sized: FakeGemini
) -> None:
    response = await stub.Edit(
        images_pb.EditRequest(prompt="x", images=[_picture((200, 100))], mask=_mask((200, 100)))
    )
    image = Image.open(io.BytesIO(response.images[0].png)).convert("RGB")
    assert image.size == (200, 100)
    assert image.getpixel((190, 50)) == (180, 40, 40)  # opaque in the mask: kept
    assert image.getpixel((10, 50)) != (180, 40, 40)  # transparent: edited


@pytest.mark.parametrize(
    ("request_", "param"),
    [
        (images_pb.EditRequest(prompt="x"), "image"),
        (images_pb.EditRequest(prompt="x", images=[b"GIF89a..."]), "image"),
        (images_pb.EditRequest(prompt="x", images=[_picture((8, 8))] * 15), "image"),
        (images_pb.EditRequest(prompt=" ", images=[_picture((8, 8))]), "prompt"),
        (
            images_pb.EditRequest(prompt="x", images=[_picture((64, 64))], mask=_mask((32, 32))),
            "mask",
        ),
        (
            images_pb.EditRequest(
                prompt="x", images=[_picture((64, 64))], mask=_mask((64, 64), "RGB")
            ),
            "mask",
        ),
        (
            images_pb.EditRequest(
                prompt="x", images=[_picture((64, 64))], mask=_picture((64, 64), "JPEG")
            ),
            "mask",
        ),
        (
            images_pb.EditRequest(
                prompt="x",
                images=[_picture((64, 64))],
                n=4,
                output=images_pb.ImageOutput(width=3840, height=2160),
            ),
            "size",
        ),
    ],
)
async def test_invalid_edits_name_the_field(
    stub: images_grpc.ImagesServiceStub,
    gemini: FakeGemini,
    request_: images_pb.EditRequest,
    param: str,
) -> None:
    error = await _fails(stub.Edit(request_))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.metadata["param"] == param
    assert not gemini.requests


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"aspectRatio": "7:3"}, "aspect_ratio must be one of '1:1'"),
        ({"imageSize": "1k"}, "image_size must be one of"),
    ],
)
async def test_the_fake_refuses_what_the_live_api_refuses(
    gemini: FakeGemini, config: dict[str, str], fragment: str
) -> None:
    body = {
        "contents": [{"parts": [{"text": "x"}]}],
        "generationConfig": {"responseModalities": ["IMAGE"], "imageConfig": config},
    }
    async with httpx.AsyncClient() as client:
        response = await client.post(gemini.base_url + UPSTREAM_PATH, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert fragment in response.json()["error"]["message"]
