"""OpenAI's SSE frames (``edge/openai/sse.py``): chunks, usage and the error frame."""

from __future__ import annotations

import orjson

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
