"""Client channels: one long-lived grpc.aio channel per peer, opened once per process."""

from __future__ import annotations

from grpc import aio

from drafter.rpc.internal_auth import InternalAuth
from drafter.rpc.server import DEFAULT_MAX_MESSAGE_BYTES


def open_channel(
    target: str, auth: InternalAuth, *, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
) -> aio.Channel:
    """A channel to ``target`` (``host:port``) that presents ``auth`` on every call (a
    client certificate under mutual TLS, else the internal token), with keepalive and
    message limits matching the servers'; reused for every call for the life of the
    process."""
    options = [
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.enable_retries", 1),
    ]
    interceptors = auth.client_interceptors() or None
    credentials = auth.channel_credentials()
    if credentials is None:
        return aio.insecure_channel(target, options=options, interceptors=interceptors)
    return aio.secure_channel(target, credentials, options=options, interceptors=interceptors)
