"""What the upstream answered → what the caller asked for: the mask applied, the exact
size, the format (PNG, JPEG or WebP at the asked compression). Pure functions of bytes and
Pillow images, run off the event loop by the caller.

The upstream answers PNG (or JPEG) at its own resolution for the nearest aspect ratio it
has (``aspect.py``); OpenAI answers the size asked for, so the image is centre-cropped to
the asked ratio and resized. A mask (OpenAI's edits: "fully transparent areas indicate
where image should be edited") is applied here, as the upstream takes none: the result is
the edited image where the mask is transparent and the original everywhere else.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

from drafter.images.v1 import images_service_pb2 as images_pb
from drafter.limits import IMAGE_MAX_INPUT_PIXELS
from drafter.rpc.errors import UpstreamUnavailable

_FORMATS: dict[int, tuple[str, str]] = {
    images_pb.IMAGE_FORMAT_UNSPECIFIED: ("PNG", "image/png"),
    images_pb.IMAGE_FORMAT_PNG: ("PNG", "image/png"),
    images_pb.IMAGE_FORMAT_JPEG: ("JPEG", "image/jpeg"),
    images_pb.IMAGE_FORMAT_WEBP: ("WEBP", "image/webp"),
}
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


@dataclass(frozen=True, slots=True)
class Finished:
    data: bytes
    mime_type: str
    width: int
    height: int


def mime_type_of(data: bytes) -> str:
    """The MIME type of a stored image, from its first bytes (PNG when unknown)."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "image/png"


def decode_upstream(data: bytes) -> Image.Image:
    """The upstream's image, decoded, in RGB or RGBA; UpstreamUnavailable when it is not
    a readable image of a sane size."""
    image: Image.Image
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > IMAGE_MAX_INPUT_PIXELS:
            raise UpstreamUnavailable(f"The image model returned a {image.size} image.")
        image.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise UpstreamUnavailable(f"The image model returned an unreadable image: {exc}") from exc
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    return image


def masked(edited: Image.Image, original: Image.Image, mask: Image.Image) -> Image.Image:
    """``edited`` where ``mask`` is fully transparent, ``original`` elsewhere, at the
    original's size (the mask has it)."""
    if edited.size != original.size:
        edited = edited.resize(original.size, Image.Resampling.LANCZOS)
    editable = mask.getchannel("A").point(lambda alpha: 255 if alpha == 0 else 0)
    mode = "RGBA" if "A" in (edited.mode + original.mode) else "RGB"
    return Image.composite(edited.convert(mode), original.convert(mode), editable)


def sized(image: Image.Image, width: int, height: int) -> Image.Image:
    """``image`` at exactly ``width`` x ``height`` (centre-cropped to the ratio, resized);
    as it is when no size was asked (0 x 0)."""
    if not width or not height or image.size == (width, height):
        return image
    return ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)


def encoded(image: Image.Image, output: images_pb.ImageOutput) -> Finished:
    """``image`` in the asked format; JPEG has no alpha, so it goes onto white."""
    fmt, mime = _FORMATS[output.format]
    quality = output.compression if output.HasField("compression") else 100
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode == "RGBA":
            flat = Image.new("RGB", image.size, (255, 255, 255))
            flat.paste(image, mask=image.getchannel("A"))
            image = flat
        image.save(out, "JPEG", quality=max(1, quality))
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=quality, lossless=quality == 100)
    else:
        image.save(out, "PNG", compress_level=6)
    return Finished(out.getvalue(), mime, image.width, image.height)
