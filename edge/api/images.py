"""OpenAI's Images API: generation (``/images/generations``, alias ``/images/generate``)
and edits (``/images/edits``); background removal (``/image/remove-bg``); and stored
images (``public``: ``/images/generated/{id}.{png,jpeg,webp}``, mounted at the root,
without the API prefixes). What each parameter becomes is in
``edge/openai/images_protocol.py``; generations count against the plan's ``imageGen``
quota, edits and background removal against ``imageEdit``, one unit per image produced."""

from __future__ import annotations

from typing import Any

import grpc
import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.edge.api.bodies import parse_json_body
from drafter.edge.api.image_edit_form import read_edit_form
from drafter.edge.api.uploads import read_upload
from drafter.edge.deps import ApiContext, ApiDep, ServicesDep, SettingsDep
from drafter.edge.errors import APIError
from drafter.edge.openai.images_protocol import (
    ImageGenerationRequest,
    checked_model,
    image_output_from_openai,
)
from drafter.edge.openai.images_response import images_response
from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.limits import IMAGE_MAX_UPLOAD_BYTES

router = APIRouter(tags=["images"])
public = APIRouter(tags=["images"])

IMAGE_CACHE = "public, max-age=31536000, immutable"
STORED_EXTENSIONS = frozenset({"png", "jpeg", "webp"})


async def _generate(request: Request, api: ApiContext) -> dict[str, Any]:
    body = parse_json_body(await request.body(), ImageGenerationRequest)
    model = checked_model(body.model)
    output = image_output_from_openai(body)
    kind = accounts_pb.USAGE_KIND_IMAGE_GEN
    async with api.accounting.reserved(api.credential, kind, model, body.count) as settlement:
        response = await api.services.images.Generate(
            images_pb.GenerateRequest(
                prompt=body.prompt, n=body.count, user=body.end_user, output=output
            ),
            timeout=api.settings.upstream_timeout_s,
        )
        settlement.units_used = len(response.images)
    return images_response(list(response.images), response.usage, body, api.settings.base_url)


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


@router.post("/images/edits")
async def edit_images(request: Request, api: ApiDep) -> Response:
    form = await read_edit_form(request)
    body = form.body
    model = checked_model(body.model)
    output = image_output_from_openai(body)
    kind = accounts_pb.USAGE_KIND_IMAGE_EDIT
    async with api.accounting.reserved(api.credential, kind, model, body.count) as settlement:
        response = await api.services.images.Edit(
            images_pb.EditRequest(
                prompt=body.prompt,
                images=form.images,
                mask=form.mask,
                n=body.count,
                output=output,
                user=body.end_user,
            ),
            timeout=api.settings.upstream_timeout_s,
        )
        settlement.units_used = len(response.images)
    payload = images_response(list(response.images), response.usage, body, api.settings.base_url)
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


@public.get("/images/generated/{filename}")
async def get_generated_image(
    filename: str, services: ServicesDep, settings: SettingsDep
) -> Response:
    image_id, _, extension = filename.rpartition(".")
    if extension not in STORED_EXTENSIONS:
        raise APIError(404, "No such image.", "not_found_error")
    try:
        # A read from the images service's store, not an upstream call: the short deadline.
        response = await services.images.GetImage(
            images_pb.GetImageRequest(id=image_id), timeout=settings.accounts_timeout_s
        )
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:  # not an id we could have made
            raise APIError(404, "No such image.", "not_found_error") from None
        raise
    media_type = response.mime_type or "image/png"
    return Response(response.png, media_type=media_type, headers={"Cache-Control": IMAGE_CACHE})
