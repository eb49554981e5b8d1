"""The pure parts: sealing reasoning content, and Responses items → the chat request."""

from __future__ import annotations

import json

import pytest

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.edge.errors import APIError
from drafter.edge.responses.sealing import Sealer
from drafter.rpc.errors import InvalidRequest
from drafter.services.chat.responses.request import translate

BLOCKS = [{"type": "thinking", "thinking": "hmm", "signature": "sig"}]


def test_sealed_content_opens_only_with_the_same_secret_and_unchanged() -> None:
    sealer = Sealer(b"a" * 48)
    token = sealer.seal(json.dumps(BLOCKS))

    assert "sig" not in token
    assert json.loads(sealer.open(token, "p")) == BLOCKS
    assert sealer.seal(json.dumps(BLOCKS)) != token  # a fresh nonce each time
    for bad in (token[:-2] + "xx", token[:20], "plain", token.replace("drs1.", "drs2.")):
        with pytest.raises(APIError) as info:
            sealer.open(bad, "input[3].encrypted_content")
        assert (info.value.status, info.value.param) == (400, "input[3].encrypted_content")
    with pytest.raises(APIError):
        Sealer(b"b" * 48).open(token, "p")


def test_reasoning_goes_in_front_of_the_turn_that_called_tools() -> None:
    body = {
        "input": [
            {"role": "user", "content": "q"},
            {"type": "reasoning", "id": "rs_1", "encrypted_content": json.dumps(BLOCKS)},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Let me look."}],
            },
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "r"},
        ]
    }

    translation = translate(body, "claude-haiku-4-5")

    roles = [m.role for m in translation.chat.messages]
    assert roles == [chat_pb.ROLE_USER, chat_pb.ROLE_ASSISTANT, chat_pb.ROLE_TOOL]
    assistant = translation.chat.messages[1]
    assert assistant.content[0].text == "Let me look."
    assert [c.id for c in assistant.tool_calls] == ["c1"]
    assert translation.kept_thinking == {"c1": BLOCKS}


def test_an_opened_reasoning_item_that_is_not_thinking_is_refused() -> None:
    body = {"input": [{"type": "reasoning", "encrypted_content": '[{"type": "text"}]'}]}
    with pytest.raises(InvalidRequest) as info:
        translate(body, "claude-haiku-4-5")
    assert info.value.metadata["param"] == "input[0]"
