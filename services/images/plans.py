"""A Generate or Edit request → what to ask the upstream and what to deliver (pure):
prompt, count, exact output size, the upstream's aspect ratio and resolution.
InvalidRequest names the field at fault."""

from __future__ import annotations

from dataclasses import dataclass

from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.limits import IMAGE_MAX_OUTPUT_PIXELS
from drafter.rpc.errors import InvalidRequest
from drafter.services.images.aspect import image_size_for, nearest_aspect_ratio
from drafter.services.images.limits import (
    IMAGE_SIZES,
    MAX_IMAGES_PER_REQUEST,
    MAX_OUTPUT_SIDE,
    MAX_PROMPT_CHARS,
)


@dataclass(frozen=True, slots=True)
class Plan:
    prompt: str
    n: int
    # What the caller gets; width and height 0: the upstream's own size.
    output: images_pb.ImageOutput
    aspect_ratio: str | None
    image_size: str


def _prompt(text: str) -> str:
    prompt = text.strip()
    if not prompt:
        raise InvalidRequest("`prompt` is required.", metadata={"param": "prompt"})
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidRequest(
            f"`prompt` is longer than {MAX_PROMPT_CHARS} characters.", metadata={"param": "prompt"}
        )
    return prompt


def _n(n: int) -> int:
    n = n or 1
    if not 1 <= n <= MAX_IMAGES_PER_REQUEST:
        raise InvalidRequest(
            f"`n` must be between 1 and {MAX_IMAGES_PER_REQUEST}, got {n}.", metadata={"param": "n"}
        )
    return n


def _size_error(message: str) -> InvalidRequest:
    return InvalidRequest(message, metadata={"param": "size"})


def _checked_size(width: int, height: int, n: int) -> None:
    if width <= 0 or height <= 0 or max(width, height) > MAX_OUTPUT_SIDE:
        raise _size_error(f"`size` {width}x{height} is outside 1 to {MAX_OUTPUT_SIDE} pixels.")
    if n * width * height > IMAGE_MAX_OUTPUT_PIXELS:
        raise _size_error(
            f"{n} image(s) of {width}x{height} are more than {IMAGE_MAX_OUTPUT_PIXELS:,} "
            "pixels in one request; ask for fewer or smaller images."
        )


def plan(prompt: str, n: int, output: images_pb.ImageOutput, *, square: int = 0) -> Plan:
    """The plan of one request; ``square`` is Generate's legacy ``size`` (a side)."""
    prompt, n = _prompt(prompt), _n(n)
    resolved = images_pb.ImageOutput()
    resolved.CopyFrom(output)
    if not (output.width or output.height) and square:
        if square not in IMAGE_SIZES:
            allowed = ", ".join(f"{s}x{s}" for s in IMAGE_SIZES)
            raise _size_error(f"`size` must be one of {allowed}, got {square}x{square}.")
        resolved.width = resolved.height = square
    width, height = resolved.width, resolved.height
    if not (width or height):
        return Plan(prompt, n, resolved, None, image_size_for(0, 0, output.quality))
    _checked_size(width, height, n)
    ratio = nearest_aspect_ratio(width, height)
    return Plan(prompt, n, resolved, ratio, image_size_for(width, height, output.quality))


def plan_generation(request: images_pb.GenerateRequest) -> Plan:
    return plan(request.prompt, request.n, request.output, square=request.size)


def plan_edit(request: images_pb.EditRequest) -> Plan:
    return plan(request.prompt, request.n, request.output)
