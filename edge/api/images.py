"""Image generation (``/images/generations``, alias ``/images/generate``), background
removal (``/image/remove-bg``), and stored images (``public``: ``/images/generated/{id}.png``,
mounted at the root, without the API prefixes)."""

from __future__ import annotations

import base64
import time
from typing import Any

import grpc
import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.edge.api.bodies import parse_json_body
from drafter.edge.api.uploads import read_upload
from drafter.edge.deps import ApiContext, ApiDep, ServicesDep, SettingsDep
from drafter.edge.errors import APIError
from drafter.edge.openai.images_protocol import ImageGenerationRequest
from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.limits import IMAGE_MAX_UPLOAD_BYTES

router = APIRouter(tags=["images"])
public = APIRouter(tags=["images"])

IMAGE_CACHE = "public, max-age=31536000, immutable"


def _image_entry(
    image: images_pb.GeneratedImage, body: ImageGenerationRequest, base: str
) -> dict[str, Any]:
    entry: dict[str, Any] = (
        {"b64_json": base64.b64encode(image.png).decode()}
        if body.response_format == "b64_json"
        else {"url": f"{base}/images/generated/{image.id}.png"}
    )
    if image.revised_prompt:
        entry["revised_prompt"] = image.revised_prompt
    return entry


async def _generate(request: Request, api: ApiContext) -> dict[str, Any]:
    body = parse_json_body(await request.body(), ImageGenerationRequest)
    kind = accounts_pb.USAGE_KIND_IMAGE_GEN
    async with api.accounting.reserved(api.credential, kind, body.model, body.n) as settlement:
        response = await api.services.images.Generate(
            images_pb.GenerateRequest(
                prompt=body.prompt, n=body.n, size=body.side, user=body.user or ""
            ),
            timeout=api.settings.upstream_timeout_s,
        )
        settlement.units_used = len(response.images)
    data = [_image_entry(image, body, api.settings.base_url) for image in response.images]
    return {"created": int(time.time()), "data": data}


def _json(payload: dict[str, Any]) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


@router.post("/images/generations")
async def create_images(request: Request, api: ApiDep) -> Response:
    return _json(await _generate(request, api))


@router.post("/images/generate")
async def create_images_alias(request: Request, api: ApiDep) -> Response:
    """The seed's client reads ``const { url } = await img.json()``: the first image's
    URL is also at the top level."""
    payload = await _generate(request, api)
    if payload["data"] and "url" in payload["data"][0]:
        payload["url"] = payload["data"][0]["url"]
    return _json(payload)


@router.post("/image/remove-bg")
async def remove_background(request: Request, api: ApiDep) -> Response:
    image = await read_upload(request, "image", IMAGE_MAX_UPLOAD_BYTES)
    kind = accounts_pb.USAGE_KIND_IMAGE_EDIT
    async with api.accounting.reserved(api.credential, kind) as settlement:
        response = await api.services.images.RemoveBackground(
            images_pb.RemoveBackgroundRequest(image=image),
            timeout=api.settings.upstream_timeout_s,
        )
        settlement.units_used = 1
    return Response(response.png, media_type="image/png")


@public.get("/images/generated/{image_id}.png")
async def get_generated_image(
    image_id: str, services: ServicesDep, settings: SettingsDep
) -> Response:
    try:
        # A read from the images service's store, not an upstream call: the short deadline.
        response = await services.images.GetImage(
            images_pb.GetImageRequest(id=image_id), timeout=settings.accounts_timeout_s
        )
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:  # not an id we could have made
            raise APIError(404, "No such image.", "not_found_error") from None
        raise
    return Response(response.png, media_type="image/png", headers={"Cache-Control": IMAGE_CACHE})
