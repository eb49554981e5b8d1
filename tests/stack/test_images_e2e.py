"""Images end to end through ``drafter up``: the OpenAI SDK's ``images.generate`` against
the fake Gemini, and background removal with the tiny rembg model, over HTTP."""

from __future__ import annotations

import base64
import io

import httpx
import openai
import pytest
from PIL import Image, ImageDraw

from tests.fakes.gemini_server import FakeGemini
from tests.support.stack import DrafterStack


@pytest.fixture(scope="module")
def key(drafter_up: DrafterStack) -> str:
    return drafter_up.create_user_with_key("images@example.com", "plus")


@pytest.fixture(scope="module")
def client(drafter_up: DrafterStack, key: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=key, base_url=drafter_up.api_url, max_retries=0)


def _png_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_generate_urls_of_the_requested_size(
    client: openai.OpenAI, drafter_up: DrafterStack, fake_gemini_upstream: FakeGemini
) -> None:
    result = client.images.generate(
        model="nano-banano-pro", prompt="a lighthouse at dusk", n=2, size="512x512"
    )
    assert len(result.data) == 2 and len(fake_gemini_upstream.requests) == 2
    for image in result.data:
        assert image.url and image.url.startswith(f"{drafter_up.base_url}/images/generated/")
        response = httpx.get(image.url)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        assert "max-age" in response.headers["cache-control"]
        assert _png_size(response.content) == (512, 512)


def test_generate_b64_json(client: openai.OpenAI, fake_gemini_upstream: FakeGemini) -> None:
    result = client.images.generate(prompt="a cat", size="256x256", response_format="b64_json")
    assert result.data and result.data[0].b64_json
    assert _png_size(base64.b64decode(result.data[0].b64_json)) == (256, 256)


def test_generate_alias_carries_the_first_url(
    drafter_up: DrafterStack, key: str, fake_gemini_upstream: FakeGemini
) -> None:
    response = httpx.post(
        f"{drafter_up.api_url}/images/generate",
        json={"prompt": "A futuristic city at sunset", "size": "1024x1024"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["url"] == body["data"][0]["url"]


def test_refusal_is_400_with_the_reason(
    client: openai.OpenAI, fake_gemini_upstream: FakeGemini
) -> None:
    fake_gemini_upstream.enqueue_blocked_prompt("SAFETY", "blocked by policy")
    with pytest.raises(openai.BadRequestError) as exc:
        client.images.generate(prompt="something refused")
    assert "SAFETY" in str(exc.value.body)


@pytest.mark.parametrize("image_id", ["A" * 32, "..%2F..%2Fetc%2Fpasswd", "short"])
def test_unknown_image_is_404(drafter_up: DrafterStack, image_id: str) -> None:
    response = httpx.get(f"{drafter_up.base_url}/images/generated/{image_id}.png")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"


def _bright_square_on_dark(fmt: str) -> bytes:
    image = Image.new("RGB", (200, 120), (5, 5, 5))
    ImageDraw.Draw(image).rectangle((70, 30, 130, 90), fill=(250, 250, 250))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_remove_background(drafter_up: DrafterStack, key: str, fmt: str) -> None:
    response = httpx.post(
        f"{drafter_up.api_url}/image/remove-bg",
        headers={"Authorization": f"Bearer {key}"},
        files={"image": ("photo.bin", _bright_square_on_dark(fmt), "application/octet-stream")},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    result = Image.open(io.BytesIO(response.content))
    assert result.mode == "RGBA" and result.size == (200, 120)
    assert result.getpixel((100, 60))[3] > 200  # the object stays
    assert result.getpixel((5, 5))[3] < 30  # the background goes


@pytest.mark.parametrize(
    ("files", "status", "fragment"),
    [
        ({"image": ("a.txt", b"hello, not an image", "text/plain")}, 400, "PNG, JPEG or WebP"),
        ({"picture": ("a.png", b"x", "image/png")}, 400, "'image'"),
        ({"image": ("big.png", b"\x89PNG" + b"0" * (10 * 1024 * 1024), "image/png")}, 413, "10 MB"),
    ],
)
def test_remove_background_refuses_bad_uploads(
    drafter_up: DrafterStack, key: str, files: dict, status: int, fragment: str
) -> None:
    response = httpx.post(
        f"{drafter_up.api_url}/image/remove-bg",
        headers={"Authorization": f"Bearer {key}"},
        files=files,
        timeout=60,
    )
    assert response.status_code == status, response.text
    assert fragment in response.json()["error"]["message"]


def test_remove_background_needs_a_key(drafter_up: DrafterStack) -> None:
    response = httpx.post(
        f"{drafter_up.api_url}/image/remove-bg",
        files={"image": ("a.png", _bright_square_on_dark("PNG"), "image/png")},
    )
    assert response.status_code == 401


def test_failed_images_are_refunded_and_the_quota_holds(
    drafter_up: DrafterStack, fake_gemini_upstream: FakeGemini
) -> None:
    """Free plan: 3 images a day. An upstream that fails after its retries costs nothing;
    the 3 units are still there, and the fourth image is refused with 429."""
    key = drafter_up.create_user_with_key("images-quota@example.com", "free")
    client = openai.OpenAI(api_key=key, base_url=drafter_up.api_url, max_retries=0)
    for _ in range(3):  # every attempt of the one image fails
        fake_gemini_upstream.enqueue_error(500)
    with pytest.raises(openai.InternalServerError) as failed:
        client.images.generate(prompt="a storm")
    assert failed.value.status_code == 503
    assert len(client.images.generate(prompt="a calm sea", n=3, size="256x256").data) == 3
    with pytest.raises(openai.RateLimitError) as limited:
        client.images.generate(prompt="one more", size="256x256")
    response = limited.value.response
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["x-should-retry"] == "false"
    assert "3/3" in limited.value.body["message"]  # type: ignore[index]
