"""OpenAI sizes → what the upstream image model can be asked for: an aspect ratio and a
resolution tier (``imageConfig.aspectRatio`` / ``imageConfig.imageSize``), pure.

The aspect ratios and the pixels of each at 1K are Gemini 3 Pro Image's (the model
behind ``nano-banano-pro``), from https://ai.google.dev/gemini-api/docs/image-generation
("Aspect ratios and image size"): 2K doubles both sides, 4K quadruples them. Drafter asks
for 1K or 2K only: a 4K answer (up to 6336x2688) is past the pixels Drafter decodes
(``IMAGE_MAX_INPUT_PIXELS``), and no OpenAI size needs it (the largest, 3840x2160, is
resized up from 2K's 2752x1536).
"""

from __future__ import annotations

import math

from drafter.images.v1 import images_service_pb2 as images_pb

# aspectRatio → (width, height) at 1K.
ASPECT_RATIOS: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "2:3": (848, 1264),
    "3:2": (1264, 848),
    "3:4": (896, 1200),
    "4:3": (1200, 896),
    "4:5": (928, 1152),
    "5:4": (1152, 928),
    "9:16": (768, 1376),
    "16:9": (1376, 768),
    "21:9": (1584, 672),
}
IMAGE_SIZES = ("1K", "2K")
# Qualities that ask the upstream for its 2K rendering (more detail, then resized).
_DETAILED = frozenset(
    {images_pb.IMAGE_QUALITY_HIGH, images_pb.IMAGE_QUALITY_XHIGH, images_pb.IMAGE_QUALITY_MAX}
)


def nearest_aspect_ratio(width: int, height: int) -> str:
    """The upstream's aspect ratio closest to ``width``:``height`` (on a log scale, so
    2:1 is as far from 1:1 as 1:2 is)."""
    wanted = math.log(width / height)
    return min(ASPECT_RATIOS, key=lambda r: abs(math.log(_ratio(r)) - wanted))


def _ratio(name: str) -> float:
    w, h = name.split(":")
    return int(w) / int(h)


def image_size_for(width: int, height: int, quality: int) -> str:
    """``1K`` unless the output's longest side is over 1K's or the quality asks for more
    detail: then ``2K``."""
    if quality in _DETAILED or max(width, height) > 1024:
        return "2K"
    return "1K"
