"""Client channels: one long-lived grpc.aio channel per peer, opened once per process."""

from __future__ import annotations

from grpc import aio

from drafter.rpc.server import DEFAULT_MAX_MESSAGE_BYTES


def open_channel(target: str, *, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> aio.Channel:
    """An insecure channel to ``target`` (``host:port``) with keepalive and message limits
    matching the servers'; reused for every call for the life of the process."""
    return aio.insecure_channel(
        target,
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.keepalive_timeout_ms", 10_000),
            ("grpc.http2.max_pings_without_data", 0),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.enable_retries", 1),
        ],
    )
