"""OpenAI's SSE frames (``edge/openai/sse.py``): chunks, usage and the error frame."""

from __future__ import annotations

import orjson
import pytest

from drafter.edge.openai import sse


def test_chunk_writer_puts_role_on_first_delta_of_each_choice() -> None:
    writer = sse.ChunkWriter("chatcmpl-1", 5, "m")
    frames = [
        writer.delta(0, {"content": "a"}),
        writer.delta(0, {"content": "b"}),
        writer.finish(1, "stop"),
        writer.finish(0, "stop"),
    ]
    bodies = [orjson.loads(f.removeprefix(b"data: ")) for f in frames]
    assert all(f.endswith(b"\n\n") for f in frames)
    assert bodies[0]["choices"][0]["delta"] == {"role": "assistant", "content": "a"}
    assert bodies[1]["choices"][0]["delta"] == {"content": "b"}
    assert bodies[2]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert bodies[3]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert bodies[0]["object"] == "chat.completion.chunk" and bodies[0]["id"] == "chatcmpl-1"


def test_usage_chunk_and_error_frame() -> None:
    writer = sse.ChunkWriter("chatcmpl-1", 5, "m")
    usage = orjson.loads(writer.usage({"prompt_tokens": 1}).removeprefix(b"data: "))
    assert usage["choices"] == [] and usage["usage"] == {"prompt_tokens": 1}
    error = {"error": {"message": "boom", "type": "overloaded_error", "code": 503}}
    assert sse.error_frame(error) == b"data: " + orjson.dumps(error) + b"\n\n"


@pytest.mark.parametrize(
    "text", ["Hello", "", 'quotes " and \\ back', "line\nbreak\u2028 é 🙂", "\x00\x1f"]
)
def test_a_text_frame_is_the_same_bytes_as_its_delta_frame(text: str) -> None:
    fast = sse.ChunkWriter("chatcmpl-1", 1700000000, 'model "x" é')
    slow = sse.ChunkWriter("chatcmpl-1", 1700000000, 'model "x" é')
    for index in (0, 1, 0, 1):
        assert fast.text(index, text) == slow.delta(index, {"content": text})
