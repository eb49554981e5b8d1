"""The inputs of an Edit, checked before anything goes upstream: the images (PNG, JPEG or
WebP, recognised by content, as background removal takes them), how many and how large
together, and the mask (a PNG with alpha, the first image's size). InvalidRequest names
``image`` or ``mask``."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from drafter.common.v1 import errors_pb2
from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.limits import (
    IMAGE_EDIT_MAX_IMAGES,
    IMAGE_EDIT_MAX_TOTAL_BYTES,
    IMAGE_MASK_MAX_BYTES,
    MiB,
)
from drafter.rpc.errors import InvalidRequest
from drafter.services.images.background import decode_upload, sniff_format

_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


@dataclass(frozen=True, slots=True)
class EditInputs:
    # Each input as sent, with its MIME type (for the upstream's inline data).
    images: tuple[tuple[bytes, str], ...]
    # The first image decoded (upright, RGBA) and the mask, when there is one.
    first: Image.Image
    mask: Image.Image | None


def _too_large(message: str, param: str) -> InvalidRequest:
    return InvalidRequest(
        message, reason=errors_pb2.ERROR_REASON_PAYLOAD_TOO_LARGE, metadata={"param": param}
    )


def _mask(data: bytes, first: Image.Image) -> Image.Image:
    if len(data) > IMAGE_MASK_MAX_BYTES:
        raise _too_large(f"The mask is larger than {IMAGE_MASK_MAX_BYTES // MiB} MB.", "mask")
    try:
        if sniff_format(data) != "PNG":
            raise InvalidRequest("it is not a PNG")
        mode, transparency = _png_mode(data)
        mask = decode_upload(data)
    except InvalidRequest as exc:
        raise InvalidRequest(
            f"The mask must be a PNG image with an alpha channel: {exc}",
            metadata={"param": "mask"},
        ) from None
    if mode not in ("RGBA", "LA", "PA") and not transparency:
        raise InvalidRequest(
            "The mask must be a PNG with an alpha channel: its fully transparent areas say "
            "where the image is edited.",
            metadata={"param": "mask"},
        )
    if mask.size != first.size:
        raise InvalidRequest(
            f"The mask is {mask.width}x{mask.height}; it must be the size of the (first) "
            f"image, {first.width}x{first.height}.",
            metadata={"param": "mask"},
        )
    return mask


def _png_mode(data: bytes) -> tuple[str, bool]:
    """The PNG's mode and whether it declares a transparent colour, from its header."""
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            return image.mode, "transparency" in image.info
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidRequest(f"it could not be read ({exc})") from None


def edit_inputs_from_request(request: images_pb.EditRequest) -> EditInputs:
    """The checked inputs; decodes every image (run off the event loop)."""
    if not request.images:
        raise InvalidRequest("At least one image to edit is required.", metadata={"param": "image"})
    if len(request.images) > IMAGE_EDIT_MAX_IMAGES:
        raise InvalidRequest(
            f"At most {IMAGE_EDIT_MAX_IMAGES} images can be edited together, "
            f"got {len(request.images)}.",
            metadata={"param": "image"},
        )
    total = sum(len(data) for data in request.images)
    if total > IMAGE_EDIT_MAX_TOTAL_BYTES:
        raise _too_large(
            f"The images are {total} bytes together; the limit is "
            f"{IMAGE_EDIT_MAX_TOTAL_BYTES // MiB} MB.",
            "image",
        )
    decoded = [decode_upload(data) for data in request.images]
    images = tuple((data, _MIME[sniff_format(data)]) for data in request.images)
    mask = _mask(request.mask, decoded[0]) if request.mask else None
    return EditInputs(images, decoded[0], mask)
