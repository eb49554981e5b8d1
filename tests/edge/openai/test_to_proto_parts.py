"""File parts, cache breakpoints and strict tools at the edge (``edge/openai/to_proto.py``
and the protocol models): what travels in the chat proto, and the 400s that name the
parameter."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.edge.errors import APIError, api_error_from_validation
from drafter.edge.openai.protocol import ChatCompletionRequest
from drafter.edge.openai.to_proto import chat_request_from_openai

PDF_URL = "data:application/pdf;base64,JVBERi0xLjcK"


def _proto(messages: list[Any], **fields: Any) -> chat_pb.ChatRequest:
    body = {"model": "claude-haiku-4-5", "messages": messages, **fields}
    return chat_request_from_openai(ChatCompletionRequest.model_validate(body))


def _400(messages: list[Any], **fields: Any) -> APIError:
    body = {"model": "claude-haiku-4-5", "messages": messages, **fields}
    try:
        chat_request_from_openai(ChatCompletionRequest.model_validate(body))
    except ValidationError as exc:
        return api_error_from_validation(list(exc.errors()))
    except APIError as exc:
        return exc
    raise AssertionError("no 400")


def test_a_file_part_travels_with_its_name_and_breakpoint() -> None:
    part = {
        "type": "file",
        "file": {"file_data": PDF_URL, "filename": "a.pdf"},
        "cache_control": {"type": "ephemeral", "ttl": "1h"},
    }
    proto = _proto([{"role": "user", "content": [{"type": "text", "text": "read"}, part]}])
    sent = proto.messages[0].content[1]
    assert sent.file == chat_pb.FilePart(file_data=PDF_URL, filename="a.pdf")
    assert sent.HasField("cache_control") and sent.cache_control.ttl == "1h"
    assert not proto.messages[0].content[0].HasField("cache_control")


def test_cache_control_on_text_image_and_system_parts() -> None:
    proto = _proto(
        [
            {
                "role": "system",
                "content": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral"}}],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "image_url",
                        "image_url": {"url": "https://example.com/a.png"},
                        "cache_control": {"type": "ephemeral"},
                    }
                ],
            },
        ]
    )
    assert proto.messages[0].content[0].HasField("cache_control")
    assert proto.messages[0].content[0].cache_control.ttl == ""
    assert proto.messages[1].content[0].HasField("cache_control")


def test_tools_carry_strict_and_their_breakpoint() -> None:
    tools = [
        {
            "type": "function",
            "function": {"name": "a", "parameters": {"type": "object"}, "strict": True},
            "cache_control": {"type": "ephemeral"},
        },
        {
            "type": "function",
            "function": {"name": "b", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
        },
        {"type": "function", "function": {"name": "c"}},
    ]
    proto = _proto([{"role": "user", "content": "hi"}], tools=tools)
    a, b, c = proto.tools
    assert (a.strict, b.strict, c.strict) == (True, False, False)
    assert a.HasField("cache_control") and a.cache_control.ttl == ""
    assert b.cache_control.ttl == "1h"
    assert not c.HasField("cache_control")


def test_a_file_id_is_a_400_naming_it() -> None:
    part = {"type": "file", "file": {"file_id": "file-abc"}}
    error = _400([{"role": "system", "content": "s"}, {"role": "user", "content": [part]}])
    assert error.status == 400
    assert error.param == "messages.1.content.0.file.file_id"
    assert "no Files API" in error.message and "file_data" in error.message


def test_a_file_without_data_is_a_400_naming_file_data() -> None:
    error = _400([{"role": "user", "content": [{"type": "file", "file": {"filename": "a"}}]}])
    assert error.param == "messages.0.content.0.file.file_data"


@pytest.mark.parametrize(
    ("cache_control", "where"),
    [
        (
            {"type": "persistent"},
            "messages.0.user.content.list[tagged-union[TextPart,ImagePart,FilePart]].0.text.cache_control.type",
        ),
        (
            {"type": "ephemeral", "ttl": "2h"},
            "messages.0.user.content.list[tagged-union[TextPart,ImagePart,FilePart]].0.text.cache_control.ttl",
        ),
    ],
)
def test_a_bad_cache_control_is_refused(cache_control: Any, where: str) -> None:
    part = {"type": "text", "text": "x", "cache_control": cache_control}
    body = {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": [part]}]}
    with pytest.raises(ValidationError) as info:
        ChatCompletionRequest.model_validate(body)
    assert where in [".".join(str(p) for p in e["loc"]) for e in info.value.errors()]


def test_prompt_cache_key_is_accepted_and_not_forwarded() -> None:
    proto = _proto([{"role": "user", "content": "hi"}], prompt_cache_key="tenant-1")
    assert "tenant-1" not in str(proto)
