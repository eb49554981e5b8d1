"""A local HTTP server speaking the Gemini generateContent wire format, for the real SDK.

``POST /v1beta/models/{model}:generateContent`` answers, in order, the responses enqueued by
the test, then by default an image (``candidates[].content.parts[].inlineData``) of
``default_size``. Refusals use ``promptFeedback.blockReason`` or a candidate
``finishReason``; errors use Google's ``{"error": {code, message, status}}`` body. Every
request is recorded, with the most requests seen in flight at once.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from PIL import Image, ImageDraw

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


def image_body(data: bytes, mime_type: str = "image/png") -> dict[str, Any]:
    encoded = base64.b64encode(data).decode()
    part = {"inlineData": {"mimeType": mime_type, "data": encoded}}
    candidate = {"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}
    return {"candidates": [candidate], "usageMetadata": {"promptTokenCount": 8}}


def error_body(code: int, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": _STATUS.get(code, "UNKNOWN")}}


class FakeGemini:
    """The fake upstream; ``base_url`` goes into ``DRAFTER_GEMINI_BASE_URL``."""

    def __init__(self, default_size: tuple[int, int] = (1024, 1024)) -> None:
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

    def _next(self) -> Scripted:
        with self._lock:
            if self._script:
                return self._script.popleft()
        return Scripted(200, image_body(png_bytes(*self.default_size)), self.delay_s)

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
        with self._lock:
            self.requests.append(Recorded(scope["path"], headers, json.loads(raw or b"{}")))
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            answer = self._next()
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
