"""Reading multipart uploads with a hard cap, so an oversized body is refused before it
is read whole."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.types import Message

from drafter.edge.errors import APIError, invalid_request, payload_too_large

# Room for the multipart envelope around the files (boundaries, part headers, fields).
ENVELOPE_BYTES = 64 * 1024


def too_large(limit: int, what: str = "The file", param: str = "image") -> APIError:
    return payload_too_large(f"{what} is larger than {limit // (1024 * 1024)} MB.", param)


async def read_capped_body(request: Request, limit: int, what: str = "The file") -> bytes:
    """The whole body, or 413 as soon as it passes ``limit`` (Content-Length first)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(limit - ENVELOPE_BYTES, what)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit - ENVELOPE_BYTES, what)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form(
    request: Request,
    field: str,
    max_bytes: int,
    *,
    max_files: int = 1,
    max_fields: int = 10,
    what: str = "The file",
) -> FormData:
    """The multipart form of at most ``max_bytes`` of files (``field`` is the file field
    named in the 400 for a body that is not multipart). Close it when done."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise invalid_request(
            f"Send the file as multipart/form-data in the field '{field}'.", field
        )
    body = await read_capped_body(request, max_bytes + ENVELOPE_BYTES, what)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    buffered = Request(request.scope, replay)
    try:
        return await buffered.form(max_files=max_files, max_fields=max_fields)
    except Exception as exc:  # malformed multipart: the parser's own message is the problem
        raise invalid_request(f"The multipart body could not be read: {exc}", field) from None


async def read_upload(request: Request, field: str, max_bytes: int) -> bytes:
    """The bytes of multipart file field ``field``, at most ``max_bytes``."""
    form = await read_form(request, field, max_bytes)
    upload = form.get(field)
    if not isinstance(upload, UploadFile):
        raise invalid_request(f"Missing required file field: '{field}'.", field)
    data = await upload.read()
    await form.close()
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    return data
