"""The limits of the contract between the edge and the services, in one place, so both
sides refuse the same input with the same numbers. Limits that only one side knows stay
with it (``services/images/limits.py``: pixels, sides, prompt length)."""

from __future__ import annotations

MiB = 1024 * 1024

# Chat completions: choices per request (each one unit of the chat quota) and the answer's
# tokens when the caller sets none (the reference's "default: 1024").
MAX_CHOICES = 8
DEFAULT_MAX_TOKENS = 1024

# The largest file a chat file part may carry, decoded: Anthropic's request limit (the PDF
# support page, "Maximum request size: 32MB"); the body limit (DRAFTER_MAX_BODY_BYTES)
# usually binds first.
DOCUMENT_MAX_BYTES = 32 * MiB

# The gRPC message cap of the chat server and of channels to it: a Messages API body passed
# through whole, up to Anthropic's own request limit (32 MB, the API's "Request size
# limits"; DRAFTER_MAX_BODY_BYTES by default), with room for the rest of the message.
CHAT_MAX_MESSAGE_BYTES = 32 * MiB + 1 * MiB

# The largest image RemoveBackground accepts (the reference's "Max 10MB"): one byte more
# is refused with 413.
IMAGE_MAX_UPLOAD_BYTES = 10 * MiB
# The most pixels an input image may have: it bounds decoding memory (decompression bombs)
# and the size of the answer.
IMAGE_MAX_INPUT_PIXELS = 16_000_000
# Pixels one request may produce in total (n x width x height; 4 images of 2048x2048),
# which bounds what an answer carries.
IMAGE_MAX_OUTPUT_PIXELS = 4 * 2048 * 2048
# The gRPC message cap of the images server and of channels to it, in both directions. It
# carries a 10 MiB upload (14 MiB of edit inputs) and the answer of IMAGE_MAX_INPUT_PIXELS
# or IMAGE_MAX_OUTPUT_PIXELS pixels (at most 4 bytes a pixel plus framing), so it is
# deliberately above IMAGE_MAX_UPLOAD_BYTES; uploads between the two are refused by the
# service with 413.
IMAGE_MAX_MESSAGE_BYTES = 4 * max(IMAGE_MAX_INPUT_PIXELS, IMAGE_MAX_OUTPUT_PIXELS) + 2 * MiB

# Image edits (``/images/edits``). Input images: at most 14, Gemini 3 Pro Image's limit
# of reference images (https://ai.google.dev/gemini-api/docs/image-generation; OpenAI
# takes 16), each at most IMAGE_MAX_UPLOAD_BYTES, together at most
# IMAGE_EDIT_MAX_TOTAL_BYTES: the upstream takes requests of up to 20 MB with inline data
# base64-encoded (4/3 the bytes), so 14 MiB of files is what fits with the prompt.
IMAGE_EDIT_MAX_IMAGES = 14
IMAGE_EDIT_MAX_TOTAL_BYTES = 14 * MiB
# The mask: a PNG under 4 MB, as OpenAI's reference says.
IMAGE_MASK_MAX_BYTES = 4 * MiB

# Stored responses (``/v1/responses`` with ``store``): the largest StoreResponseRequest
# (its ``ByteSize()``: the response, input items and conversation JSON) that is kept. Under
# the accounts channel's 4 MiB gRPC message cap (``drafter.rpc.server``) with room to
# spare; a bigger response is answered to the client but not stored (logged), so a later
# ``previous_response_id`` naming it is a 404.
RESPONSE_STORE_MAX_BYTES = 3 * MiB
