"""The size limits of the images service, shared with the edge so both refuse the same input.

The edge checks an upload against :data:`MAX_UPLOAD_BYTES` before calling, and opens its
channel to this service with :data:`MAX_MESSAGE_BYTES`; the service checks again.
"""

from __future__ import annotations

MiB = 1024 * 1024

# The largest file RemoveBackground accepts (the seed's "Max 10MB"); one byte more is
# refused with InvalidRequest and metadata {"http_status": "413"}.
MAX_UPLOAD_BYTES = 10 * MiB

# The most pixels an input image may have. It bounds decoding memory (decompression bombs)
# and the size of the answer: an RGBA PNG of this many pixels stays under the message cap.
MAX_INPUT_PIXELS = 16_000_000

# Longest edge of an input image, whatever its pixel count.
MAX_INPUT_SIDE = 12_000

# The gRPC message cap of the images server and of channels to it, in both directions
# (``start_server`` takes one number). It must carry a 10 MiB upload and the PNG answer of a
# MAX_INPUT_PIXELS image (at most 4 bytes a pixel plus PNG framing), so it is deliberately
# above MAX_UPLOAD_BYTES; uploads between the two are refused by the service with 413.
MAX_MESSAGE_BYTES = 4 * MAX_INPUT_PIXELS + 2 * MiB

# Generation.
IMAGE_SIZES = (256, 512, 1024)
DEFAULT_IMAGE_SIZE = 1024
MAX_IMAGES_PER_REQUEST = 4
MAX_PROMPT_CHARS = 32_000

# Generated image ids: 24 random bytes, url-safe base64 (192 bits).
IMAGE_ID_BYTES = 24
