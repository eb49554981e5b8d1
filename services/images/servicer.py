"""ImagesServicer: parse → domain call → response. Errors are DrafterErrors raised below."""

from __future__ import annotations

from grpc import aio

from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.images.v1 import images_service_pb2_grpc as images_grpc
from drafter.services.images.background import BackgroundRemover
from drafter.services.images.finishing import mime_type_of
from drafter.services.images.producer import ImageProducer
from drafter.services.images.storage import ImageStore, check_image_id


class ImagesServicer(images_grpc.ImagesServiceServicer):
    """Generates, edits, stores and serves images, and removes backgrounds."""

    def __init__(
        self, *, producer: ImageProducer, remover: BackgroundRemover, store: ImageStore
    ) -> None:
        self._producer = producer
        self._remover = remover
        self._store = store

    async def Generate(
        self, request: images_pb.GenerateRequest, context: aio.ServicerContext
    ) -> images_pb.GenerateResponse:
        return await self._producer.generate(request)

    async def Edit(
        self, request: images_pb.EditRequest, context: aio.ServicerContext
    ) -> images_pb.EditResponse:
        return await self._producer.edit(request)

    async def RemoveBackground(
        self, request: images_pb.RemoveBackgroundRequest, context: aio.ServicerContext
    ) -> images_pb.RemoveBackgroundResponse:
        png = await self._remover.remove(request.image)
        return images_pb.RemoveBackgroundResponse(png=png)

    async def GetImage(
        self, request: images_pb.GetImageRequest, context: aio.ServicerContext
    ) -> images_pb.GetImageResponse:
        data = await self._store.get(check_image_id(request.id))
        return images_pb.GetImageResponse(png=data, mime_type=mime_type_of(data))
