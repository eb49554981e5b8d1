"""The Messages API body on its way upstream (pure): read only as far as Drafter needs it.

The client's JSON goes upstream as it came, every field and content block kept, with two
exceptions: ``model`` becomes the model table's upstream id, and the limits Drafter
enforces from the model table are checked first (``max_tokens`` against the model's
``max_output_tokens``, in the words the chat completions path uses). Everything else is
the upstream's to judge, and its refusals come back verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from drafter.model_table import ModelSpec
from drafter.rpc.errors import InvalidRequest


@dataclass(frozen=True, slots=True)
class UpstreamBody:
    """The bytes to send upstream, and whether the client asked for a stream."""

    content: bytes
    stream: bool


def _param(name: str) -> dict[str, str]:
    return {"param": name}


def parsed_body(body: bytes) -> dict[str, Any]:
    """The client's JSON object; a 400 when it is not one."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest("The request body is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return parsed


def check_limits(body: dict[str, Any], model: ModelSpec) -> None:
    """Drafter's own limits from the model table: ``max_tokens`` within the model's
    output limit (the same 400 as the chat completions path)."""
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        return  # a missing or malformed max_tokens is the upstream's to refuse
    limit = model.max_output_tokens
    if limit is not None and max_tokens > limit:
        raise InvalidRequest(
            f"max_tokens is too large: {max_tokens} > {limit}, the most output tokens "
            f"`{model.id}` can produce.",
            metadata=_param("max_tokens"),
        )


def upstream_body(body: bytes, model: ModelSpec, *, with_limits: bool = True) -> UpstreamBody:
    """The body as the upstream gets it: ``model`` replaced by ``model.upstream``, after
    Drafter's limits (``with_limits``; token counting has none)."""
    parsed = parsed_body(body)
    if with_limits:
        check_limits(parsed, model)
    parsed["model"] = model.upstream
    return UpstreamBody(orjson.dumps(parsed), parsed.get("stream") is True)
