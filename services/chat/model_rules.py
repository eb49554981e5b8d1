"""What a chat request's thinking, effort, sampling and token limit become for one model
(pure): the model table says what the upstream accepts, this module maps the caller's
wishes onto it, and a wish the model cannot honour is a 400 naming the parameter, never
an upstream 400 and never silently dropped.

Thinking. ``thinking`` (Drafter's medium/high/max) and OpenAI's ``reasoning_effort``
(none, minimal, low, medium, high, xhigh, max) name one effort level; both given, they
must agree. A model whose first thinking style is "budget" gets ``thinking.type
"enabled"`` with the budget of that level (``THINKING_BUDGETS``); an "adaptive" model
gets ``thinking.type "adaptive"`` with ``output_config.effort`` set to the level, which
must be one of its ``efforts``. Either way the budget is added to ``max_tokens``, so the
answer keeps the room the caller asked for.

A model whose thinking is always on (``thinking_always_on``) thinks adaptively at its own
default effort when the caller asks for no level; reasoning_effort "none" is a 400 there,
as the upstream refuses ``thinking.type "disabled"``.

Sampling. The live Messages API, with thinking on, takes temperature 1 only, top_p from
0.95 and no top_k (Anthropic's "Extended thinking" page); some models refuse temperature
and top_p together, newer ones take only the defaults (the model table). The reference's
default temperature of 0.7 applies when the caller sets none and the model can take it.
"""

from __future__ import annotations

from typing import Any

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.model_table import Effort, ModelSpec, SamplingParam
from drafter.rpc.errors import InvalidRequest

# Drafter's public reference: "temperature ... (default: 0.7)".
DEFAULT_TEMPERATURE = 0.7
# Anthropic's sampling ranges (the Messages API reference) and the parameters' defaults,
# which models that take no sampling changes still accept.
MAX_TEMPERATURE = 1.0
SAMPLING_DEFAULTS: dict[SamplingParam, float] = {"temperature": 1.0, "top_p": 1.0}
# While thinking, the upstream takes temperature 1 only and top_p from 0.95.
THINKING_TEMPERATURE = 1.0
THINKING_MIN_TOP_P = 0.95

LEVELS: dict[int, Effort] = {
    chat_pb.THINKING_LEVEL_MEDIUM: "medium",
    chat_pb.THINKING_LEVEL_HIGH: "high",
    chat_pb.THINKING_LEVEL_MAX: "max",
}
# Thinking tokens of each level on budget models (the reference's medium/high/max are
# about 2,000 / 8,000 / 32,000; 1,024 is the upstream's smallest budget).
THINKING_BUDGETS: dict[Effort, int] = {
    "low": 1_024,
    "medium": 2_000,
    "high": 8_000,
    "xhigh": 16_000,
    "max": 32_000,
}
# OpenAI's reasoning_effort values; "minimal" is the lowest level there is, "none" none.
REASONING_EFFORTS: dict[str, Effort | None] = {
    "none": None,
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "xhigh",
    "max": "max",
}


def effort_from_request(req: chat_pb.ChatRequest) -> tuple[Effort, str] | None:
    """The effort level the caller asked for and the parameter that asked, or None."""
    level = LEVELS.get(req.thinking)
    if not req.reasoning_effort:
        return (level, "thinking") if level else None
    if req.reasoning_effort not in REASONING_EFFORTS:
        names = ", ".join(REASONING_EFFORTS)
        raise InvalidRequest(
            f"reasoning_effort must be one of {names}; got '{req.reasoning_effort}'.",
            metadata=_param("reasoning_effort"),
        )
    asked = REASONING_EFFORTS[req.reasoning_effort]
    if level is not None and asked != level:
        raise InvalidRequest(
            f"'thinking' ({level}) and 'reasoning_effort' ({req.reasoning_effort}) ask for "
            "different efforts; set only one.",
            metadata=_param("reasoning_effort"),
        )
    return (asked, "reasoning_effort") if asked else None


def thinking_params(req: chat_pb.ChatRequest, model: ModelSpec) -> dict[str, Any]:
    """``thinking`` (and for adaptive models ``output_config.effort``) for what ``req``
    asks of ``model``; empty without thinking."""
    asked = effort_from_request(req)
    if model.thinking_always_on and req.reasoning_effort == "none":
        # The upstream refuses thinking.type "disabled" on these models (400), so "none"
        # cannot be honoured; leaving thinking to the model would silently drop it.
        raise InvalidRequest(
            f"The model `{model.id}` always thinks; reasoning_effort 'none' cannot turn "
            f"it off. Use {_or(model.efforts)} (the lowest thinks least).",
            metadata=_param("reasoning_effort"),
        )
    if asked is None:
        return {}
    effort, param = asked
    style = model.thinking_style
    if style is None:
        raise InvalidRequest(
            f"The model `{model.id}` does not support thinking.", metadata=_param(param)
        )
    if style == "budget":
        return {"thinking": {"type": "enabled", "budget_tokens": THINKING_BUDGETS[effort]}}
    if effort not in model.efforts:
        raise InvalidRequest(
            f"The model `{model.id}` thinks at effort {_or(model.efforts)}; "
            f"{param} '{req.reasoning_effort or effort}' is not one of them.",
            metadata=_param(param),
        )
    return {"thinking": {"type": "adaptive"}, "output_config": {"effort": effort}}


def max_tokens_for(req: chat_pb.ChatRequest, model: ModelSpec, answer_tokens: int) -> int:
    """``max_tokens`` upstream: the answer's tokens plus, with thinking, its budget; a
    total beyond the model's output limit is a 400 naming max_tokens."""
    asked = effort_from_request(req)
    budget = THINKING_BUDGETS[asked[0]] if asked and model.thinking_style else 0
    total = answer_tokens + budget
    limit = model.max_output_tokens
    if limit is not None and total > limit:
        thinking = f" plus {budget} thinking tokens ({asked[1]} '{asked[0]}')" if asked else ""
        raise InvalidRequest(
            f"max_tokens is too large: {answer_tokens}{thinking} > {limit}, the most output "
            f"tokens `{model.id}` can produce.",
            metadata=_param("max_tokens"),
        )
    return total


def sampling_params(
    req: chat_pb.ChatRequest, model: ModelSpec, *, thinking: bool
) -> dict[str, float | int]:
    """temperature, top_p and top_k as the upstream takes them for ``model``."""
    given: dict[SamplingParam, float | int] = {}
    if req.HasField("temperature"):
        given["temperature"] = req.temperature
    if req.HasField("top_p"):
        given["top_p"] = req.top_p
    if req.HasField("top_k"):
        given["top_k"] = req.top_k
    temperature = given.get("temperature")
    if temperature is not None and not 0 <= temperature <= MAX_TEMPERATURE:
        raise InvalidRequest(
            f"temperature must be between 0 and {MAX_TEMPERATURE:g} for Claude models; "
            f"got {temperature:g}.",
            metadata=_param("temperature"),
        )
    sent: dict[str, float | int] = {}
    for name, value in given.items():
        if model.accepts(name):
            sent[name] = value
        elif value != SAMPLING_DEFAULTS.get(name):
            takes = f"takes only {_or(model.sampling)}" if model.sampling else "takes no"
            raise InvalidRequest(
                f"The model `{model.id}` {takes} sampling changes; remove {name}.",
                metadata=_param(name),
            )
    if thinking:
        _check_thinking_sampling(sent)
    elif _default_temperature_applies(given, sent, model):
        sent["temperature"] = DEFAULT_TEMPERATURE
    if "temperature" in sent and "top_p" in sent and not model.temperature_with_top_p:
        raise InvalidRequest(
            f"The model `{model.id}` takes temperature or top_p, not both; set only one.",
            metadata=_param("top_p"),
        )
    return sent


def _default_temperature_applies(
    given: dict[SamplingParam, float | int], sent: dict[str, float | int], model: ModelSpec
) -> bool:
    """Without thinking, when the caller set no temperature and it can go with the rest."""
    if "temperature" in given or not model.accepts("temperature"):
        return False
    return "top_p" not in sent or model.temperature_with_top_p


def _check_thinking_sampling(sent: dict[str, float | int]) -> None:
    if sent.get("temperature", THINKING_TEMPERATURE) != THINKING_TEMPERATURE:
        raise InvalidRequest(
            "temperature can only be 1 while the model thinks; leave it out or turn thinking off.",
            metadata=_param("temperature"),
        )
    if sent.get("top_p", 1.0) < THINKING_MIN_TOP_P:
        raise InvalidRequest(
            f"top_p must be at least {THINKING_MIN_TOP_P} while the model thinks; leave it "
            "out or turn thinking off.",
            metadata=_param("top_p"),
        )
    if "top_k" in sent:
        raise InvalidRequest(
            "top_k cannot be set while the model thinks; leave it out or turn thinking off.",
            metadata=_param("top_k"),
        )


def _or(values: tuple[str, ...]) -> str:
    if len(values) < 2:
        return "".join(values)
    return ", ".join(values[:-1]) + " or " + values[-1]


def _param(name: str) -> dict[str, str]:
    return {"param": name}
