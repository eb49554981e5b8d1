"""The limits of the contract between the edge and the services, in one place, so both
sides refuse the same input with the same numbers. Limits that only one side knows stay
with it (``services/images/limits.py``: pixels, sides, prompt length)."""

from __future__ import annotations

MiB = 1024 * 1024

# Chat completions: choices per request (each one unit of the chat quota) and the answer's
# tokens when the caller sets none (the reference's "default: 1024").
MAX_CHOICES = 8
DEFAULT_MAX_TOKENS = 1024

# The largest image RemoveBackground accepts (the reference's "Max 10MB"): one byte more
# is refused with 413.
IMAGE_MAX_UPLOAD_BYTES = 10 * MiB
# The most pixels an input image may have: it bounds decoding memory (decompression bombs)
# and the size of the answer.
IMAGE_MAX_INPUT_PIXELS = 16_000_000
# The gRPC message cap of the images server and of channels to it, in both directions. It
# carries a 10 MiB upload and the PNG answer of an IMAGE_MAX_INPUT_PIXELS image (at most 4
# bytes a pixel plus PNG framing), so it is deliberately above IMAGE_MAX_UPLOAD_BYTES;
# uploads between the two are refused by the service with 413.
IMAGE_MAX_MESSAGE_BYTES = 4 * IMAGE_MAX_INPUT_PIXELS + 2 * MiB
