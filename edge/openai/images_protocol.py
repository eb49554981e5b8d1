"""OpenAI's Images API requests (``/images/generations``, ``/images/edits``) as Drafter
takes them, and what each parameter becomes (pure).

The parameters are those of OpenAI's current reference
(https://platform.openai.com/docs/api-reference/images, as the openai SDK's
``ImageGenerateParams`` / ``ImageEditParams`` spell them). The upstream is Gemini's image
model (https://ai.google.dev/gemini-api/docs/image-generation): it takes a prompt, input
images and an aspect ratio and resolution, and answers PNG. So:

- honoured: ``prompt``, ``n`` (1 to 4), ``size`` (nearest upstream aspect ratio, then
  cropped and resized to exactly the size; ``auto``: the upstream's own), ``quality``
  (``high``, ``xhigh``, ``max``, ``hd``: the upstream's 2K rendering), ``background``
  (``transparent``: the result goes through background removal), ``output_format`` and
  ``output_compression`` (converted here), ``response_format``, the edit's images and
  ``mask`` (applied to the result);
- accepted, not forwarded (no upstream equivalent): ``style``, ``moderation``,
  ``complexity``, ``input_fidelity``, ``user`` / ``safety_identifier`` (logged by the
  images service), ``stream: false``, ``partial_images``;
- refused with a 400 naming the parameter, as accepting would mislead: ``stream: true``,
  ``output_format`` ``gif`` / ``svg`` and what goes with them (``frame_count``,
  ``frame_duration_ms``, ``svg``), ``markup``, a transparent background in JPEG, a size
  OpenAI refuses, and any ``model`` but the served one (404 ``model_not_found``).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from drafter.edge.errors import APIError, invalid_request, model_not_found
from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.model_table import IMAGE_MODEL_ID

# Drafter's cap on images a request (each a unit of quota); OpenAI's is 10.
MAX_IMAGES = 4
# The sizes OpenAI lists, and its rule for the others (gpt-image-2's "arbitrary
# resolutions": both sides divisible by 16, a ratio between 1:3 and 3:1, at most 3840x2160).
OPENAI_SIZES = (
    "1024x1024",
    "1536x1024",
    "1024x1536",
    "256x256",
    "512x512",
    "1792x1024",
    "1024x1792",
)
MAX_SIZE = (3840, 2160)
_SIZE_RE = re.compile(r"([0-9]{1,5})x([0-9]{1,5})")

_FORMATS = {
    "png": images_pb.IMAGE_FORMAT_PNG,
    "jpeg": images_pb.IMAGE_FORMAT_JPEG,
    "webp": images_pb.IMAGE_FORMAT_WEBP,
}
_QUALITIES = {
    "low": images_pb.IMAGE_QUALITY_LOW,
    "medium": images_pb.IMAGE_QUALITY_MEDIUM,
    "standard": images_pb.IMAGE_QUALITY_MEDIUM,
    "high": images_pb.IMAGE_QUALITY_HIGH,
    "hd": images_pb.IMAGE_QUALITY_HIGH,
    "xhigh": images_pb.IMAGE_QUALITY_XHIGH,
    "max": images_pb.IMAGE_QUALITY_MAX,
}
# What the response's ``quality`` says for each asked one (OpenAI's response vocabulary).
_ANSWERED_QUALITY = {"standard": "medium", "hd": "high"}

Quality = Literal["low", "medium", "high", "xhigh", "max", "auto", "standard", "hd"]


class ImageOptions(BaseModel):
    """What generations and edits share."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=32_000)
    model: str | None = None
    n: int | None = Field(None, ge=1, le=MAX_IMAGES)
    size: str | None = None
    quality: Quality | None = None
    background: Literal["transparent", "opaque", "auto"] | None = None
    output_format: Literal["png", "jpeg", "webp", "gif", "svg"] | None = None
    output_compression: int | None = Field(None, ge=0, le=100)
    moderation: Literal["low", "auto"] | None = None
    complexity: Literal["low", "medium", "high"] | None = None
    response_format: Literal["url", "b64_json"] | None = None
    stream: bool | None = None
    partial_images: int | None = Field(None, ge=0, le=3)
    frame_count: int | None = None
    frame_duration_ms: int | None = None
    svg: dict[str, Any] | None = None
    user: str | None = None
    safety_identifier: str | None = None

    @property
    def count(self) -> int:
        return self.n or 1

    @property
    def format_name(self) -> str:
        return self.output_format or "png"

    @property
    def end_user(self) -> str:
        """``safety_identifier`` when non-empty, else ``user`` (the reference's rule)."""
        return self.safety_identifier or self.user or ""

    def answered_quality(self, width: int, height: int) -> str:
        """The response's ``quality``: the asked one, or for ``auto`` what the upstream
        rendered (2K above 1024 pixels a side: ``high``; else ``medium``)."""
        if self.quality and self.quality != "auto":
            return _ANSWERED_QUALITY.get(self.quality, self.quality)
        return "high" if max(width, height) > 1024 else "medium"


class ImageGenerationRequest(ImageOptions):
    style: Literal["vivid", "natural"] | None = None


class ImageEditRequest(ImageOptions):
    input_fidelity: Literal["high", "low"] | None = None


def size_from_openai(size: str | None) -> tuple[int, int]:
    """``(width, height)``; ``(0, 0)`` for ``auto`` (or none). A size OpenAI refuses is a
    400 naming ``size``."""
    if size is None or size == "auto":
        return 0, 0
    match = _SIZE_RE.fullmatch(size)
    if match is None:
        raise _bad_size(size)
    width, height = int(match[1]), int(match[2])
    if size in OPENAI_SIZES:
        return width, height
    fits = max(width, height) <= MAX_SIZE[0] and width * height <= MAX_SIZE[0] * MAX_SIZE[1]
    ratio_ok = width and height and 1 / 3 <= width / height <= 3
    if width % 16 or height % 16 or not ratio_ok or not fits:
        raise _bad_size(size)
    return width, height


def _bad_size(size: str) -> APIError:
    listed = ", ".join(("auto", *OPENAI_SIZES))
    return invalid_request(
        f"Invalid value for 'size': '{size}'. Supported values are {listed}, or WIDTHxHEIGHT "
        "with both sides divisible by 16, a ratio between 1:3 and 3:1 and at most 3840x2160.",
        "size",
    )


def checked_model(name: str | None) -> str:
    """The served image model's id; any other name is a 404 ``model_not_found``."""
    if name is None or name == "" or name.lower() == IMAGE_MODEL_ID:
        return IMAGE_MODEL_ID
    raise model_not_found(
        f"The model `{name}` does not exist or you do not have access to it. "
        f"The image model Drafter serves is `{IMAGE_MODEL_ID}`."
    )


def _refuse_unsupported(body: ImageOptions) -> None:
    if body.stream:
        raise invalid_request(
            "Streaming partial images is not supported: the image model answers whole "
            "images. Send 'stream': false.",
            "stream",
        )
    if body.output_format in ("gif", "svg"):
        raise invalid_request(
            f"Invalid value for 'output_format': '{body.output_format}'. Supported values "
            "are png, jpeg and webp.",
            "output_format",
        )
    for name in ("frame_count", "frame_duration_ms", "svg"):
        if getattr(body, name) is not None:
            raise invalid_request(
                f"'{name}' is only supported with output_format gif or svg, which this "
                "image model does not produce.",
                name,
            )
    if body.background == "transparent" and body.output_format == "jpeg":
        raise invalid_request(
            "A transparent background needs an output format that supports transparency: "
            "set 'output_format' to png or webp.",
            "output_format",
        )


def image_output_from_openai(body: ImageOptions) -> images_pb.ImageOutput:
    """The proto's output description; 400 naming what cannot be honoured."""
    _refuse_unsupported(body)
    width, height = size_from_openai(body.size)
    output = images_pb.ImageOutput(
        width=width,
        height=height,
        format=_FORMATS[body.format_name],
        transparent=body.background == "transparent",
        quality=_QUALITIES.get(body.quality or "auto", images_pb.IMAGE_QUALITY_UNSPECIFIED),
    )
    if body.output_compression is not None:
        output.compression = body.output_compression
    return output
