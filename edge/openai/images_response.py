"""The images service's answer → OpenAI's ``ImagesResponse`` (pure): ``created``,
``data[]`` (``url`` or ``b64_json``, ``revised_prompt`` when there is one), and what was
produced: ``background``, ``output_format``, ``quality``, ``size``, and ``usage`` in
OpenAI's token shape when the upstream reported tokens."""

from __future__ import annotations

import base64
import time
from typing import Any

from drafter.edge.openai.images_protocol import ImageOptions
from drafter.images.v1 import images_service_pb2 as images_pb

_EXTENSIONS = {"image/jpeg": "jpeg", "image/webp": "webp"}


def image_path(image: images_pb.GeneratedImage) -> str:
    """Where the stored image is served, its format in the name."""
    return f"/images/generated/{image.id}.{_EXTENSIONS.get(image.mime_type, 'png')}"


def _entry(image: images_pb.GeneratedImage, body: ImageOptions, base_url: str) -> dict[str, Any]:
    entry: dict[str, Any] = (
        {"b64_json": base64.b64encode(image.png).decode()}
        if body.response_format == "b64_json"
        else {"url": base_url + image_path(image)}
    )
    if image.revised_prompt:
        entry["revised_prompt"] = image.revised_prompt
    return entry


def _usage(usage: images_pb.ImageUsage) -> dict[str, Any]:
    inputs = usage.input_text_tokens + usage.input_image_tokens
    return {
        "input_tokens": inputs,
        "input_tokens_details": {
            "image_tokens": usage.input_image_tokens,
            "text_tokens": usage.input_text_tokens,
        },
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"image_tokens": usage.output_tokens, "text_tokens": 0},
        "total_tokens": inputs + usage.output_tokens,
    }


def images_response(
    images: list[images_pb.GeneratedImage],
    usage: images_pb.ImageUsage,
    body: ImageOptions,
    base_url: str,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "created": int(time.time()),
        "data": [_entry(image, body, base_url) for image in images],
        "background": "transparent" if body.background == "transparent" else "opaque",
        "output_format": body.format_name,
    }
    if images:
        first = images[0]
        payload["quality"] = body.answered_quality(first.width, first.height)
        payload["size"] = f"{first.width}x{first.height}"
    if usage.input_text_tokens or usage.input_image_tokens or usage.output_tokens:
        payload["usage"] = _usage(usage)
    return payload
