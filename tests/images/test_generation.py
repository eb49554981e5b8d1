"""Generate and GetImage over real gRPC, against the fake Gemini through the real SDK."""

from __future__ import annotations

import asyncio
import io

import grpc
import httpx2
import pytest
from PIL import Image

from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.images.v1 import images_service_pb2_grpc as images_grpc
from drafter.rpc.errors import RemoteError, UpstreamUnavailable, error_from_rpc, reason_name
from drafter.services.images.generation import (
    ImageGenerator,
    RetryPolicy,
    UpstreamAsk,
    new_genai_client,
)
from tests.fakes.gemini_server import FakeGemini

UPSTREAM_PATH = "/v1beta/models/gemini-3-pro-image-preview:generateContent"


async def _fails(call: object) -> RemoteError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return error_from_rpc(caught.value)


def _png_size(data: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.size


async def test_generate_one_image(stub: images_grpc.ImagesServiceStub, gemini: FakeGemini) -> None:
    response = await stub.Generate(images_pb.GenerateRequest(prompt="a lighthouse", user="u1"))
    assert len(response.images) == 1
    assert response.failed == 0
    assert _png_size(response.images[0].png) == (1024, 1024)
    [request] = gemini.requests
    assert request.path == UPSTREAM_PATH
    assert request.headers["x-goog-api-key"] == "test-gemini-key"
    assert request.body["contents"][0]["parts"][0]["text"] == "a lighthouse"
    assert request.body["generationConfig"]["responseModalities"] == ["IMAGE"]


async def test_generate_three_images_calls_upstream_in_parallel(
    stub: images_grpc.ImagesServiceStub, gemini: FakeGemini
) -> None:
    gemini.delay_s = 0.3
    response = await stub.Generate(images_pb.GenerateRequest(prompt="three cats", n=3))
    assert len(response.images) == 3
    assert len({image.id for image in response.images}) == 3
    assert len(gemini.requests) == 3
    assert gemini.max_in_flight == 3


@pytest.mark.parametrize("size", [256, 512, 1024])
async def test_generate_produces_the_asked_size(
    stub: images_grpc.ImagesServiceStub, gemini: FakeGemini, size: int
) -> None:
    gemini.default_size = (800, 600)  # not square, not the asked size
    response = await stub.Generate(images_pb.GenerateRequest(prompt="a tree", size=size))
    assert _png_size(response.images[0].png) == (size, size)


async def test_generated_image_is_fetchable(
    stub: images_grpc.ImagesServiceStub, gemini: FakeGemini
) -> None:
    generated = await stub.Generate(images_pb.GenerateRequest(prompt="a boat", size=256))
    image = generated.images[0]
    assert len(image.id) >= 22  # >= 128 bits of url-safe base64
    fetched = await stub.GetImage(images_pb.GetImageRequest(id=image.id))
    assert fetched.png == image.png


async def test_unknown_image_is_not_found(stub: images_grpc.ImagesServiceStub) -> None:
    error = await _fails(stub.GetImage(images_pb.GetImageRequest(id="A" * 32)))
    assert error.code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("image_id", ["../../etc/passwd", "..%2F..%2Fx", "a/b", "", "x" * 300])
async def test_malformed_image_id_is_refused(
    stub: images_grpc.ImagesServiceStub, image_id: str
) -> None:
    error = await _fails(stub.GetImage(images_pb.GetImageRequest(id=image_id)))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.metadata["param"] == "id"


@pytest.mark.parametrize("code", [500, 429, 503])
async def test_transient_upstream_errors_are_retried(
    stub: images_grpc.ImagesServiceStub, gemini: FakeGemini, code: int
) -> None:
    gemini.enqueue_error(code)
    gemini.enqueue_error(code)
    response = await stub.Generate(images_pb.GenerateRequest(prompt="retry me", size=256))
    assert len(response.images) == 1
    assert len(gemini.requests) == 3


async def test_upstream_timeout_is_retried(
    stub: images_grpc.ImagesServiceStub, gemini: FakeGemini
) -> None:
    gemini.enqueue_image(1024, 1024, delay_s=1.6)  # longer than the attempt timeout
    response = await stub.Generate(images_pb.GenerateRequest(prompt="slow", size=256))
    assert len(response.images) == 1
    assert len(gemini.requests) == 2


async def test_transport_errors_are_retried_then_unavailable() -> None:
    """A peer that hangs up at once: the SDK raises httpx2's transport error (its default
    backend), which is retried like a 5xx and finally reported as unavailable."""
    connections = 0

    async def hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = new_genai_client("test-gemini-key", f"http://127.0.0.1:{port}", timeout_s=5.0)
    generator = ImageGenerator(
        client, upstream_model="m", policy=RetryPolicy(attempts=3, backoff_s=0.01)
    )
    try:
        with pytest.raises(UpstreamUnavailable, match="unreachable") as caught:
            await generator.generate(UpstreamAsk("x"), n=1)
    finally:
        await generator.aclose()
        server.close()
        await server.wait_closed()
    assert isinstance(caught.value.__cause__, httpx2.TransportError)
    assert connections == 3


@pytest.mark.parametrize(
    ("code", "reason"), [(500, "UPSTREAM_UNAVAILABLE"), (429, "UPSTREAM_RATE_LIMITED")]
)
async def test_exhausted_retries_are_unavailable(
    stub: images_grpc.ImagesServiceStub, gemini: FakeGemini, code: int, reason: str
) -> None:
    for _ in range(3):
        gemini.enqueue_error(code, "upstream is overloaded")
    error = await _fails(stub.Generate(images_pb.GenerateRequest(prompt="doomed")))
    assert error.code == grpc.StatusCode.UNAVAILABLE
    assert reason_name(error.reason) == reason
    assert len(gemini.requests) == 3


async def test_blocked_prompt_is_invalid_with_the_reason(
    stub: images_grpc.ImagesServiceStub, gemini: FakeGemini
) -> None:
    gemini.enqueue_blocked_prompt("PROHIBITED_CONTENT", "The prompt is not allowed.")
    error = await _fails(stub.Generate(images_pb.GenerateRequest(prompt="something bad")))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "PROHIBITED_CONTENT" in error.message
    assert "The prompt is not allowed." in error.message
    assert error.metadata["upstream_reason"] == "PROHIBITED_CONTENT"
    assert len(gemini.requests) == 1  # refusals are not retried


async def test_safety_finish_reason_is_invalid(
    stub: images_grpc.ImagesServiceStub, gemini: FakeGemini
) -> None:
    gemini.enqueue_finish_refusal("IMAGE_SAFETY", "Unsafe image.")
    error = await _fails(stub.Generate(images_pb.GenerateRequest(prompt="hmm")))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "IMAGE_SAFETY" in error.message


async def test_partial_failure_is_counted(
    stub: images_grpc.ImagesServiceStub, gemini: FakeGemini
) -> None:
    gemini.enqueue_finish_refusal("IMAGE_SAFETY")
    response = await stub.Generate(images_pb.GenerateRequest(prompt="four", n=4, size=256))
    assert len(response.images) == 3
    assert response.failed == 1


@pytest.mark.parametrize(
    ("request_", "param"),
    [
        (images_pb.GenerateRequest(prompt="  "), "prompt"),
        (images_pb.GenerateRequest(prompt="x", n=5), "n"),
        (images_pb.GenerateRequest(prompt="x", n=-1), "n"),
        (images_pb.GenerateRequest(prompt="x", size=300), "size"),
    ],
)
async def test_invalid_generate_requests_name_the_field(
    stub: images_grpc.ImagesServiceStub,
    gemini: FakeGemini,
    request_: images_pb.GenerateRequest,
    param: str,
) -> None:
    error = await _fails(stub.Generate(request_))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.metadata["param"] == param
    assert not gemini.requests
