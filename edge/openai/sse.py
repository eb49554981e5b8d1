"""Server-sent events in OpenAI's streaming format; events stay typed until here."""

from __future__ import annotations

from typing import Any

import orjson

DONE = b"data: [DONE]\n\n"


def data_frame(obj: Any) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


class ChunkWriter:
    """Writes ``chat.completion.chunk`` frames of one completion; the first frame of each
    choice carries the assistant role, as OpenAI's do."""

    def __init__(self, completion_id: str, created: int, model: str) -> None:
        self._head = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": None,
        }
        self._started: set[int] = set()
        self._text_frames: dict[int, tuple[bytes, bytes]] = {}

    def _frame(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        return data_frame({**self._head, "choices": choices, **extra})

    def delta(self, index: int, delta: dict[str, Any]) -> bytes:
        if index not in self._started:
            self._started.add(index)
            delta = {"role": "assistant", **delta}
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": None}
        return self._frame([choice])

    def text(self, index: int, text: str) -> bytes:
        """``delta(index, {"content": text})``, the same bytes: most of a stream is answer
        text, so its frame is the encoded text between the choice's fixed two ends."""
        ends = self._text_frames.get(index)
        if ends is None:
            if index not in self._started:
                return self.delta(index, {"content": text})
            head = orjson.dumps(self._head)[:-1]
            ends = self._text_frames[index] = (
                b"data: " + head + b',"choices":[{"index":%d,"delta":{"content":' % index,
                b'},"logprobs":null,"finish_reason":null}]}\n\n',
            )
        return ends[0] + orjson.dumps(text) + ends[1]

    def finish(self, index: int, finish_reason: str | None) -> bytes:
        delta: dict[str, Any] = {}
        if index not in self._started:
            self._started.add(index)
            delta = {"role": "assistant", "content": ""}
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return self._frame([choice])

    def usage(self, usage: dict[str, Any]) -> bytes:
        return self._frame([], usage=usage)


def error_frame(body: dict[str, Any]) -> bytes:
    """An error after the first byte: the OpenAI SDK raises it as ``APIError``."""
    return data_frame(body)
