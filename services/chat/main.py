"""The chat service process: one AsyncAnthropic client, the servicer, the gRPC server."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, cast

import anthropic

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.limits import CHAT_MAX_MESSAGE_BYTES
from drafter.model_table import ModelTable, load_model_table
from drafter.reservations import load_reservation_key
from drafter.rpc.internal_auth import load_internal_auth
from drafter.rpc.server import Registration, RunningServer, serve_until_signal, start_server
from drafter.services.chat.reservation_check import ReservationCheck
from drafter.services.chat.servicer import ChatServicer
from drafter.services.chat.settings import ChatSettings
from drafter.services.chat.thinking_store import build_thinking_store
from drafter.services.chat.upstream.client import ANTHROPIC_VERSION, MessagesApi
from drafter.services.chat.upstream.key_pool import KeyPool
from drafter.services.chat.upstream.transport import UpstreamTransport

log = logging.getLogger("drafter.chat")

SERVICE_NAME = chat_pb.DESCRIPTOR.services_by_name["ChatService"].full_name


def open_telemetry_option(environ: Mapping[str, str]) -> bool | None:
    """The SDK's ``open_telemetry`` option: its default (spans to the registered tracer,
    as its ``ANTHROPIC_OPEN_TELEMETRY*`` variables say) once the operator has set up
    OpenTelemetry (any ``OTEL_*`` or those variables); otherwise off, since building
    spans nobody records costs CPU on every call."""
    configured = any(k.startswith(("OTEL_", "ANTHROPIC_OPEN_TELEMETRY")) for k in environ)
    return None if configured else False


def build_client(
    settings: ChatSettings, transport: UpstreamTransport | None = None
) -> anthropic.AsyncAnthropic:
    """The process's one upstream client: pooled connections, the deliberate retry count and
    timeout. Without any credential it still builds (sending none), so requests fail
    with the upstream's 401, reported as UPSTREAM_AUTH, instead of the process not starting."""
    options: dict[str, Any] = {
        "base_url": settings.anthropic_base_url,
        "max_retries": settings.upstream_max_retries,
        "timeout": anthropic.Timeout(
            settings.upstream_timeout_s, connect=settings.upstream_connect_timeout_s
        ),
        # httptools' parser on asyncio instead of httpx2's pure-Python h11 or the aiohttp
        # transport (upstream/transport.py); it raises httpx2's own errors, so the SDK's
        # retries and the error table behave the same.
        "http_client": anthropic.DefaultAsyncHttpxClient(
            transport=transport or UpstreamTransport()
        ),
        "open_telemetry": open_telemetry_option(os.environ),
    }
    version = {"anthropic-version": ANTHROPIC_VERSION}
    keys = settings.upstream_api_keys()
    if keys:
        # The first key is the client's own; MessagesApi sends each attempt's leased key.
        return anthropic.AsyncAnthropic(api_key=keys[0], default_headers=version, **options)
    # The SDK's own credential sources.
    client = anthropic.AsyncAnthropic(default_headers=version, **options)
    if client.api_key is None and client.auth_token is None and client.credentials is None:
        log.warning("ANTHROPIC_API_KEY is not set: chat requests will fail until it is")
        # An empty key would be an illegal "Bearer " header (a connection error, not a 401),
        # so the request goes out without credentials and the upstream answers 401.
        # (``omit`` as a header value is how the SDK drops a header; its hint says str only.)
        no_auth = cast(dict[str, str], {"Authorization": anthropic.omit, **version})
        client = anthropic.AsyncAnthropic(default_headers=no_auth, **options)
    return client


def upstream_key_pool(settings: ChatSettings, client: anthropic.AsyncAnthropic) -> KeyPool:
    """The configured keys as a pool (one key: a pool of one), else the SDK's own API key
    (its environment); logged by label and fingerprint only."""
    keys = settings.upstream_api_keys() or ([client.api_key] if client.api_key else [])
    pool = KeyPool(keys)
    if len(pool) > 1:
        named = ", ".join(f"{k.label} ({k.fingerprint})" for k in pool.keys)
        log.info("upstream key pool: %s", named)
    return pool


async def start(
    settings: ChatSettings, addr: str, *, models: ModelTable | None = None
) -> RunningServer:
    """Starts the chat service on ``addr`` (port 0 picks one); stop it with ``.stop()``."""
    auth = load_internal_auth(settings)
    transport = UpstreamTransport()
    client = build_client(settings, transport)
    thinking = build_thinking_store(
        settings.redis_url, ttl_s=settings.thinking_ttl_s, max_entries=settings.thinking_max_entries
    )
    reservations = ReservationCheck(
        load_reservation_key(settings.reservation_key, settings.data_dir),
        settings.reservation_deadline_s,
    )
    servicer = ChatServicer(
        MessagesApi(client, transport, upstream_key_pool(settings, client)),
        models or load_model_table(settings.models_file),
        thinking,
        reservations,
        prompt_cache=settings.prompt_cache,
    )
    try:
        running = await start_server(
            [Registration(chat_grpc.add_ChatServiceServicer_to_server, servicer, SERVICE_NAME)],
            addr,
            auth=auth,
            max_message_bytes=CHAT_MAX_MESSAGE_BYTES,
        )
    except BaseException:
        await client.close()
        await thinking.close()
        raise
    running.cleanups.extend((client.close, thinking.close))
    return running


async def serve(settings: ChatSettings, addr: str | None = None) -> None:
    """``drafter serve chat``: runs until SIGINT or SIGTERM."""
    running = await start(settings, addr or settings.chat_addr)
    await serve_until_signal(running)
