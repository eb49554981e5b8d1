"""Generate and Edit, from a plan to stored images: the upstream calls (``generation``),
then each result finished as asked (``finishing``: mask, size, format) and, for a
transparent background, cut out by the background-removal model, which Gemini cannot do
itself (it has no transparent output)."""

from __future__ import annotations

import asyncio
import logging

from PIL import Image

from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.services.images.background import BackgroundRemover
from drafter.services.images.edit_inputs import EditInputs, edit_inputs_from_request
from drafter.services.images.finishing import (
    decode_upstream,
    encoded,
    masked,
    sized,
)
from drafter.services.images.generation import Generated, ImageGenerator, UpstreamAsk
from drafter.services.images.plans import Plan, plan_edit, plan_generation
from drafter.services.images.storage import ImageStore

log = logging.getLogger("drafter.images")


class ImageProducer:
    """Asks the upstream, finishes and stores what it answered."""

    def __init__(
        self, *, generator: ImageGenerator, remover: BackgroundRemover, store: ImageStore
    ) -> None:
        self._generator = generator
        self._remover = remover
        self._store = store

    async def generate(self, request: images_pb.GenerateRequest) -> images_pb.GenerateResponse:
        plan = plan_generation(request)
        self._check_cutout(plan)
        log.info("generating %d image(s) for user %r", plan.n, request.user or "-")
        generated = await self._generator.generate(_ask(plan), n=plan.n)
        images = await self._finished(generated, plan, None)
        return images_pb.GenerateResponse(
            images=images, failed=generated.failed, usage=_usage(generated)
        )

    async def edit(self, request: images_pb.EditRequest) -> images_pb.EditResponse:
        plan = plan_edit(request)
        inputs = await asyncio.to_thread(edit_inputs_from_request, request)
        self._check_cutout(plan)
        log.info(
            "editing %d image(s) into %d for user %r",
            len(inputs.images),
            plan.n,
            request.user or "-",
        )
        generated = await self._generator.generate(_ask(plan, inputs), n=plan.n)
        images = await self._finished(generated, plan, inputs)
        return images_pb.EditResponse(
            images=images, failed=generated.failed, usage=_usage(generated)
        )

    def _check_cutout(self, plan: Plan) -> None:
        """Before any upstream call: a transparent background needs the removal model."""
        if plan.output.transparent:
            self._remover.check_ready()

    async def _finished(
        self, generated: Generated, plan: Plan, inputs: EditInputs | None
    ) -> list[images_pb.GeneratedImage]:
        return list(
            await asyncio.gather(*(self._finish(data, plan, inputs) for data in generated.images))
        )

    async def _finish(
        self, data: bytes, plan: Plan, inputs: EditInputs | None
    ) -> images_pb.GeneratedImage:
        output = plan.output
        image = await asyncio.to_thread(_shaped, data, output, inputs)
        if output.transparent:
            image = await self._remover.cut_out(image)
        finished = await asyncio.to_thread(encoded, image, output)
        image_id = await self._store.put(finished.data)
        return images_pb.GeneratedImage(
            id=image_id,
            png=finished.data,
            mime_type=finished.mime_type,
            width=finished.width,
            height=finished.height,
        )


def _ask(plan: Plan, inputs: EditInputs | None = None) -> UpstreamAsk:
    images = inputs.images if inputs is not None else ()
    return UpstreamAsk(plan.prompt, images, plan.aspect_ratio, plan.image_size)


def _shaped(data: bytes, output: images_pb.ImageOutput, inputs: EditInputs | None) -> Image.Image:
    image = decode_upstream(data)
    if inputs is not None and inputs.mask is not None:
        image = masked(image, inputs.first, inputs.mask)
    return sized(image, output.width, output.height)


def _usage(generated: Generated) -> images_pb.ImageUsage:
    usage = generated.usage
    return images_pb.ImageUsage(
        input_text_tokens=usage.input_text,
        input_image_tokens=usage.input_image,
        output_tokens=usage.output,
    )
