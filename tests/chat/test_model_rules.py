"""Thinking, effort, sampling and max_tokens per model (services/chat/model_rules.py):
what each model of the table is sent, and the precise 400 for what it cannot honour."""

from __future__ import annotations

from typing import Any

import pytest

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.model_table import ModelSpec, load_model_table
from drafter.rpc.errors import InvalidRequest
from drafter.services.chat.model_rules import DEFAULT_TEMPERATURE
from drafter.services.chat.to_anthropic import message_params_from_request

MODELS = load_model_table()
HAIKU = MODELS.resolve("claude-haiku-4-5")
SONNET_45 = MODELS.resolve("claude-sonnet-4-5")
OPUS_45 = MODELS.resolve("claude-opus-4-5")
SONNET_46 = MODELS.resolve("claude-sonnet-4-6")
OPUS_46 = MODELS.resolve("claude-opus-4-6")
CHAT_MODELS = [m for m in MODELS if m.kind == "chat"]
# A newer family as an operator would add it (DRAFTER_MODELS_FILE): adaptive thinking
# only, xhigh effort, no sampling changes.
OPUS_47 = ModelSpec(
    id="claude-opus-4-7",
    kind="chat",
    owned_by="anthropic",
    created="2026-04-16",
    upstream="claude-opus-4-7",
    context_window=1_000_000,
    max_output_tokens=128_000,
    thinking=("adaptive",),
    efforts=("low", "medium", "high", "xhigh", "max"),
    structured_outputs=True,
)
MEDIUM, HIGH, MAX = (
    chat_pb.THINKING_LEVEL_MEDIUM,
    chat_pb.THINKING_LEVEL_HIGH,
    chat_pb.THINKING_LEVEL_MAX,
)
# The models that take sampling changes (the others take only the defaults).
SAMPLING_MODELS = [m for m in CHAT_MODELS if m.sampling]


def req(**fields: Any) -> chat_pb.ChatRequest:
    user = chat_pb.Message(role=chat_pb.ROLE_USER, content=[chat_pb.ContentPart(text="hi")])
    return chat_pb.ChatRequest(model="x", messages=[user], **fields)


def sent(request: chat_pb.ChatRequest, model: ModelSpec) -> dict[str, Any]:
    return message_params_from_request(request, model)


def refused(request: chat_pb.ChatRequest, model: ModelSpec) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        message_params_from_request(request, model)
    return info.value


@pytest.mark.parametrize("model", CHAT_MODELS, ids=lambda m: m.id)
def test_every_model_is_sent_as_its_upstream_id_with_the_default_temperature(
    model: ModelSpec,
) -> None:
    params = sent(req(), model)

    assert params["model"] == model.upstream
    assert params.get("temperature") == (
        DEFAULT_TEMPERATURE if model.accepts("temperature") else None
    )
    assert "thinking" not in params and "output_config" not in params


@pytest.mark.parametrize(
    ("model", "level", "expected"),
    [
        (HAIKU, MEDIUM, {"thinking": {"type": "enabled", "budget_tokens": 2_000}}),
        (SONNET_45, HIGH, {"thinking": {"type": "enabled", "budget_tokens": 8_000}}),
        (OPUS_45, MAX, {"thinking": {"type": "enabled", "budget_tokens": 32_000}}),
        (
            SONNET_46,
            MEDIUM,
            {"thinking": {"type": "adaptive"}, "output_config": {"effort": "medium"}},
        ),
        (OPUS_46, MAX, {"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}}),
        (OPUS_47, HIGH, {"thinking": {"type": "adaptive"}, "output_config": {"effort": "high"}}),
    ],
    ids=lambda v: getattr(v, "id", str(v)),
)
def test_thinking_levels_become_what_each_model_takes(
    model: ModelSpec, level: int, expected: dict[str, Any]
) -> None:
    params = sent(req(thinking=level, max_tokens=100), model)

    assert {k: params.get(k) for k in ("thinking", "output_config")} == {
        "thinking": expected["thinking"],
        "output_config": expected.get("output_config"),
    }
    budget = {MEDIUM: 2_000, HIGH: 8_000, MAX: 32_000}[level]
    assert params["max_tokens"] == 100 + budget  # the answer keeps its room
    assert "temperature" not in params  # no default temperature while thinking


@pytest.mark.parametrize(
    ("model", "effort", "expected"),
    [
        (HAIKU, "low", {"thinking": {"type": "enabled", "budget_tokens": 1_024}}),
        (HAIKU, "minimal", {"thinking": {"type": "enabled", "budget_tokens": 1_024}}),
        (SONNET_45, "high", {"thinking": {"type": "enabled", "budget_tokens": 8_000}}),
        (OPUS_45, "xhigh", {"thinking": {"type": "enabled", "budget_tokens": 16_000}}),
        (OPUS_46, "low", {"thinking": {"type": "adaptive"}, "output_config": {"effort": "low"}}),
        (
            OPUS_47,
            "xhigh",
            {"thinking": {"type": "adaptive"}, "output_config": {"effort": "xhigh"}},
        ),
        (SONNET_46, "none", {}),
    ],
    ids=lambda v: getattr(v, "id", str(v)),
)
def test_reasoning_effort_becomes_what_each_model_takes(
    model: ModelSpec, effort: str, expected: dict[str, Any]
) -> None:
    params = sent(req(reasoning_effort=effort), model)

    assert {k: params[k] for k in ("thinking", "output_config") if k in params} == expected


@pytest.mark.parametrize(
    ("request_", "model", "param", "words"),
    [
        (req(reasoning_effort="xhigh"), OPUS_46, "reasoning_effort", "low, medium, high or max"),
        (req(thinking=MAX), OPUS_47.model_copy(update={"efforts": ("low",)}), "thinking", "max"),
        (req(thinking=HIGH, reasoning_effort="low"), HAIKU, "reasoning_effort", "different"),
        (req(thinking=HIGH, reasoning_effort="none"), OPUS_46, "reasoning_effort", "different"),
        (req(reasoning_effort="sometimes"), HAIKU, "reasoning_effort", "one of"),
        (req(max_tokens=64_001), HAIKU, "max_tokens", "64000"),
        (req(max_tokens=63_000, thinking=MEDIUM), SONNET_45, "max_tokens", "thinking"),
        (req(max_tokens=100_000, thinking=MAX), OPUS_46, "max_tokens", "128000"),
    ],
    ids=[
        "effort-the-model-lacks",
        "thinking-level-the-model-lacks",
        "thinking-and-effort-disagree",
        "thinking-and-effort-none",
        "unknown-effort",
        "max-tokens-over-the-limit",
        "max-tokens-plus-budget-over-the-limit",
        "adaptive-max-tokens-plus-budget",
    ],
)
def test_what_a_model_cannot_honour_is_a_400_naming_the_parameter(
    request_: chat_pb.ChatRequest, model: ModelSpec, param: str, words: str
) -> None:
    error = refused(request_, model)

    assert error.metadata["param"] == param
    assert words in error.message


def test_agreeing_thinking_and_reasoning_effort_are_one_request() -> None:
    both = sent(req(thinking=HIGH, reasoning_effort="high"), OPUS_46)

    assert both == sent(req(thinking=HIGH), OPUS_46)


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (req(temperature=0.0), {"temperature": 0.0}),
        (req(temperature=1.0), {"temperature": 1.0}),
        (req(top_p=0.5), {"top_p": 0.5}),
        (req(top_k=5), {"top_k": 5, "temperature": DEFAULT_TEMPERATURE}),
        (req(temperature=0.3, top_k=5), {"temperature": 0.3, "top_k": 5}),
    ],
    ids=["t0", "t1", "top-p-alone", "top-k-with-default", "temperature-and-top-k"],
)
@pytest.mark.parametrize("model", SAMPLING_MODELS, ids=lambda m: m.id)
def test_sampling_reaches_the_upstream_where_the_model_takes_it(
    model: ModelSpec, request_: chat_pb.ChatRequest, expected: dict[str, Any]
) -> None:
    params = sent(request_, model)

    assert {k: params[k] for k in ("temperature", "top_p", "top_k") if k in params} == expected


@pytest.mark.parametrize(
    ("request_", "model", "param"),
    [
        (req(temperature=0.5, top_p=0.9), HAIKU, "top_p"),
        (req(temperature=0.5, top_p=0.9), OPUS_46, "top_p"),
        (req(temperature=1.5), SONNET_46, "temperature"),
        (req(temperature=0.5, thinking=MEDIUM), HAIKU, "temperature"),
        (req(top_p=0.5, thinking=MEDIUM), OPUS_46, "top_p"),
        (req(top_k=10, thinking=HIGH), SONNET_45, "top_k"),
        (req(temperature=0.2), OPUS_47, "temperature"),
        (req(top_k=3), OPUS_47, "top_k"),
    ],
    ids=[
        "haiku-temperature-with-top-p",
        "opus-4-6-temperature-with-top-p",
        "temperature-above-1",
        "temperature-while-thinking",
        "low-top-p-while-thinking",
        "top-k-while-thinking",
        "opus-4-7-temperature",
        "opus-4-7-top-k",
    ],
)
def test_sampling_the_model_refuses_is_a_400_naming_the_parameter(
    request_: chat_pb.ChatRequest, model: ModelSpec, param: str
) -> None:
    assert refused(request_, model).metadata["param"] == param


def test_a_model_that_takes_only_the_defaults_gets_no_default_temperature() -> None:
    params = sent(req(temperature=1.0, top_p=1.0), OPUS_47)

    assert "temperature" not in params and "top_p" not in params


def test_a_model_that_combines_temperature_and_top_p_gets_both() -> None:
    combining = HAIKU.model_copy(update={"temperature_with_top_p": True})

    params = sent(req(top_p=0.8), combining)

    assert (params["temperature"], params["top_p"]) == (DEFAULT_TEMPERATURE, 0.8)
