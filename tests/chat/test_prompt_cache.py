"""Prompt-cache breakpoints on the Messages API request: the caller's forwarded and
checked, Drafter's placed on the stable prefix and the last user turn (auto)."""

from __future__ import annotations

from typing import Any

import pytest

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.model_table import load_model_table
from drafter.rpc.errors import InvalidRequest
from drafter.services.chat.prompt_cache import PromptCacheMode
from drafter.services.chat.to_anthropic import message_params_from_request

MODELS = load_model_table()
HAIKU = MODELS.resolve("claude-haiku-4-5")  # caches prefixes from 4,096 tokens
SONNET = MODELS.resolve("claude-sonnet-4-5")  # from 1,024
EPHEMERAL = {"type": "ephemeral"}
LONG = "word " * 4_000  # 20,000 characters: about 5,000 tokens
SHORT = "Be brief."


def text(value: str, ttl: str | None = None) -> chat_pb.ContentPart:
    part = chat_pb.ContentPart(text=value)
    if ttl is not None:
        part.cache_control.CopyFrom(chat_pb.CacheControl(ttl=ttl))
    return part


def message(role: int, *parts: chat_pb.ContentPart) -> chat_pb.Message:
    return chat_pb.Message(role=role, content=list(parts))


def params(
    *messages: chat_pb.Message,
    tools: list[chat_pb.Tool] | None = None,
    mode: PromptCacheMode = "auto",
    model: Any = HAIKU,
) -> dict[str, Any]:
    request = chat_pb.ChatRequest(model=model.id, messages=list(messages), tools=tools or [])
    return message_params_from_request(request, model, prompt_cache=mode)


SYSTEM, USER, ASSISTANT = chat_pb.ROLE_SYSTEM, chat_pb.ROLE_USER, chat_pb.ROLE_ASSISTANT


def test_auto_marks_the_system_prompt_and_the_last_user_turn() -> None:
    sent = params(
        message(SYSTEM, text(LONG)),
        message(USER, text("first")),
        message(ASSISTANT, text("answer")),
        message(USER, text("second")),
    )
    assert sent["system"] == [{"type": "text", "text": LONG, "cache_control": EPHEMERAL}]
    assert sent["messages"][0]["content"] == [{"type": "text", "text": "first"}]
    assert sent["messages"][2]["content"] == [
        {"type": "text", "text": "second", "cache_control": EPHEMERAL}
    ]


def test_auto_places_nothing_below_the_models_minimum() -> None:
    sent = params(message(SYSTEM, text(SHORT)), message(USER, text("hello")))
    assert sent["system"] == SHORT
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hello"}]}]


def test_the_minimum_is_the_models() -> None:
    """About 1,500 tokens: under Haiku 4.5's 4,096, over Sonnet 4.5's 1,024."""
    medium = "word " * 1_200
    on_haiku = params(message(SYSTEM, text(medium)), message(USER, text("q")))
    on_sonnet = params(message(SYSTEM, text(medium)), message(USER, text("q")), model=SONNET)
    assert on_haiku["system"] == medium
    assert on_sonnet["system"][0]["cache_control"] == EPHEMERAL


def test_a_long_conversation_alone_gets_its_last_user_turn_marked() -> None:
    sent = params(
        message(USER, text(LONG)), message(ASSISTANT, text("ok")), message(USER, text("go"))
    )
    assert "system" not in sent
    assert sent["messages"][-1]["content"][-1]["cache_control"] == EPHEMERAL
    assert "cache_control" not in sent["messages"][0]["content"][0]


def test_without_a_system_prompt_the_last_tool_closes_the_stable_prefix() -> None:
    schema = '{"type": "object", "properties": {"doc": {"type": "string", "description": "%s"}}}'
    tools = [
        chat_pb.Tool(name="a", parameters_json='{"type": "object"}'),
        chat_pb.Tool(name="b", parameters_json=schema % LONG.strip()),
    ]
    sent = params(message(USER, text("hi")), tools=tools)
    assert "cache_control" not in sent["tools"][0]
    assert sent["tools"][1]["cache_control"] == EPHEMERAL


def test_off_places_none() -> None:
    sent = params(message(SYSTEM, text(LONG)), message(USER, text("q")), mode="off")
    assert sent["system"] == LONG
    assert "cache_control" not in sent["messages"][0]["content"][0]


def test_the_callers_breakpoints_are_forwarded_and_none_added() -> None:
    sent = params(
        message(SYSTEM, text("You are terse."), text(LONG, ttl="1h")),
        message(USER, text("q1", ttl="")),
        message(ASSISTANT, text("a1")),
        message(USER, text("q2")),
    )
    assert sent["system"] == [
        {"type": "text", "text": "You are terse."},
        {"type": "text", "text": LONG, "cache_control": {"type": "ephemeral", "ttl": "1h"}},
    ]
    assert sent["messages"][0]["content"] == [
        {"type": "text", "text": "q1", "cache_control": EPHEMERAL}
    ]
    assert sent["messages"][2]["content"] == [{"type": "text", "text": "q2"}]


def test_a_structured_system_prompt_stays_a_list_of_blocks() -> None:
    sent = params(message(SYSTEM, text("One."), text("Two.")), message(USER, text("q")))
    assert sent["system"] == [{"type": "text", "text": "One."}, {"type": "text", "text": "Two."}]


def test_more_than_four_breakpoints_are_a_400_naming_cache_control() -> None:
    turns = [message(USER, *(text(f"part {i}", ttl="5m") for i in range(5)))]
    with pytest.raises(InvalidRequest) as info:
        params(*turns)
    assert info.value.metadata == {"param": "cache_control"}
    assert "at most 4" in str(info.value) and "found 5" in str(info.value)


def test_a_one_hour_breakpoint_after_a_five_minute_one_is_a_400() -> None:
    with pytest.raises(InvalidRequest) as info:
        params(message(SYSTEM, text("a", ttl="5m")), message(USER, text("b", ttl="1h")))
    assert info.value.metadata == {"param": "cache_control"}
    assert "'1h' must come before" in str(info.value)


def test_tools_carry_their_breakpoint() -> None:
    tool = chat_pb.Tool(name="f", parameters_json='{"type": "object"}')
    tool.cache_control.CopyFrom(chat_pb.CacheControl(ttl="1h"))
    sent = params(message(USER, text("q")), tools=[tool])
    assert sent["tools"] == [
        {
            "name": "f",
            "input_schema": {"type": "object"},
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        }
    ]
