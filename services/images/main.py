"""The images service process: build its dependencies once, start the gRPC server."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.images.v1 import images_service_pb2_grpc as images_grpc
from drafter.limits import IMAGE_MAX_MESSAGE_BYTES
from drafter.model_table import IMAGE_MODEL_ID, load_model_table
from drafter.rpc.internal_auth import load_internal_auth
from drafter.rpc.server import Registration, RunningServer, serve_until_signal, start_server
from drafter.services.images.background import start_remover
from drafter.services.images.generation import ImageGenerator, RetryPolicy, new_genai_client
from drafter.services.images.producer import ImageProducer
from drafter.services.images.readiness import publish_removal_health
from drafter.services.images.servicer import ImagesServicer
from drafter.services.images.settings import ImagesSettings
from drafter.services.images.storage import FilesystemImageStore

if TYPE_CHECKING:
    from google import genai  # imported with the first client (``generation``)

log = logging.getLogger("drafter.images")

SERVICE_NAME = images_pb.DESCRIPTOR.services_by_name["ImagesService"].full_name


def _genai_client(settings: ImagesSettings) -> genai.Client | None:
    if settings.gemini_api_key is None or not settings.gemini_api_key.get_secret_value():
        log.warning("GEMINI_API_KEY is unset: image generation will answer UNAVAILABLE")
        return None
    return new_genai_client(
        settings.gemini_api_key.get_secret_value(),
        settings.gemini_base_url,
        settings.image_upstream_timeout_s,
    )


def _generator(settings: ImagesSettings) -> ImageGenerator:
    upstream = (
        settings.image_upstream_model
        or load_model_table(settings.models_file).resolve(IMAGE_MODEL_ID).upstream
    )
    policy = RetryPolicy(
        attempts=settings.image_upstream_attempts,
        backoff_s=settings.image_upstream_backoff_s,
        attempt_timeout_s=settings.image_upstream_timeout_s,
    )
    return ImageGenerator(_genai_client(settings), upstream_model=upstream, policy=policy)


async def start(settings: ImagesSettings, addr: str) -> RunningServer:
    """Starts the images service on ``addr`` with ONE genai client, ONE rembg session and
    the image store; stopping the returned server closes them. Starts without a Gemini key
    or a rembg model too: the RPCs needing them answer UNAVAILABLE. Does not wait for the
    rembg session, which loads in the background (``readiness.py``)."""
    auth = load_internal_auth(settings)
    generator = _generator(settings)
    remover = start_remover(
        settings.rembg_model, settings.rembg_model_path, workers=settings.rembg_workers
    )
    store = FilesystemImageStore(settings.images_dir)
    producer = ImageProducer(generator=generator, remover=remover, store=store)
    servicer = ImagesServicer(producer=producer, remover=remover, store=store)
    registration = Registration(
        images_grpc.add_ImagesServiceServicer_to_server, servicer, SERVICE_NAME
    )
    try:
        running = await start_server(
            [registration],
            addr,
            auth=auth,
            max_message_bytes=IMAGE_MAX_MESSAGE_BYTES,
        )
    except BaseException:
        await remover.aclose()
        await generator.aclose()
        raise
    running.cleanups.extend([generator.aclose, remover.aclose])
    await publish_removal_health(running, remover)
    return running


async def serve(settings: ImagesSettings, addr: str) -> None:
    """``drafter serve images``: runs until SIGINT / SIGTERM."""
    await serve_until_signal(await start(settings, addr))
