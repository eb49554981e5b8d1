"""ImagesServicer: parse → domain call → response. Errors are DrafterErrors raised below."""

from __future__ import annotations

import asyncio
import logging

from grpc import aio

from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.images.v1 import images_service_pb2_grpc as images_grpc
from drafter.rpc.errors import InvalidRequest
from drafter.services.images.background import BackgroundRemover
from drafter.services.images.generation import ImageGenerator
from drafter.services.images.limits import (
    DEFAULT_IMAGE_SIZE,
    IMAGE_SIZES,
    MAX_IMAGES_PER_REQUEST,
    MAX_PROMPT_CHARS,
)
from drafter.services.images.storage import ImageStore, check_image_id

log = logging.getLogger("drafter.images")


def generation_params_from_request(request: images_pb.GenerateRequest) -> tuple[str, int, int]:
    """``(prompt, n, size)`` with defaults applied; InvalidRequest naming the bad field."""
    prompt = request.prompt.strip()
    if not prompt:
        raise InvalidRequest("`prompt` is required.", metadata={"param": "prompt"})
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidRequest(
            f"`prompt` is longer than {MAX_PROMPT_CHARS} characters.", metadata={"param": "prompt"}
        )
    n = request.n or 1
    if not 1 <= n <= MAX_IMAGES_PER_REQUEST:
        raise InvalidRequest(
            f"`n` must be between 1 and {MAX_IMAGES_PER_REQUEST}, got {n}.", metadata={"param": "n"}
        )
    size = request.size or DEFAULT_IMAGE_SIZE
    if size not in IMAGE_SIZES:
        allowed = ", ".join(f"{s}x{s}" for s in IMAGE_SIZES)
        raise InvalidRequest(
            f"`size` must be one of {allowed}, got {size}x{size}.", metadata={"param": "size"}
        )
    return prompt, n, size


class ImagesServicer(images_grpc.ImagesServiceServicer):
    """Generates, stores and serves images, and removes backgrounds."""

    def __init__(
        self, *, generator: ImageGenerator, remover: BackgroundRemover, store: ImageStore
    ) -> None:
        self._generator = generator
        self._remover = remover
        self._store = store

    async def Generate(
        self, request: images_pb.GenerateRequest, context: aio.ServicerContext
    ) -> images_pb.GenerateResponse:
        prompt, n, size = generation_params_from_request(request)
        log.info("generating %d image(s) of %dpx for user %r", n, size, request.user or "-")
        generated = await self._generator.generate(prompt, n=n, size=size)
        ids = await asyncio.gather(*(self._store.put(png) for png in generated.pngs))
        pairs = zip(ids, generated.pngs, strict=True)
        images = [images_pb.GeneratedImage(id=i, png=p) for i, p in pairs]
        return images_pb.GenerateResponse(images=images, failed=generated.failed)

    async def RemoveBackground(
        self, request: images_pb.RemoveBackgroundRequest, context: aio.ServicerContext
    ) -> images_pb.RemoveBackgroundResponse:
        png = await self._remover.remove(request.image)
        return images_pb.RemoveBackgroundResponse(png=png)

    async def GetImage(
        self, request: images_pb.GetImageRequest, context: aio.ServicerContext
    ) -> images_pb.GetImageResponse:
        png = await self._store.get(check_image_id(request.id))
        return images_pb.GetImageResponse(png=png)
