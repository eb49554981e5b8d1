"""The pure parts of the Messages passthrough, table-driven: cutting the upstream's stream
into events, reading usage as it passes, the body's one rewrite and Drafter's limit, and
the Anthropic error shape taken from the one status table."""

from __future__ import annotations

import grpc
import orjson
import pytest

from drafter.common.v1 import errors_pb2 as errors_pb
from drafter.common.v1 import usage_pb2 as usage_pb
from drafter.edge.api.models import display_name
from drafter.edge.errors import anthropic_shaped, api_error_from_remote
from drafter.model_table import load_model_table
from drafter.rpc.errors import InvalidRequest, RemoteError
from drafter.services.chat.passthrough_body import upstream_body
from drafter.services.chat.passthrough_events import EventSplitter, UsageReader

START = (
    b'event: message_start\ndata: {"type":"message_start","message":{"usage":'
    b'{"input_tokens":10,"output_tokens":1,"cache_read_input_tokens":5,'
    b'"cache_creation_input_tokens":3}}}\n\n'
)
DELTA = b'event: content_block_delta\ndata: {"type":"content_block_delta"}\n\n'
END = (
    b'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":42,'
    b'"output_tokens_details":{"thinking_tokens":30}}}\n\n'
)
STOP = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
STREAM = START + DELTA + END + STOP


@pytest.mark.parametrize("size", [1, 7, 64, len(STREAM)])
def test_events_come_out_whole_and_unchanged_however_the_bytes_arrive(size: int) -> None:
    splitter = EventSplitter()
    events = [e for i in range(0, len(STREAM), size) for e in splitter.feed(STREAM[i : i + size])]

    assert events == [START, DELTA, END, STOP]
    assert splitter.rest() == b""


def test_crlf_events_are_cut_at_their_blank_line() -> None:
    crlf = b"event: ping\r\ndata: {}\r\n\r\nevent: x"
    splitter = EventSplitter()

    assert splitter.feed(crlf) == [b"event: ping\r\ndata: {}\r\n\r\n"]
    assert splitter.rest() == b"event: x"


def test_usage_is_read_from_the_events_as_they_pass() -> None:
    reader = UsageReader()
    names = [reader.read_event(event) for event in (START, DELTA, END, STOP)]

    assert names == [b"message_start", b"content_block_delta", b"message_delta", b"message_stop"]
    assert reader.stopped
    assert reader.usage == usage_pb.TokenUsage(
        input_tokens=10,
        output_tokens=42,
        reasoning_tokens=30,
        cache_read_input_tokens=5,
        cache_creation_input_tokens=3,
    )


def test_the_body_keeps_everything_but_the_model() -> None:
    haiku = load_model_table().resolve("claude-haiku-4-5")
    sent = {"model": "claude-haiku", "max_tokens": 10, "stream": True, "x_future": [1, {"a": None}]}

    body = upstream_body(orjson.dumps(sent), haiku)

    assert orjson.loads(body.content) == {**sent, "model": "claude-haiku-4-5-20251001"}
    assert body.stream
    with pytest.raises(InvalidRequest, match="max_tokens is too large: 64001 > 64000"):
        upstream_body(orjson.dumps({**sent, "max_tokens": 64_001}), haiku)
    with pytest.raises(InvalidRequest, match="not valid JSON"):
        upstream_body(b"{", haiku)


@pytest.mark.parametrize(
    ("code", "reason", "status", "anthropic_type"),
    [
        (grpc.StatusCode.UNAUTHENTICATED, errors_pb.ERROR_REASON_INVALID_CREDENTIAL, 401,
         "authentication_error"),
        (grpc.StatusCode.PERMISSION_DENIED, errors_pb.ERROR_REASON_MODEL_NOT_IN_PLAN, 403,
         "permission_error"),
        (grpc.StatusCode.NOT_FOUND, errors_pb.ERROR_REASON_MODEL_NOT_FOUND, 404,
         "not_found_error"),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, errors_pb.ERROR_REASON_QUOTA_EXCEEDED, 429,
         "rate_limit_error"),
        (grpc.StatusCode.INVALID_ARGUMENT, errors_pb.ERROR_REASON_PAYLOAD_TOO_LARGE, 413,
         "request_too_large"),
        (grpc.StatusCode.UNAVAILABLE, errors_pb.ERROR_REASON_UPSTREAM_UNAVAILABLE, 503,
         "overloaded_error"),
    ],
)  # fmt: skip
def test_the_anthropic_shape_comes_from_the_one_status_table(
    code: grpc.StatusCode, reason: int, status: int, anthropic_type: str
) -> None:
    error = api_error_from_remote(RemoteError(code, "words", reason, {}))

    assert error.status == status
    assert error.anthropic_body("req_1") == {
        "type": "error",
        "error": {"type": anthropic_type, "message": "words"},
        "request_id": "req_1",
    }


@pytest.mark.parametrize(
    ("path", "headers", "anthropic"),
    [
        ("/v1/messages", {}, True),
        ("/api/v1/messages/count_tokens", {}, True),
        ("/v1/chat/completions", {"x-api-key": "k"}, False),
        ("/v1/models", {"anthropic-version": "2023-06-01"}, True),
        ("/v1/models/claude-haiku-4-5", {}, False),
    ],
)
def test_which_paths_answer_in_anthropics_shape(
    path: str, headers: dict[str, str], anthropic: bool
) -> None:
    assert anthropic_shaped(path, headers) is anthropic


@pytest.mark.parametrize(
    ("model_id", "shown"),
    [
        ("claude-haiku-4-5", "Claude Haiku 4.5"),
        ("claude-opus-5", "Claude Opus 5"),
        ("nano-banano-pro", "nano-banano-pro"),
    ],
)
def test_display_names_read_as_anthropics(model_id: str, shown: str) -> None:
    assert display_name(model_id) == shown
