"""A local HTTP server speaking the Gemini generateContent wire format, for the real SDK.

``POST /v1beta/models/{model}:generateContent`` answers, in order, the responses enqueued by
the test, then by default an image (``candidates[].content.parts[].inlineData``) of
``default_size``, or when that is None of the size the live API gives for the request's
``imageConfig`` (its aspect ratio at its ``imageSize``; without an aspect ratio, the first
input image's nearest one, else square). Refusals use ``promptFeedback.blockReason`` or a
candidate ``finishReason``; errors use Google's ``{"error": {code, message, status}}``
body. Every request is recorded, with the most requests seen in flight at once.

As the live API does, a request is refused with 400 INVALID_ARGUMENT before anything else
when its ``imageConfig`` has an aspect ratio or image size the model does not take, or an
input image part (``inlineData``, the documented shape of an edit) is not an image.
Sources: https://ai.google.dev/gemini-api/docs/image-generation (Gemini 3 Pro Image's
aspect ratios and the pixels of each at 1K, 2K and 4K; "You must use an uppercase 'K'";
input images as ``inline_data`` parts beside the text), the live refusal's wording as
quoted in github.com/muyouzhi6/astrbot_plugin_gitee_aiimg issue 37, and the token counts
of the pricing page (1120 output tokens an image at 1K and 2K, 2000 at 4K, 560 an input
image).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import math
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from PIL import Image, ImageDraw

# Gemini 3 Pro Image: aspectRatio → (width, height) at 1K; 2K doubles, 4K quadruples.
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
IMAGE_SIZES = {"1K": 1, "2K": 2, "4K": 4}
INPUT_MIME_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"})
OUTPUT_TOKENS = {"1K": 1120, "2K": 1120, "4K": 2000}
INPUT_IMAGE_TOKENS = 560

_STATUS = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


def png_bytes(width: int, height: int) -> bytes:
    """A recognisable test picture: a light disc on a dark blue field."""
    image = Image.new("RGB", (width, height), (20, 30, 90))
    ImageDraw.Draw(image).ellipse(
        (width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(240, 220, 60)
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@dataclass
class Scripted:
    """One scripted answer: HTTP status, JSON body, and how long to wait before it."""

    status: int
    body: dict[str, Any]
    delay_s: float = 0.0


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


def image_body(
    data: bytes, mime_type: str = "image/png", usage: dict[str, Any] | None = None
) -> dict[str, Any]:
    encoded = base64.b64encode(data).decode()
    part = {"inlineData": {"mimeType": mime_type, "data": encoded}}
    candidate = {"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}
    return {"candidates": [candidate], "usageMetadata": usage or {"promptTokenCount": 8}}


def _ratio_list() -> str:
    names = [f"'{name}'" for name in ASPECT_RATIOS]
    return ", ".join(names[:-1]) + f", or {names[-1]}"


def refusal_of(body: dict[str, Any]) -> str | None:
    """What the live API says of a request it refuses for its image config or input
    images; None for one it takes."""
    config = body.get("generationConfig", {}).get("imageConfig", {})
    ratio = config.get("aspectRatio")
    if ratio is not None and ratio not in ASPECT_RATIOS:
        return (
            "* GenerateContentRequest.generation_config.image_config.aspect_ratio: "
            f"aspect_ratio must be one of {_ratio_list()}.\n"
        )
    size = config.get("imageSize")
    if size is not None and size not in IMAGE_SIZES:
        return (
            "* GenerateContentRequest.generation_config.image_config.image_size: "
            "image_size must be one of '1K', '2K', or '4K'.\n"
        )
    for blob in input_images(body):
        if mime_type_of(blob) not in INPUT_MIME_TYPES:
            return f"Unsupported MIME type: {mime_type_of(blob)}"
        try:
            blob_bytes(blob)
        except ValueError:
            return "Invalid value at 'contents[0].parts[1].inline_data.data' (TYPE_BYTES)"
    return None


def mime_type_of(blob: dict[str, Any]) -> str | None:
    """A blob's MIME type: the API reads JSON as protobuf's JSON mapping does, taking the
    lowerCamelCase name or the proto field's own (``mimeType`` or ``mime_type``; the
    google-genai SDK sends the latter): https://protobuf.dev/programming-guides/json/."""
    value = blob.get("mimeType", blob.get("mime_type"))
    return value if isinstance(value, str) else None


def blob_bytes(blob: dict[str, Any]) -> bytes:
    """A blob's data: protobuf's JSON mapping takes standard or URL-safe base64, with or
    without padding (the google-genai SDK sends URL-safe); ValueError when it is neither."""
    data = str(blob.get("data", "")).replace("-", "+").replace("_", "/")
    return base64.b64decode(data + "=" * (-len(data) % 4), validate=True)


def input_images(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``inlineData`` (or ``inline_data``) of every part of the request's contents."""
    return [
        part.get("inlineData", part.get("inline_data"))
        for content in body.get("contents", [])
        for part in content.get("parts", [])
        if "inlineData" in part or "inline_data" in part
    ]


def _nearest_ratio(width: int, height: int) -> str:
    wanted = math.log(width / height)
    return min(ASPECT_RATIOS, key=lambda r: abs(math.log(_ratio_value(r)) - wanted))


def _ratio_value(name: str) -> float:
    w, h = name.split(":")
    return int(w) / int(h)


def answer_size(body: dict[str, Any]) -> tuple[int, int]:
    """The pixels the live API answers a request with (see the module's docstring)."""
    config = body.get("generationConfig", {}).get("imageConfig", {})
    ratio = config.get("aspectRatio")
    if ratio is None:
        inputs = input_images(body)
        ratio = "1:1"
        if inputs:
            first = Image.open(io.BytesIO(blob_bytes(inputs[0])))
            ratio = _nearest_ratio(*first.size)
    scale = IMAGE_SIZES[config.get("imageSize", "1K")]
    width, height = ASPECT_RATIOS[ratio]
    return width * scale, height * scale


def usage_of(body: dict[str, Any]) -> dict[str, Any]:
    """``usageMetadata`` as the live API reports it for one image."""
    texts = [
        part.get("text", "")
        for content in body.get("contents", [])
        for part in content.get("parts", [])
    ]
    text_tokens = max(1, sum(len(t) for t in texts) // 4)
    image_tokens = INPUT_IMAGE_TOKENS * len(input_images(body))
    size = body.get("generationConfig", {}).get("imageConfig", {}).get("imageSize", "1K")
    output = OUTPUT_TOKENS.get(size, 1120)
    details = [{"modality": "TEXT", "tokenCount": text_tokens}]
    if image_tokens:
        details.append({"modality": "IMAGE", "tokenCount": image_tokens})
    return {
        "promptTokenCount": text_tokens + image_tokens,
        "candidatesTokenCount": output,
        "totalTokenCount": text_tokens + image_tokens + output,
        "promptTokensDetails": details,
    }


def error_body(code: int, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": _STATUS.get(code, "UNKNOWN")}}


class FakeGemini:
    """The fake upstream; ``base_url`` goes into ``DRAFTER_GEMINI_BASE_URL``."""

    def __init__(self, default_size: tuple[int, int] | None = (1024, 1024)) -> None:
        self.default_size = default_size
        self.delay_s = 0.0
        self.requests: list[Recorded] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._script: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # Scripting -------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.max_in_flight = 0
            self.delay_s = 0.0

    def enqueue(self, status: int, body: dict[str, Any], delay_s: float = 0.0) -> None:
        with self._lock:
            self._script.append(Scripted(status, body, delay_s))

    def enqueue_image(self, width: int, height: int, delay_s: float = 0.0) -> None:
        self.enqueue(200, image_body(png_bytes(width, height)), delay_s)

    def enqueue_error(self, code: int, message: str = "fake upstream error") -> None:
        self.enqueue(code, error_body(code, message))

    def enqueue_blocked_prompt(self, reason: str = "SAFETY", message: str = "") -> None:
        feedback: dict[str, Any] = {"blockReason": reason}
        if message:
            feedback["blockReasonMessage"] = message
        self.enqueue(200, {"promptFeedback": feedback, "usageMetadata": {"promptTokenCount": 8}})

    def enqueue_finish_refusal(self, reason: str = "IMAGE_SAFETY", message: str = "") -> None:
        candidate: dict[str, Any] = {"finishReason": reason, "index": 0}
        if message:
            candidate["finishMessage"] = message
        self.enqueue(200, {"candidates": [candidate]})

    # Serving ---------------------------------------------------------------------------

    def _next(self, body: dict[str, Any]) -> Scripted:
        with self._lock:
            if self._script:
                return self._script.popleft()
        size = self.default_size or answer_size(body)
        return Scripted(200, image_body(png_bytes(*size), usage=usage_of(body)), self.delay_s)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if scope["method"] != "POST" or not scope["path"].endswith(":generateContent"):
            await _send_json(send, 404, error_body(404, f"no route {scope['path']}"))
            return
        body = json.loads(raw or b"{}")
        with self._lock:
            self.requests.append(Recorded(scope["path"], headers, body))
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            refusal = refusal_of(body)
            answer = Scripted(400, error_body(400, refusal)) if refusal else self._next(body)
            if answer.delay_s:
                await asyncio.sleep(answer.delay_s)
            await _send_json(send, answer.status, answer.body)
        finally:
            with self._lock:
                self._in_flight -= 1

    def start(self) -> FakeGemini:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self, lifespan="off", log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake Gemini server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)


async def _send_json(send: Any, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json; charset=UTF-8")]
    headers.append((b"content-length", str(len(data)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
