"""``drafter up`` calls its own services in process; ``DRAFTER_IN_PROCESS_CALLS=false``
sends the edge's calls through their gRPC ports. Either way the API answers the same.
Which path was taken shows in the connections to the accounts service's port (nothing
else in the process dials it: the status prober probes chat and images)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.stack import free_port, start_drafter_up

_ESTABLISHED = "01"
PACED = "one two three four five six seven eight"


def _connections_to(port: int) -> int:
    """Established TCP connections whose remote end is ``port`` (gRPC dials 127.0.0.1 on
    an IPv6 socket, as a v4-mapped address: both tables count)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            remote, state = line.split()[2:4]
            if state == _ESTABLISHED and int(remote.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


@pytest.mark.parametrize("in_process", [True, False])
def test_the_edge_reaches_the_services_either_way(
    tmp_path: Path, fake_anthropic: FakeAnthropic, in_process: bool
) -> None:
    ports = {name: free_port() for name in ("accounts", "chat", "images")}
    stack = start_drafter_up(
        tmp_path,
        anthropic_base_url=fake_anthropic.base_url,
        DRAFTER_IN_PROCESS_CALLS=str(in_process).lower(),
        **{f"DRAFTER_{name.upper()}_ADDR": f"127.0.0.1:{port}" for name, port in ports.items()},
    )
    try:
        key = stack.create_user_with_key("paths@example.com", "pro")
        client = openai.OpenAI(api_key=key, base_url=stack.api_url, max_retries=0)
        fake_anthropic.enqueue(text="whole")
        reply = client.chat.completions.create(
            model="claude-haiku-4-5", messages=[{"role": "user", "content": "hi"}]
        )
        fake_anthropic.enqueue(text="streamed")
        stream = client.chat.completions.create(
            model="claude-haiku-4-5", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        # Paced like a model: in process, its text is taken as it arrives from upstream
        # and written out at once; over gRPC it is read event by event. The same frames.
        fake_anthropic.enqueue(
            text="one two three four five six seven eight", chunks=8, delay_s=0.05
        )
        frames = _frames(stack.api_url, key)
        fake_anthropic.enqueue(text=PACED, chunks=8, delay_s=0.05)
        events = _response_events(stack.api_url, key)
        fake_anthropic.enqueue(text=PACED, chunks=8, delay_s=0.05)
        passed = _messages_events(stack.api_url, key)
        with pytest.raises(openai.NotFoundError):
            client.models.retrieve("no-such-model")
        over_grpc = _connections_to(ports["accounts"])
    finally:
        code = stack.stop()
    assert code == 0, stack.output()
    assert (reply.choices[0].message.content, streamed) == ("whole", "streamed")
    assert (over_grpc > 0) is not in_process
    _assert_paced_frames(frames, PACED, pieces=8)
    _assert_paced_response(events, PACED, pieces=8)
    _assert_paced_messages(passed, PACED, pieces=8)


def _frames(api_url: str, key: str) -> list[Any]:
    """The SSE frames of a streamed completion with its usage, each as JSON (``[DONE]``
    as the string)."""
    body = {
        "model": "claude-haiku-4-5",
        "messages": [{"role": "user", "content": "count"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.stream("POST", api_url + "/chat/completions", json=body, headers=headers) as r:
        assert r.status_code == 200
        lines = [line for line in r.iter_lines() if line.startswith("data: ")]
    return [line[6:] if line == "data: [DONE]" else json.loads(line[6:]) for line in lines]


def _assert_paced_frames(frames: list[Any], text: str, pieces: int) -> None:
    """OpenAI's chunks: the role, one chunk per upstream piece, the finish, the usage."""
    assert frames[-1] == "[DONE]"
    chunks = frames[:-1]
    assert {c["id"] for c in chunks} == {chunks[0]["id"]}
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    content = [c for c in chunks if c["choices"] and "content" in c["choices"][0]["delta"]]
    assert content[0]["choices"][0]["delta"]["role"] == "assistant"
    assert len(content) == pieces
    assert "".join(c["choices"][0]["delta"]["content"] for c in content) == text
    for chunk in content:
        assert chunk["choices"] == [
            {
                "index": 0,
                "delta": chunk["choices"][0]["delta"],
                "logprobs": None,
                "finish_reason": None,
            }
        ]
    finish, usage = chunks[-2:]
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == pieces


def _response_events(api_url: str, key: str) -> list[tuple[str, Any]]:
    """The SSE events of a streamed Responses call: (event type, its JSON)."""
    body = {"model": "claude-haiku-4-5", "input": "count", "stream": True}
    return _named_events(api_url + "/responses", body, {"Authorization": f"Bearer {key}"})


def _named_events(url: str, body: Any, headers: dict[str, str]) -> list[tuple[str, Any]]:
    """The named SSE events of a streamed answer: (event name, its JSON)."""
    events: list[tuple[str, Any]] = []
    with httpx.stream("POST", url, json=body, headers=headers) as r:
        assert r.status_code == 200
        kind = ""
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((kind, json.loads(line[6:])))
    return events


def _assert_paced_response(events: list[tuple[str, Any]], text: str, pieces: int) -> None:
    """The Responses events: each type named in its JSON too, numbered 0, 1, 2, … in
    order, one text delta per upstream piece, and the text and usage complete."""
    assert [kind for kind, _ in events] == [data["type"] for _, data in events]
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    deltas = [data["delta"] for kind, data in events if kind == "response.output_text.delta"]
    assert len(deltas) == pieces and "".join(deltas) == text
    kind, done = events[-1]
    assert kind == "response.completed"
    assert done["response"]["output"][0]["content"][0]["text"] == text
    assert done["response"]["usage"]["output_tokens"] == pieces


def _messages_events(api_url: str, key: str) -> list[tuple[str, Any]]:
    """The SSE events of a streamed Messages call, passed through: (event name, its JSON)."""
    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "count"}],
        "stream": True,
    }
    headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
    return _named_events(api_url + "/messages", body, headers)


def _assert_paced_messages(events: list[tuple[str, Any]], text: str, pieces: int) -> None:
    """Anthropic's events as the upstream sent them: each named as its JSON's type, from
    message_start to message_stop, one text delta per upstream piece."""
    assert [kind for kind, _ in events] == [data["type"] for _, data in events]
    assert events[0][0] == "message_start" and events[-1][0] == "message_stop"
    deltas = [data["delta"]["text"] for kind, data in events if kind == "content_block_delta"]
    assert len(deltas) == pieces and "".join(deltas) == text
    assert events[-2][1]["usage"]["output_tokens"] == pieces
