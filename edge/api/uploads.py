"""Reading multipart uploads with a hard cap, so an oversized body is refused before it
is read whole."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.types import Message

from drafter.edge.errors import APIError, invalid_request, payload_too_large

# Room for the multipart envelope around the file (boundaries, part headers).
ENVELOPE_BYTES = 64 * 1024


def too_large(limit: int) -> APIError:
    return payload_too_large(f"The file is larger than {limit // (1024 * 1024)} MB.", "image")


async def read_capped_body(request: Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it passes ``limit`` (Content-Length first)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(limit - ENVELOPE_BYTES)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit - ENVELOPE_BYTES)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_upload(request: Request, field: str, max_bytes: int) -> bytes:
    """The bytes of multipart file field ``field``, at most ``max_bytes``."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise invalid_request(
            f"Send the file as multipart/form-data in the field '{field}'.", field
        )
    body = await read_capped_body(request, max_bytes + ENVELOPE_BYTES)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    buffered = Request(request.scope, replay)
    try:
        form = await buffered.form(max_files=1, max_fields=10)
    except Exception as exc:  # malformed multipart: the parser's own message is the problem
        raise invalid_request(f"The multipart body could not be read: {exc}", field) from None
    upload = form.get(field)
    if not isinstance(upload, UploadFile):
        raise invalid_request(f"Missing required file field: '{field}'.", field)
    data = await upload.read()
    await form.close()
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    return data
