"""Image generation through the google-genai SDK: parallel calls, bounded retries, resize.

The SDK's own retries are switched off (``attempts=1``) so retrying happens once, here:
429, 408 and 5xx answers, transport errors and per-attempt timeouts are retried with
exponential backoff and jitter, then reported as UpstreamUnavailable (503 at the edge).
The SDK sends through httpx2 (its default backend, a runtime dependency here; never httpx,
which is only a dev dependency), so its transport errors and timeouts are httpx2's.
Safety refusals are the caller's: InvalidRequest carrying the upstream's reason.
"""

from __future__ import annotations

import asyncio
import io
import logging
import random
from dataclasses import dataclass

import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from PIL import Image, ImageOps

from drafter.common.v1 import errors_pb2
from drafter.limits import IMAGE_MAX_INPUT_PIXELS
from drafter.rpc.errors import DrafterError, InternalError, InvalidRequest, UpstreamUnavailable

log = logging.getLogger("drafter.images")

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# Candidate finish reasons that mean "refused", as opposed to "failed".
REFUSAL_FINISH_REASONS = frozenset(
    {
        "SAFETY",
        "PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
        "RECITATION",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
        "MODEL_ARMOR",
    }
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    backoff_s: float = 1.0
    max_backoff_s: float = 20.0
    attempt_timeout_s: float = 120.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed ``attempt`` (1-based): exponential, half jitter."""
        ceiling = min(self.max_backoff_s, self.backoff_s * 2.0 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)


@dataclass(frozen=True, slots=True)
class Generated:
    """The images produced for one request and how many of the asked ones failed."""

    pngs: list[bytes]
    failed: int


class UpstreamRefusal(InvalidRequest):
    """The upstream refused the prompt or the image (safety); the caller's to fix."""


def new_genai_client(api_key: str, base_url: str | None, timeout_s: float) -> genai.Client:
    """THE client for the life of the process; the SDK does not retry, we do."""
    return genai.Client(
        api_key=api_key,
        http_options=types.HttpOptions(
            base_url=base_url,
            # Image output (responseModalities, imageConfig) is documented for v1beta; the
            # SDK's default for the Gemini API is v1.
            api_version="v1beta",
            timeout=int(timeout_s * 1000),
            retry_options=types.HttpRetryOptions(attempts=1),
        ),
    )


def _refusal(reason: str, message: str | None, what: str) -> UpstreamRefusal:
    detail = f": {message}" if message else ""
    return UpstreamRefusal(
        f"The image model refused the {what} ({reason}){detail}",
        metadata={"param": "prompt", "upstream_reason": reason},
    )


def image_from_response(response: types.GenerateContentResponse) -> bytes:
    """The first image of a generateContent answer; UpstreamRefusal when it was blocked."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        reason = str(getattr(feedback.block_reason, "value", feedback.block_reason))
        raise _refusal(reason, feedback.block_reason_message, "prompt")
    for candidate in response.candidates or ():
        parts = candidate.content.parts if candidate.content else None
        for part in parts or ():
            blob = part.inline_data
            if blob and blob.data and (blob.mime_type or "").startswith("image/"):
                return blob.data
        finish = candidate.finish_reason
        reason = str(getattr(finish, "value", finish)) if finish else ""
        if reason in REFUSAL_FINISH_REASONS:
            raise _refusal(reason, candidate.finish_message, "request")
    raise UpstreamUnavailable("The image model returned no image.")


def png_of_size(data: bytes, size: int) -> bytes:
    """``data`` as a ``size``x``size`` PNG: centre-cropped and resized when it is not."""
    image: Image.Image
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > IMAGE_MAX_INPUT_PIXELS:
            raise UpstreamUnavailable(f"The image model returned a {image.size} image.")
        if image.format == "PNG" and image.size == (size, size):
            return data
        image.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise UpstreamUnavailable(f"The image model returned an unreadable image: {exc}") from exc
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    if image.size != (size, size):
        image = ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _error_from_upstream(exc: Exception) -> DrafterError:
    """The final error once ``exc`` is not retried (or retries ran out)."""
    if isinstance(exc, genai_errors.APIError):
        code = exc.code
        message = f"Image upstream answered {code}: {exc.message or exc.status}"
        if code == 429:
            return UpstreamUnavailable(
                message, reason=errors_pb2.ERROR_REASON_UPSTREAM_RATE_LIMITED
            )
        if code in (401, 403):
            return InternalError(message, reason=errors_pb2.ERROR_REASON_UPSTREAM_AUTH)
        if code == 404:
            return InternalError(message, reason=errors_pb2.ERROR_REASON_MODEL_TABLE)
        if code == 400:
            return InvalidRequest(message, metadata={"param": "prompt"})
        return UpstreamUnavailable(message)
    if isinstance(exc, TimeoutError | httpx2.TimeoutException):
        return UpstreamUnavailable("The image upstream timed out.")
    return UpstreamUnavailable(f"The image upstream is unreachable: {exc}")


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, genai_errors.APIError):
        return exc.code in RETRYABLE_STATUS
    return isinstance(exc, TimeoutError | httpx2.TransportError)


class ImageGenerator:
    """Generates square PNGs of the asked size with ONE long-lived genai client."""

    def __init__(
        self, client: genai.Client | None, *, upstream_model: str, policy: RetryPolicy
    ) -> None:
        self._client = client
        self._model = upstream_model
        self._policy = policy
        self._config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio="1:1", image_size="1K"),
        )

    async def generate(self, prompt: str, *, n: int, size: int) -> Generated:
        """``n`` images from ``n`` parallel upstream calls. Some may fail: they are counted
        in ``failed``. When all fail, the most telling error is raised (a refusal first)."""
        if self._client is None:
            raise UpstreamUnavailable("Image upstream not configured: GEMINI_API_KEY is unset.")
        outcomes = await asyncio.gather(
            *(self._one(prompt, size) for _ in range(n)), return_exceptions=True
        )
        pngs = [o for o in outcomes if isinstance(o, bytes)]
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        for error in errors:
            if not isinstance(error, DrafterError):
                raise error
        if not pngs:
            refusals = [e for e in errors if isinstance(e, InvalidRequest)]
            raise (refusals or errors)[0]
        if errors:
            log.warning("%d of %d images failed: %s", len(errors), n, errors[0])
        return Generated(pngs, failed=len(errors))

    async def _one(self, prompt: str, size: int) -> bytes:
        data = await self._call_with_retries(prompt)
        return await asyncio.to_thread(png_of_size, data, size)  # decode + resize: off the loop

    async def _call_with_retries(self, prompt: str) -> bytes:
        assert self._client is not None
        policy = self._policy
        for attempt in range(1, policy.attempts + 1):
            try:
                async with asyncio.timeout(policy.attempt_timeout_s):
                    response = await self._client.aio.models.generate_content(
                        model=self._model, contents=prompt, config=self._config
                    )
            except Exception as exc:
                if not _retryable(exc) or attempt == policy.attempts:
                    raise _error_from_upstream(exc) from exc
                delay = policy.delay(attempt)
                log.info("image upstream attempt %d: %s; retrying in %.2fs", attempt, exc, delay)
                await asyncio.sleep(delay)
                continue
            return image_from_response(response)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aio.aclose()
