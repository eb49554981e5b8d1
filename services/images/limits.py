"""The images service's own limits. Those it shares with the edge (upload size, message
cap, input and output pixels) are in ``drafter/limits.py``."""

from __future__ import annotations

# Longest edge of an input image, whatever its pixel count.
MAX_INPUT_SIDE = 12_000

# Generation. IMAGE_SIZES: the square sides of GenerateRequest.size (the first API's).
IMAGE_SIZES = (256, 512, 1024)
MAX_IMAGES_PER_REQUEST = 4
MAX_PROMPT_CHARS = 32_000
# Longest side of an output image: OpenAI's largest size, 3840x2160.
MAX_OUTPUT_SIDE = 3840

# Generated image ids: 24 random bytes, url-safe base64 (192 bits).
IMAGE_ID_BYTES = 24
