"""OpenAI's Images API through the edge with the real openai SDK: ``images.generate`` with
each parameter and ``images.edit`` with one and several images and a mask, the recorded
upstream (fake Gemini) request asserted each time; the quota (imageGen, imageEdit) counted
and refunded; errors in OpenAI's shape. The edge calls real images and accounts services
over gRPC on loopback, and in process as ``drafter up`` does."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import pytest_asyncio
from PIL import Image, ImageDraw

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.edge.app import create_app
from drafter.edge.settings import EdgeSettings
from drafter.rpc.server import RunningServer
from drafter.services.accounts.main import start as start_accounts
from drafter.services.accounts.settings import AccountsSettings
from drafter.services.images.main import start as start_images
from tests.fakes.gemini_server import FakeGemini, blob_bytes, mime_type_of
from tests.images.conftest import images_settings, removal_health_after_loading
from tests.support.accounts import make_account

BASE = "http://testserver"


@dataclass
class Services:
    images: RunningServer
    accounts: RunningServer
    tmp: Path


@pytest_asyncio.fixture(scope="module")
async def services(
    fake_gemini_server: FakeGemini,
    tiny_rembg_model_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Services]:
    tmp = tmp_path_factory.mktemp("images-edge")
    images = await start_images(
        images_settings(
            tmp / "images",
            GEMINI_API_KEY="test-gemini-key",
            DRAFTER_GEMINI_BASE_URL=fake_gemini_server.base_url,
            DRAFTER_REMBG_MODEL_PATH=tiny_rembg_model_path,
        ),
        "127.0.0.1:0",
    )
    await removal_health_after_loading(images.local.channel())
    accounts = await start_accounts(
        AccountsSettings(
            data_dir=tmp / "accounts",
            database_url=f"sqlite:///{tmp / 'drafter.db'}",
            images_addr=f"127.0.0.1:{images.port}",
            chat_addr=f"127.0.0.1:{images.port}",
        ),
        "127.0.0.1:0",
    )
    yield Services(images, accounts, tmp)
    await accounts.stop(0)
    await images.stop(0)


@dataclass
class Edge:
    client: openai.AsyncOpenAI
    http: httpx.AsyncClient
    key: str
    accounts: accounts_grpc.AccountsServiceStub


@pytest_asyncio.fixture(params=["grpc", "in-process"])
async def edge(request: pytest.FixtureRequest, services: Services) -> AsyncIterator[Edge]:
    """The edge app before both services, with a new user on the free plan."""
    settings = EdgeSettings(
        data_dir=services.tmp / "edge",
        accounts_addr=f"127.0.0.1:{services.accounts.port}",
        chat_addr=f"127.0.0.1:{services.images.port}",
        images_addr=f"127.0.0.1:{services.images.port}",
        public_url=BASE,
    )
    local = None
    if request.param == "in-process":
        local = {
            "images": services.images.local.channel(),
            "accounts": services.accounts.local.channel(),
        }
    app = create_app(settings, local)
    accounts = accounts_grpc.AccountsServiceStub(services.accounts.local.channel())
    account = await make_account(accounts, "free")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE, timeout=60) as http:
            client = openai.AsyncOpenAI(
                api_key=account.key, base_url=f"{BASE}/v1", http_client=http, max_retries=0
            )
            yield Edge(client, http, account.key, accounts)


@pytest.fixture
def gemini(fake_gemini_server: FakeGemini) -> FakeGemini:
    """The fake upstream, answering each request at the size the live API would."""
    fake_gemini_server.reset()
    fake_gemini_server.default_size = None
    return fake_gemini_server


def picture(
    size: tuple[int, int], fmt: str = "PNG", colour: tuple[int, ...] = (200, 30, 30)
) -> bytes:
    image = Image.new("RGB", size, colour)
    ImageDraw.Draw(image).rectangle((4, 4, size[0] // 2, size[1] // 2), fill=(10, 200, 10))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def mask_png(size: tuple[int, int], box: tuple[int, int, int, int]) -> bytes:
    """Opaque everywhere but ``box``, which is fully transparent (the part to edit)."""
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    ImageDraw.Draw(mask).rectangle(box, fill=(0, 0, 0, 0))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def decoded(b64: str | None) -> Image.Image:
    assert b64
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def image_config(gemini: FakeGemini, index: int = 0) -> dict[str, Any]:
    config: dict[str, Any] = gemini.requests[index].body["generationConfig"]["imageConfig"]
    return config


async def used(edge: Edge) -> tuple[int, int]:
    """Today's (imageGen, imageEdit) units."""
    reply = await edge.accounts.GetUsage(accounts_pb.GetUsageRequest(credential=edge.key))
    return reply.today.image_gen, reply.today.image_edit


# Generations -------------------------------------------------------------------------


async def test_generate_with_every_parameter(edge: Edge, gemini: FakeGemini) -> None:
    result = await edge.client.images.generate(
        model="nano-banano-pro",
        prompt="a lighthouse at dusk",
        n=2,
        size="1536x1024",
        quality="high",
        style="natural",
        background="opaque",
        output_format="webp",
        output_compression=80,
        moderation="low",
        response_format="b64_json",
        user="end-user-7",
    )
    assert len(gemini.requests) == 2
    body = gemini.requests[0].body
    assert body["contents"][0]["parts"] == [{"text": "a lighthouse at dusk"}]
    assert body["generationConfig"]["responseModalities"] == ["IMAGE"]
    assert image_config(gemini) == {"aspectRatio": "3:2", "imageSize": "2K"}
    assert "style" not in str(body) and "moderation" not in str(body)
    assert result.data and len(result.data) == 2
    for item in result.data:
        image = decoded(item.b64_json)
        assert image.format == "WEBP" and image.size == (1536, 1024)
    assert (result.size, result.output_format, result.quality) == ("1536x1024", "webp", "high")
    assert result.background == "opaque"
    assert result.usage is not None
    assert result.usage.output_tokens == 2 * 1120
    assert result.usage.input_tokens_details.text_tokens > 0
    assert await used(edge) == (2, 0)


@pytest.mark.parametrize(
    ("size", "ratio", "image_size"),
    [
        ("1024x1024", "1:1", "1K"),
        ("1024x1536", "2:3", "2K"),
        ("1792x1024", "16:9", "2K"),
        ("256x256", "1:1", "1K"),
        ("1536x864", "16:9", "2K"),
        ("2016x864", "21:9", "2K"),
    ],
)
async def test_size_maps_to_the_nearest_upstream_aspect_ratio(
    edge: Edge, gemini: FakeGemini, size: str, ratio: str, image_size: str
) -> None:
    result = await edge.client.images.generate(
        prompt="a tree", size=size, response_format="b64_json"
    )
    assert image_config(gemini) == {"aspectRatio": ratio, "imageSize": image_size}
    width, height = (int(side) for side in size.split("x"))
    assert result.data and decoded(result.data[0].b64_json).size == (width, height)
    assert result.size == size


async def test_auto_size_is_the_upstreams_own(edge: Edge, gemini: FakeGemini) -> None:
    result = await edge.client.images.generate(prompt="a fox", size="auto")
    assert image_config(gemini) == {"imageSize": "1K"}
    assert result.size == "1024x1024" and result.quality == "medium"
    assert result.data and result.data[0].url
    fetched = await edge.http.get(result.data[0].url)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"


@pytest.mark.parametrize(("fmt", "pillow"), [("jpeg", "JPEG"), ("webp", "WEBP"), ("png", "PNG")])
async def test_output_format_is_converted_and_served_by_url(
    edge: Edge, gemini: FakeGemini, fmt: str, pillow: str
) -> None:
    result = await edge.client.images.generate(
        prompt="a cat",
        size="512x512",
        output_format=fmt,
        output_compression=40,  # type: ignore[arg-type]
    )
    assert result.data and result.data[0].url and result.data[0].url.endswith(f".{fmt}")
    fetched = await edge.http.get(result.data[0].url)
    assert fetched.headers["content-type"] == f"image/{fmt}"
    image = Image.open(io.BytesIO(fetched.content))
    assert image.format == pillow and image.size == (512, 512)
    assert result.output_format == fmt


async def test_transparent_background_cuts_the_result_out(edge: Edge, gemini: FakeGemini) -> None:
    result = await edge.client.images.generate(
        prompt="a ball", size="1024x1024", background="transparent", response_format="b64_json"
    )
    assert result.data
    image = decoded(result.data[0].b64_json)
    assert image.mode == "RGBA"
    assert image.getpixel((5, 5))[3] < 30  # type: ignore[index]  # the dark field goes
    assert result.background == "transparent"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"size": "1000x1000"}, "size"),
        ({"size": "4096x4096"}, "size"),
        ({"size": "big"}, "size"),
        ({"n": 5}, "n"),
        ({"quality": "ultra"}, "quality"),
        ({"output_format": "gif"}, "output_format"),
        ({"output_format": "jpeg", "background": "transparent"}, "output_format"),
        ({"output_compression": 101}, "output_compression"),
        ({"frame_count": 4}, "frame_count"),
        ({"stream": True}, "stream"),
        ({"seed": 3}, "seed"),
    ],
)
async def test_refused_parameters_are_400_naming_them(
    edge: Edge, gemini: FakeGemini, params: dict[str, Any], param: str
) -> None:
    response = await edge.http.post(
        "/v1/images/generations",
        json={"prompt": "x", **params},
        headers={"Authorization": f"Bearer {edge.key}"},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert not gemini.requests
    assert await used(edge) == (0, 0)


@pytest.mark.parametrize("model", ["dall-e-3", "gpt-image-1", "claude-haiku-4-5"])
async def test_another_model_is_404_naming_the_served_one(
    edge: Edge, gemini: FakeGemini, model: str
) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await edge.client.images.generate(model=model, prompt="x")
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert "nano-banano-pro" in error["message"]
    assert not gemini.requests


async def test_failed_upstream_is_refunded(edge: Edge, gemini: FakeGemini) -> None:
    for _ in range(3):
        gemini.enqueue_error(500)
    with pytest.raises(openai.InternalServerError) as caught:
        await edge.client.images.generate(prompt="a storm")
    assert caught.value.status_code == 503
    assert await used(edge) == (0, 0)


# Edits -------------------------------------------------------------------------------


async def test_edit_one_image(edge: Edge, gemini: FakeGemini) -> None:
    source = picture((600, 400))
    result = await edge.client.images.edit(
        image=("photo.png", source, "image/png"),
        prompt="make it night",
        response_format="b64_json",
        user="end-user-7",
    )
    [request] = gemini.requests
    parts = request.body["contents"][0]["parts"]
    assert parts[0] == {"text": "make it night"}
    assert mime_type_of(parts[1]["inlineData"]) == "image/png"
    assert blob_bytes(parts[1]["inlineData"]) == source
    assert image_config(gemini) == {"imageSize": "1K"}  # auto: the input's ratio upstream
    assert result.data and decoded(result.data[0].b64_json).size == (1264, 848)  # 3:2 at 1K
    assert result.usage and result.usage.input_tokens_details.image_tokens == 560
    assert await used(edge) == (0, 1)


async def test_edit_several_images_with_size_and_format(edge: Edge, gemini: FakeGemini) -> None:
    images = [
        ("a.png", picture((300, 300)), "image/png"),
        ("b.jpg", picture((320, 200), "JPEG"), "image/jpeg"),
        ("c.webp", picture((200, 320), "WEBP"), "image/webp"),
    ]
    result = await edge.client.images.edit(
        image=images,
        prompt="put them together",
        n=2,
        size="1024x1536",
        quality="low",
        output_format="jpeg",
        background="opaque",
        input_fidelity="high",
        model="nano-banano-pro",
        response_format="b64_json",
    )
    assert len(gemini.requests) == 2
    parts = gemini.requests[0].body["contents"][0]["parts"]
    assert [mime_type_of(p["inlineData"]) for p in parts[1:]] == [
        "image/png",
        "image/jpeg",
        "image/webp",
    ]
    assert image_config(gemini) == {"aspectRatio": "2:3", "imageSize": "2K"}
    assert result.data and len(result.data) == 2
    assert decoded(result.data[0].b64_json).format == "JPEG"
    assert (result.size, result.output_format, result.quality) == ("1024x1536", "jpeg", "low")
    assert await used(edge) == (0, 2)


async def test_edit_mask_keeps_the_opaque_part(edge: Edge, gemini: FakeGemini) -> None:
    size = (256, 256)
    original = picture(size, colour=(200, 30, 30))
    result = await edge.client.images.edit(
        image=("photo.png", original, "image/png"),
        mask=("mask.png", mask_png(size, (128, 128, 255, 255)), "image/png"),
        prompt="paint the corner",
        response_format="b64_json",
    )
    assert len(gemini.requests[0].body["contents"][0]["parts"]) == 2  # the mask stays here
    assert result.data
    image = decoded(result.data[0].b64_json).convert("RGB")
    assert image.size == size
    assert image.getpixel((250, 10)) == (200, 30, 30)  # opaque in the mask: the original
    assert image.getpixel((250, 250)) != (200, 30, 30)  # transparent: the edited image


@pytest.mark.parametrize(
    ("files", "status", "param"),
    [
        ({"prompt": (None, "x")}, 400, "image"),
        ({"image": ("a.txt", b"not an image", "text/plain"), "prompt": (None, "x")}, 400, "image"),
        (
            {
                "image": ("a.png", picture((100, 100)), "image/png"),
                "mask": ("m.png", mask_png((50, 50), (0, 0, 10, 10)), "image/png"),
                "prompt": (None, "x"),
            },
            400,
            "mask",
        ),
        (
            {
                "image": ("a.png", picture((100, 100)), "image/png"),
                "mask": ("m.png", picture((100, 100)), "image/png"),
                "prompt": (None, "x"),
            },
            400,
            "mask",
        ),
        (
            {
                "image": ("a.png", b"\x89PNG" + b"0" * (11 * 1024 * 1024), "image/png"),
                "prompt": (None, "x"),
            },
            413,
            "image",
        ),
        ({"image": ("a.png", picture((64, 64)), "image/png")}, 400, "prompt"),
        (
            {
                "image": ("a.png", picture((64, 64)), "image/png"),
                "prompt": (None, "x"),
                "model": (None, "dall-e-2"),
            },
            404,
            "model",
        ),
    ],
)
async def test_bad_edits_name_the_parameter(
    edge: Edge, gemini: FakeGemini, files: dict[str, Any], status: int, param: str
) -> None:
    response = await edge.http.post(
        "/api/v1/images/edits", files=files, headers={"Authorization": f"Bearer {edge.key}"}
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param
    assert not gemini.requests
    assert await used(edge) == (0, 0)


async def test_edit_failure_upstream_is_refunded(edge: Edge, gemini: FakeGemini) -> None:
    for _ in range(3):
        gemini.enqueue_error(503)
    with pytest.raises(openai.InternalServerError):
        await edge.client.images.edit(
            image=("photo.png", picture((64, 64)), "image/png"), prompt="x"
        )
    assert await used(edge) == (0, 0)


async def test_edits_count_against_image_edit_with_remove_bg(
    edge: Edge, gemini: FakeGemini
) -> None:
    """Free plan: 5 imageEdit units a day, shared by edits and background removal."""
    headers = {"Authorization": f"Bearer {edge.key}"}
    removed = await edge.http.post(
        "/v1/image/remove-bg",
        files={"image": ("p.png", picture((64, 64)), "image/png")},
        headers=headers,
    )
    assert removed.status_code == 200
    await edge.client.images.edit(
        image=("photo.png", picture((64, 64)), "image/png"), prompt="x", n=4
    )
    assert await used(edge) == (0, 5)
    with pytest.raises(openai.RateLimitError) as caught:
        await edge.client.images.edit(image=("p.png", picture((64, 64)), "image/png"), prompt="x")
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert len(gemini.requests) == 4
