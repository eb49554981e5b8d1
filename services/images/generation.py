"""Image generation through the google-genai SDK: parallel calls, bounded retries.

The SDK's own retries are switched off (``attempts=1``) so retrying happens once, here:
429, 408 and 5xx answers, transport errors and per-attempt timeouts are retried with
exponential backoff and jitter, then reported as UpstreamUnavailable (503 at the edge).
The SDK sends through httpx2 (its default backend, a runtime dependency here; never httpx,
which is only a dev dependency), so its transport errors and timeouts are httpx2's.
Safety refusals are the caller's: InvalidRequest carrying the upstream's reason.

The SDK is imported when a Gemini key makes a client (``new_genai_client``), never at
import: google-genai and what it pulls in (httpx with its command-line extras, PIL, auth
and websockets) hold about 20 MB, which a process without a key never needs. The other
functions here import it again only once a client exists, as a dictionary lookup.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx2

from drafter.common.v1 import errors_pb2
from drafter.rpc.errors import DrafterError, InternalError, InvalidRequest, UpstreamUnavailable

if TYPE_CHECKING:
    from google import genai
    from google.genai import types

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
class UpstreamAsk:
    """One upstream call's input: the prompt, the input images (bytes, MIME type) for an
    edit, and the image config (``aspect.py``; no aspect ratio lets the model choose:
    square for a prompt alone, the input's ratio for an edit)."""

    prompt: str
    images: tuple[tuple[bytes, str], ...] = ()
    aspect_ratio: str | None = None
    image_size: str = "1K"


@dataclass(frozen=True, slots=True)
class TokenCounts:
    """What the upstream's ``usageMetadata`` reported, summed over calls."""

    input_text: int = 0
    input_image: int = 0
    output: int = 0

    def __add__(self, other: TokenCounts) -> TokenCounts:
        return TokenCounts(
            self.input_text + other.input_text,
            self.input_image + other.input_image,
            self.output + other.output,
        )


@dataclass(frozen=True, slots=True)
class Generated:
    """The images produced for one request (as the upstream encoded them), how many of
    the asked ones failed, and the tokens the upstream reported."""

    images: list[bytes]
    failed: int
    usage: TokenCounts = TokenCounts()


class UpstreamRefusal(InvalidRequest):
    """The upstream refused the prompt or the image (safety); the caller's to fix."""


def new_genai_client(api_key: str, base_url: str | None, timeout_s: float) -> genai.Client:
    """THE client for the life of the process; the SDK does not retry, we do."""
    from google import genai
    from google.genai import types

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


def usage_from_response(response: types.GenerateContentResponse) -> TokenCounts:
    """The answer's ``usageMetadata``: prompt tokens by modality, and candidate tokens."""
    usage = response.usage_metadata
    if usage is None:
        return TokenCounts()
    by_modality = {
        str(getattr(d.modality, "value", d.modality)): d.token_count or 0
        for d in usage.prompt_tokens_details or ()
    }
    prompt = usage.prompt_token_count or 0
    image = by_modality.get("IMAGE", 0)
    text = by_modality.get("TEXT", prompt - image)
    return TokenCounts(text, image, usage.candidates_token_count or 0)


def _error_from_upstream(exc: Exception) -> DrafterError:
    """The final error once ``exc`` is not retried (or retries ran out)."""
    from google.genai import errors as genai_errors

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
    from google.genai import errors as genai_errors

    if isinstance(exc, genai_errors.APIError):
        return exc.code in RETRYABLE_STATUS
    return isinstance(exc, TimeoutError | httpx2.TransportError)


class ImageGenerator:
    """Calls the upstream image model with ONE long-lived genai client."""

    def __init__(
        self, client: genai.Client | None, *, upstream_model: str, policy: RetryPolicy
    ) -> None:
        self._client = client
        self._model = upstream_model
        self._policy = policy

    async def generate(self, ask: UpstreamAsk, *, n: int) -> Generated:
        """``n`` images from ``n`` parallel upstream calls. Some may fail: they are counted
        in ``failed``. When all fail, the most telling error is raised (a refusal first)."""
        if self._client is None:
            raise UpstreamUnavailable("Image upstream not configured: GEMINI_API_KEY is unset.")
        from google.genai import types

        contents = _contents(ask)
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(
                aspect_ratio=ask.aspect_ratio, image_size=ask.image_size
            ),
        )
        outcomes = await asyncio.gather(
            *(self._call_with_retries(contents, config) for _ in range(n)),
            return_exceptions=True,
        )
        answers = [o for o in outcomes if isinstance(o, tuple)]
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        for error in errors:
            if not isinstance(error, DrafterError):
                raise error
        if not answers:
            refusals = [e for e in errors if isinstance(e, InvalidRequest)]
            raise (refusals or errors)[0]
        if errors:
            log.warning("%d of %d images failed: %s", len(errors), n, errors[0])
        usage = sum((u for _, u in answers), TokenCounts())
        return Generated([image for image, _ in answers], failed=len(errors), usage=usage)

    async def _call_with_retries(
        self, contents: types.Content, config: types.GenerateContentConfig
    ) -> tuple[bytes, TokenCounts]:
        assert self._client is not None
        policy = self._policy
        for attempt in range(1, policy.attempts + 1):
            try:
                async with asyncio.timeout(policy.attempt_timeout_s):
                    response = await self._client.aio.models.generate_content(
                        model=self._model, contents=contents, config=config
                    )
            except Exception as exc:
                if not _retryable(exc) or attempt == policy.attempts:
                    raise _error_from_upstream(exc) from exc
                delay = policy.delay(attempt)
                log.info("image upstream attempt %d: %s; retrying in %.2fs", attempt, exc, delay)
                await asyncio.sleep(delay)
                continue
            return image_from_response(response), usage_from_response(response)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aio.aclose()


def _contents(ask: UpstreamAsk) -> types.Content:
    """One user turn: the prompt's text part, then each input image as inline data (the
    documented shape of an edit: https://ai.google.dev/gemini-api/docs/image-generation,
    "Image editing (text-and-image-to-image)")."""
    from google.genai import types

    parts = [types.Part.from_text(text=ask.prompt)]
    parts += [types.Part.from_bytes(data=data, mime_type=mime) for data, mime in ask.images]
    return types.Content(role="user", parts=parts)
