"""The fake Anthropic server speaks the wire format the real SDK expects, and refuses what
the live API refuses, in its words (tests/fakes/anthropic_models.py cites the rules)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import anthropic
import httpx
import orjson
import pytest
from anthropic.types import MessageParam

from tests.fakes.anthropic_models import HAIKU_4_5, MODELS, OPUS_4_7, AnthropicModel
from tests.fakes.anthropic_server import (
    SAMPLING_VERSION,
    SDK_VERSION,
    FakeAnthropic,
    Reply,
    ToolUse,
)

ROOT = Path(__file__).resolve().parents[2]
HI: list[MessageParam] = [{"role": "user", "content": "hi there"}]
HAIKU = HAIKU_4_5.id
EFFORT_LEVELS = ("low", "medium", "high", "xhigh", "max")
FREE_SAMPLING = [m for m in MODELS if not m.sampling_defaults_only]
THINKING_MODELS = [m for m in MODELS if m.thinking_types & {"enabled", "adaptive"}]


def by_id(models: Sequence[AnthropicModel]) -> dict[str, Any]:
    return {"argvalues": models, "ids": [m.id for m in models]}


def thinking_on(model: AnthropicModel) -> dict[str, Any]:
    """A ``thinking`` the model accepts, switched on."""
    if "enabled" in model.thinking_types:
        return {"type": "enabled", "budget_tokens": 1024}
    return {"type": "adaptive"}


def request(model: str = HAIKU, **fields: Any) -> dict[str, Any]:
    return {"model": model, "max_tokens": 2048, "messages": HI, **fields}


@pytest.fixture
async def client(fake: FakeAnthropic) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = anthropic.AsyncAnthropic(
        base_url=fake.base_url,
        api_key="test",
        max_retries=0,
        default_headers={"anthropic-version": SAMPLING_VERSION},
    )
    yield client
    await client.close()


@pytest.fixture
async def http(fake: FakeAnthropic) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"x-api-key": "test", "anthropic-version": SAMPLING_VERSION}
    async with httpx.AsyncClient(base_url=fake.base_url, headers=headers) as http:
        yield http


async def post(http: httpx.AsyncClient, body: Any, **headers: str) -> httpx.Response:
    return await http.post("/v1/messages", json=body, headers=headers)


def refused(response: httpx.Response, message: str, status: int = 400) -> None:
    error_type = "not_found_error" if status == 404 else "invalid_request_error"
    assert (response.status_code, response.json()) == (
        status,
        {"type": "error", "error": {"type": error_type, "message": message}},
    )


async def accepted(http: httpx.AsyncClient, body: Any, **headers: str) -> dict[str, Any]:
    response = await post(http, body, **headers)
    assert response.status_code == 200, response.text
    return response.json()


# --- the wire format ----------------------------------------------------------------------


async def test_json_reply_has_every_block_and_usage(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(
        text="answer",
        thinking="thought",
        tool_uses=[ToolUse("f", {"x": 1}, id="toolu_9")],
        usage={"cache_creation_input_tokens": 4},
    )

    message = await client.messages.create(model=HAIKU, max_tokens=50, messages=HI)

    assert [b.type for b in message.content] == ["thinking", "text", "tool_use"]
    assert message.content[2].input == {"x": 1}  # type: ignore[union-attr]
    assert message.stop_reason == "tool_use"
    assert message.usage.cache_creation_input_tokens == 4
    assert fake.last_request.body["messages"] == HI
    assert fake.last_request.headers["authorization"] == "Bearer test"


async def test_default_reply_echoes_the_last_user_text_in_chunks(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    stream = await client.messages.create(model=HAIKU, max_tokens=50, messages=HI, stream=True)
    texts = [
        e.delta.text
        async for e in stream
        if e.type == "content_block_delta" and e.delta.type == "text_delta"
    ]  # type: ignore[union-attr]

    assert "".join(texts) == "Echo: hi there"
    assert len(texts) == fake.chunks
    assert fake.completed_streams == 1


async def test_malformed_request_is_a_400(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        await client.messages.create(model=HAIKU, max_tokens=50, messages=[])

    assert info.value.type == "invalid_request_error"
    assert info.value.api_message == "messages: at least one message is required"


async def test_scripted_error_status_and_headers(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(Reply(status=429, headers={"retry-after": "3"}, error_message="slow down"))

    with pytest.raises(anthropic.RateLimitError) as info:
        await client.messages.create(model=HAIKU, max_tokens=50, messages=HI)

    assert info.value.api_message == "slow down"
    assert info.value.response.headers["retry-after"] == "3"


async def test_a_scripted_failure_wins_over_validation_and_a_refusal_keeps_the_script(
    fake: FakeAnthropic, http: httpx.AsyncClient
) -> None:
    fake.enqueue(Reply(status=529), Reply(text="scripted"))

    overloaded = await post(http, request("claude-made-up"))
    invalid = await post(http, request("claude-made-up"))
    served = await accepted(http, request())

    assert overloaded.json()["error"]["type"] == "overloaded_error"
    refused(invalid, "model: claude-made-up", 404)
    assert served["content"] == [{"type": "text", "text": "scripted"}]
    assert len(fake.requests) == 3


def test_runs_as_its_own_process() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.anthropic_server", "--port", "0", "--chunks", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        client = anthropic.Anthropic(
            base_url=url,
            api_key="test",
            max_retries=0,
            default_headers={"anthropic-version": SAMPLING_VERSION},
        )
        message = client.messages.create(model=HAIKU, max_tokens=9, messages=HI)
        assert message.content[0].text == "Echo: hi there"  # type: ignore[union-attr]
        with pytest.raises(anthropic.NotFoundError):
            client.messages.create(model="claude-haiku-4-5-20250506", max_tokens=9, messages=HI)
        client.close()
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


async def test_as_a_benchmarks_upstream_it_counts_requests_in_flight_and_keeps_none() -> None:
    """As a process it keeps no request (nothing reads them) and collects its garbage
    only while nothing is in flight: what ``in_flight`` tells."""
    with FakeAnthropic(chunks=3, delay_s=0.05, keep_requests=False) as upstream:
        headers = {"x-api-key": "test", "anthropic-version": SAMPLING_VERSION}
        async with httpx.AsyncClient(base_url=upstream.base_url, headers=headers) as http:
            body = {**request(), "stream": True}
            async with http.stream("POST", "/v1/messages", json=body) as response:
                assert response.status_code == 200
                assert upstream.in_flight == 1
                text = b"".join([chunk async for chunk in response.aiter_bytes()])
            assert b"message_stop" in text
        assert upstream.in_flight == 0
        assert upstream.requests == []


# --- 1. anthropic-version -------------------------------------------------------------------


async def test_the_version_header_is_required(fake: FakeAnthropic) -> None:
    async with httpx.AsyncClient(base_url=fake.base_url, headers={"x-api-key": "k"}) as bare:
        response = await post(bare, request())

    refused(response, "anthropic-version: header is required")


async def test_an_unknown_version_is_refused(http: httpx.AsyncClient) -> None:
    response = await post(http, request(), **{"anthropic-version": "2024-01-01"})

    refused(response, "anthropic-version: unknown version '2024-01-01'")


@pytest.mark.parametrize("param, value", [("temperature", 0.5), ("top_p", 0.9), ("top_k", 5)])
async def test_the_sdk_version_refuses_sampling_parameters(
    http: httpx.AsyncClient, param: str, value: float
) -> None:
    body = {**request(), param: value}

    response = await post(http, body, **{"anthropic-version": SDK_VERSION})

    refused(
        response,
        f"`{param}` is not supported with anthropic-version {SDK_VERSION}; send "
        f"anthropic-version {SAMPLING_VERSION} to set sampling parameters.",
    )
    await accepted(http, body)  # 2023-06-01


async def test_the_sdk_default_version_serves_a_request_without_sampling(
    fake: FakeAnthropic,
) -> None:
    async with anthropic.AsyncAnthropic(
        base_url=fake.base_url, api_key="test", max_retries=0
    ) as client:
        message = await client.messages.create(model=HAIKU, max_tokens=50, messages=HI)
        with pytest.raises(anthropic.BadRequestError) as info:
            await client.messages.create(
                model=HAIKU, max_tokens=50, messages=HI, extra_body={"temperature": 0.5}
            )

    assert fake.requests[0].headers["anthropic-version"] == SDK_VERSION
    assert message.content[0].text == "Echo: hi there"  # type: ignore[union-attr]
    assert info.value.api_message == (
        f"`temperature` is not supported with anthropic-version {SDK_VERSION}; send "
        f"anthropic-version {SAMPLING_VERSION} to set sampling parameters."
    )


# --- 2. model ids; 9. the model echoed ---------------------------------------------------------


@pytest.mark.parametrize(
    "model", ["claude-haiku-4-5-20250506", "claude-sonnet-4-6-20260217", "claude-opus-4", "m"]
)
async def test_an_unknown_model_is_a_404(
    client: anthropic.AsyncAnthropic, http: httpx.AsyncClient, model: str
) -> None:
    refused(await post(http, request(model)), f"model: {model}", 404)
    with pytest.raises(anthropic.NotFoundError) as info:
        await client.messages.create(model=model, max_tokens=50, messages=HI)
    assert info.value.api_message == f"model: {model}"


@pytest.mark.parametrize(
    "requested, model",
    [(r, m) for m in MODELS for r in m.request_ids],
    ids=[r for m in MODELS for r in m.request_ids],
)
async def test_every_live_id_is_served_and_answered_with_the_echoed_id(
    http: httpx.AsyncClient, requested: str, model: AnthropicModel
) -> None:
    message = await accepted(http, request(requested))
    response = await post(http, request(requested, stream=True))

    assert message["model"] == model.id
    start = response.text.split("\n\n")[0].split("data: ", 1)[1]
    assert orjson.loads(start)["message"]["model"] == model.id


async def test_the_sdk_reads_the_echoed_id_for_an_alias(client: anthropic.AsyncAnthropic) -> None:
    message = await client.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=HI)

    assert message.model == HAIKU


async def test_a_test_can_extend_the_catalog() -> None:
    extra = dataclasses.replace(HAIKU_4_5, id="claude-test-1", aliases=(), max_output_tokens=10)
    with FakeAnthropic(models=[*MODELS, extra]) as fake:
        headers = {"x-api-key": "k", "anthropic-version": SAMPLING_VERSION}
        async with httpx.AsyncClient(base_url=fake.base_url, headers=headers) as http:
            served = await accepted(http, {**request("claude-test-1"), "max_tokens": 10})
            too_long = await post(http, {**request("claude-test-1"), "max_tokens": 11})

    assert served["model"] == "claude-test-1"
    refused(
        too_long,
        "max_tokens: 11 > 10, which is the maximum allowed number of output tokens for "
        "claude-test-1",
    )


# --- 3. max_tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize("model", **by_id(MODELS))
async def test_max_tokens_up_to_the_models_output_limit(
    http: httpx.AsyncClient, model: AnthropicModel
) -> None:
    limit = model.max_output_tokens
    await accepted(http, {**request(model.request_ids[-1]), "max_tokens": limit})

    response = await post(http, {**request(model.request_ids[-1]), "max_tokens": limit + 1})

    refused(
        response,
        f"max_tokens: {limit + 1} > {limit}, which is the maximum allowed number of output "
        f"tokens for {model.id}",
    )


@pytest.mark.parametrize(
    "value, message",
    [
        (None, "max_tokens: Field required"),
        (0, "max_tokens: Input should be greater than or equal to 1"),
        ("50", "max_tokens: Input should be a valid integer"),
        (50.5, "max_tokens: Input should be a valid integer"),
        (True, "max_tokens: Input should be a valid integer"),
    ],
)
async def test_max_tokens_is_a_required_positive_integer(
    http: httpx.AsyncClient, value: Any, message: str
) -> None:
    body = request()
    if value is None:
        del body["max_tokens"]
    else:
        body["max_tokens"] = value

    refused(await post(http, body), message)


# --- 4. sampling ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"temperature": 1.5}, "temperature: range: 0..1"),
        ({"temperature": -0.1}, "temperature: range: 0..1"),
        ({"temperature": "hot"}, "temperature: Input should be a valid number"),
        ({"temperature": None}, "temperature: Input should be a valid number"),
        ({"top_p": 1.01}, "top_p: range: 0..1"),
        ({"top_k": -1}, "top_k: Input should be greater than or equal to 0"),
        ({"top_k": 2.5}, "top_k: Input should be a valid integer"),
    ],
)
async def test_sampling_parameters_in_range(
    http: httpx.AsyncClient, fields: dict[str, Any], message: str
) -> None:
    refused(await post(http, request(**fields)), message)


@pytest.mark.parametrize("model", **by_id(FREE_SAMPLING))
async def test_temperature_and_top_p_are_one_or_the_other(
    http: httpx.AsyncClient, model: AnthropicModel
) -> None:
    for fields in (
        {"temperature": 0},
        {"top_p": 0.5},
        {"top_k": 0},
        {"temperature": 1, "top_k": 5},
    ):
        await accepted(http, request(model.id, **fields))

    response = await post(http, request(model.id, temperature=0.5, top_p=0.9))

    refused(
        response,
        "`temperature` and `top_p` cannot both be specified for this model. Please use only one.",
    )


@pytest.mark.parametrize(
    "fields, param",
    [({"temperature": 0.5}, "temperature"), ({"top_p": 0.9}, "top_p"), ({"top_k": 5}, "top_k")],
)
async def test_opus_4_7_takes_only_the_default_sampling(
    http: httpx.AsyncClient, fields: dict[str, Any], param: str
) -> None:
    await accepted(http, request(OPUS_4_7.id, temperature=1, top_p=1))

    response = await post(http, request(OPUS_4_7.id, **fields))

    refused(response, f"`{param}` is deprecated for this model.")


async def test_a_sampling_refusal_is_a_bad_request_error(client: anthropic.AsyncAnthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        await client.messages.create(
            model=OPUS_4_7.id, max_tokens=50, messages=HI, extra_body={"temperature": 0.2}
        )

    assert info.value.status_code == 400
    assert info.value.type == "invalid_request_error"
    assert info.value.api_message == "`temperature` is deprecated for this model."


# --- 5. thinking ----------------------------------------------------------------------------


@pytest.mark.parametrize("model", **by_id(MODELS))
@pytest.mark.parametrize("kind", ["enabled", "disabled", "adaptive"])
async def test_each_model_takes_its_thinking_types(
    http: httpx.AsyncClient, model: AnthropicModel, kind: str
) -> None:
    thinking: dict[str, Any] = {"type": kind}
    if kind == "enabled":
        thinking["budget_tokens"] = 1024

    response = await post(http, request(model.id, thinking=thinking))

    if kind in model.thinking_types:
        assert response.status_code == 200, response.text
    elif kind == "adaptive":
        refused(response, "adaptive thinking is not supported on this model")
    else:
        refused(
            response,
            f'"thinking.type.{kind}" is not supported for this model. Use '
            '"thinking.type.adaptive" and "output_config.effort" to control thinking behavior.',
        )


@pytest.mark.parametrize(
    "thinking, max_tokens, message",
    [
        (
            {"type": "enabled", "budget_tokens": 1023},
            4096,
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
        ),
        ({"type": "enabled"}, 4096, "thinking.enabled.budget_tokens: Field required"),
        (
            {"type": "enabled", "budget_tokens": "2048"},
            4096,
            "thinking.enabled.budget_tokens: Input should be a valid integer",
        ),
        (
            {"type": "enabled", "budget_tokens": 2048},
            2048,
            "`max_tokens` must be greater than `thinking.budget_tokens`.",
        ),
        (
            {"type": "on"},
            4096,
            "thinking: Input tag 'on' found using 'type' does not match any of the expected "
            "tags: 'enabled', 'disabled', 'adaptive'",
        ),
    ],
)
async def test_a_thinking_budget_is_at_least_1024_and_below_max_tokens(
    http: httpx.AsyncClient, thinking: dict[str, Any], max_tokens: int, message: str
) -> None:
    body = request(thinking=thinking, max_tokens=max_tokens)

    refused(await post(http, body), message)


THINKING_REFUSALS: list[tuple[dict[str, Any], str]] = [
    ({"temperature": 0.7}, "`temperature` may only be set to 1 when thinking is enabled."),
    (
        {"top_p": 0.9},
        "`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled.",
    ),
    ({"top_k": 5}, "`top_k` must be unset when thinking is enabled."),
    (
        {"tool_choice": {"type": "any"}},
        "Thinking may not be enabled when tool_choice forces tool use.",
    ),
    (
        {"tool_choice": {"type": "tool", "name": "f"}},
        "Thinking may not be enabled when tool_choice forces tool use.",
    ),
]


@pytest.mark.parametrize(
    "model, fields, message",
    [
        (model, fields, message)
        for model in THINKING_MODELS
        for fields, message in THINKING_REFUSALS
        # Opus 4.7 refuses non-default sampling with or without thinking (rule 4).
        if not (model.sampling_defaults_only and "tool_choice" not in fields)
        # Opus 5.5 always thinks and refuses forced tool use outright (the next test).
        and model.forced_tool_use
    ],
    ids=lambda v: v.id if isinstance(v, AnthropicModel) else None,
)
async def test_thinking_limits_sampling_and_tool_choice(
    http: httpx.AsyncClient, model: AnthropicModel, fields: dict[str, Any], message: str
) -> None:
    thinking, tools = thinking_on(model), [{"name": "f", "input_schema": {"type": "object"}}]
    await accepted(http, request(model.id, tools=tools, **fields))  # without thinking
    top_p = 1 if model.sampling_defaults_only else 0.95
    for allowed in ({"temperature": 1}, {"top_p": top_p}, {"tool_choice": {"type": "auto"}}):
        await accepted(http, request(model.id, tools=tools, thinking=thinking, **allowed))

    response = await post(http, request(model.id, tools=tools, thinking=thinking, **fields))

    refused(response, message)


@pytest.mark.parametrize("model", **by_id([m for m in MODELS if not m.forced_tool_use]))
async def test_forced_tool_use_is_refused_outright_where_thinking_is_always_on(
    http: httpx.AsyncClient, model: AnthropicModel
) -> None:
    tools = [{"name": "f", "input_schema": {"type": "object"}}]
    await accepted(http, request(model.id, tools=tools, tool_choice={"type": "auto"}))
    for choice in ({"type": "any"}, {"type": "tool", "name": "f"}):
        response = await post(http, request(model.id, tools=tools, tool_choice=choice))
        refused(response, 'tool_choice: type "tool" and "any" are not supported for this model.')
    for off in ({"type": "disabled"}, {"type": "enabled", "budget_tokens": 1024}):
        response = await post(http, request(model.id, thinking=off))
        assert response.status_code == 400


# --- 6. output_config ------------------------------------------------------------------------


@pytest.mark.parametrize("model", **by_id(MODELS))
@pytest.mark.parametrize("level", EFFORT_LEVELS)
async def test_each_model_takes_its_effort_levels(
    http: httpx.AsyncClient, model: AnthropicModel, level: str
) -> None:
    response = await post(http, request(model.id, output_config={"effort": level}))

    if level in model.effort_levels:
        assert response.status_code == 200, response.text
    elif not model.effort_levels:
        refused(response, "This model does not support the effort parameter.")
    else:
        levels = [f"'{v}'" for v in model.effort_levels]
        expected = f"{', '.join(levels[:-1])} or {levels[-1]}"
        refused(response, f"output_config.effort: Input should be {expected}")


@pytest.mark.parametrize("model", **by_id(MODELS))
async def test_structured_outputs_and_unknown_output_config_keys(
    http: httpx.AsyncClient, model: AnthropicModel
) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    fmt = {"type": "json_schema", "schema": schema}
    await accepted(http, request(model.id, output_config={"format": fmt}))

    unknown = await post(http, request(model.id, output_config={"format": fmt, "verbosity": 1}))
    wrong_type = await post(http, request(model.id, output_config={"format": {"type": "json"}}))

    refused(unknown, "output_config.verbosity: Extra inputs are not permitted")
    refused(wrong_type, "output_config.format.type: Input should be 'json_schema'")


async def test_structured_outputs_on_a_model_without_them() -> None:
    plain = dataclasses.replace(HAIKU_4_5, id="claude-plain", aliases=(), structured_outputs=False)
    with FakeAnthropic(models=[plain]) as fake:
        headers = {"x-api-key": "k", "anthropic-version": SAMPLING_VERSION}
        async with httpx.AsyncClient(base_url=fake.base_url, headers=headers) as http:
            fmt = {"type": "json_schema", "schema": {"type": "object"}}
            response = await post(http, request("claude-plain", output_config={"format": fmt}))
            served_elsewhere = await post(http, request(HAIKU))

    refused(response, "output_config.format: structured outputs are not supported for this model")
    refused(served_elsewhere, f"model: {HAIKU}", 404)


# --- 7. content ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, message",
    [
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]},
            "messages: text content blocks must be non-empty",
        ),
        (
            {"messages": [{"role": "user", "content": " \n\t"}]},
            "messages: text content blocks must contain non-whitespace text",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "  "}]}]},
            "messages: text content blocks must contain non-whitespace text",
        ),
        (
            {"system": [{"type": "text", "text": ""}]},
            "messages: text content blocks must be non-empty",
        ),
        (
            {"system": [{"type": "text", "text": "\n"}]},
            "messages: text content blocks must contain non-whitespace text",
        ),
        (
            {"messages": [*HI, {"role": "assistant", "content": ""}, *HI]},
            "messages.1: all messages must have non-empty content except for the optional "
            "final assistant message",
        ),
        (
            {"messages": [{"role": "user", "content": []}]},
            "messages.0: all messages must have non-empty content except for the optional "
            "final assistant message",
        ),
        (
            {"messages": [*HI, {"role": "assistant", "content": "Sure, "}]},
            "messages: final assistant content cannot end with trailing whitespace",
        ),
        (
            {"messages": [{"role": "system", "content": "hi"}]},
            "messages: roles must be 'user' or 'assistant'",
        ),
    ],
)
async def test_content_must_be_non_empty(
    http: httpx.AsyncClient, fields: dict[str, Any], message: str
) -> None:
    refused(await post(http, request(**fields)), message)


@pytest.mark.parametrize("model", **by_id(MODELS))
@pytest.mark.parametrize("final", ["", [], "Sure", [{"type": "text", "text": "Sure"}]])
async def test_only_older_models_take_a_final_assistant_message(
    http: httpx.AsyncClient, model: AnthropicModel, final: Any
) -> None:
    messages = [*HI, {"role": "assistant", "content": final}]

    response = await post(http, request(model.id, messages=messages))

    if model.assistant_prefill:
        assert response.status_code == 200, response.text
    else:
        refused(
            response,
            "This model does not support assistant message prefill. "
            "The conversation must end with a user message.",
        )


# --- 8. stop_sequences -------------------------------------------------------------------------


@pytest.mark.parametrize("stop", ["", " ", "\n\t"])
async def test_stop_sequences_need_non_whitespace(http: httpx.AsyncClient, stop: str) -> None:
    await accepted(http, request(stop_sequences=["\n\nHuman:", "END"]))

    response = await post(http, request(stop_sequences=["END", stop]))

    refused(response, "stop_sequences: each stop sequence must contain non-whitespace characters")


MID_CONVERSATION_SYSTEM = [
    {"role": "user", "content": "hi there"},
    {
        "role": "system",
        "content": [{"type": "text", "text": "Answer in French from now on."}],
        "clear_at": "never",
        "output_config": {"effort": "low"},
    },
]


async def test_a_system_message_after_a_user_turn_is_taken_by_the_models_that_take_it(
    fake: FakeAnthropic, http: httpx.AsyncClient
) -> None:
    for model in ("claude-opus-5-5", "claude-sonnet-5"):
        await accepted(http, request(model, messages=MID_CONVERSATION_SYSTEM))
    # recorded as sent
    assert fake.last_request.body["messages"][1]["role"] == "system"


async def test_a_system_message_is_refused_elsewhere_or_out_of_place(
    http: httpx.AsyncClient,
) -> None:
    refused(
        await post(http, request(HAIKU, messages=MID_CONVERSATION_SYSTEM)),
        "messages: roles must be 'user' or 'assistant'",
    )
    first = [MID_CONVERSATION_SYSTEM[1], {"role": "user", "content": "hi"}]
    refused(
        await post(http, request("claude-opus-5-5", messages=first)),
        "messages.0: a system message must come right after a user message",
    )
    bad_clear = [MID_CONVERSATION_SYSTEM[0], {**MID_CONVERSATION_SYSTEM[1], "clear_at": "soon"}]
    refused(
        await post(http, request("claude-opus-5-5", messages=bad_clear)),
        "messages.1.clear_at: Input should be 'next_user_message' or 'never'",
    )
