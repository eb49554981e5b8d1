"""The images service's own limits. Those it shares with the edge (upload size, message
cap, input pixels) are in ``drafter/limits.py``."""

from __future__ import annotations

# Longest edge of an input image, whatever its pixel count.
MAX_INPUT_SIDE = 12_000

# Generation.
IMAGE_SIZES = (256, 512, 1024)
DEFAULT_IMAGE_SIZE = 1024
MAX_IMAGES_PER_REQUEST = 4
MAX_PROMPT_CHARS = 32_000

# Generated image ids: 24 random bytes, url-safe base64 (192 bits).
IMAGE_ID_BYTES = 24
