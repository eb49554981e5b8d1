"""The chat service process: the upstream's client (``upstream.client``), the servicer,
the gRPC server."""

from __future__ import annotations

import logging
import os

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
from drafter.services.chat.upstream.client import MessagesApi
from drafter.services.chat.upstream.config import (
    UpstreamConfig,
    custom_headers,
    sdk_credentials_configured,
)
from drafter.services.chat.upstream.transport import UpstreamTransport

log = logging.getLogger("drafter.chat")

SERVICE_NAME = chat_pb.DESCRIPTOR.services_by_name["ChatService"].full_name


def upstream_config(settings: ChatSettings) -> UpstreamConfig:
    """The upstream as the settings describe it: pooled keys (or a token), the deliberate
    retry count and timeouts."""
    return UpstreamConfig(
        base_url=settings.anthropic_base_url,
        api_keys=tuple(settings.upstream_api_keys()),
        auth_token=settings.upstream_auth_token(),
        timeout_s=settings.upstream_timeout_s,
        connect_timeout_s=settings.upstream_connect_timeout_s,
        max_retries=settings.upstream_max_retries,
        custom_headers=custom_headers(settings.anthropic_custom_headers),
    )


async def build_messages_api(settings: ChatSettings) -> MessagesApi:
    """The process's one upstream client, over our transport (httptools' parser on asyncio
    keep-alive connections: upstream/transport.py). An API key or a token is sent by our
    own client; only when there is neither and the anthropic SDK's own credential sources
    are configured (a profile, federation) is the SDK imported, for that credential.
    Without any credential it still builds (sending none), so requests fail with the
    upstream's 401, reported as UPSTREAM_AUTH, instead of the process not starting."""
    config = upstream_config(settings)
    transport = UpstreamTransport()
    if not config.api_keys and not config.auth_token:
        if sdk_credentials_configured(os.environ):
            from drafter.services.chat.upstream import sdk  # some 40 MB: only here

            requests = await sdk.sdk_requests(config, transport)
            if requests is not None:
                log.info("upstream credentials: the anthropic SDK's (%s)", requests.kind)
                return MessagesApi(config, transport, requests)
        log.warning("ANTHROPIC_API_KEY is not set: chat requests will fail until it is")
    messages = MessagesApi(config, transport)
    if len(messages.keys) > 1:
        named = ", ".join(f"{k.label} ({k.fingerprint})" for k in messages.keys.keys)
        log.info("upstream key pool: %s", named)
    return messages


async def start(
    settings: ChatSettings, addr: str, *, models: ModelTable | None = None
) -> RunningServer:
    """Starts the chat service on ``addr`` (port 0 picks one); stop it with ``.stop()``."""
    auth = load_internal_auth(settings)
    messages = await build_messages_api(settings)
    thinking = build_thinking_store(
        settings.redis_url, ttl_s=settings.thinking_ttl_s, max_entries=settings.thinking_max_entries
    )
    reservations = ReservationCheck(
        load_reservation_key(settings.reservation_key, settings.data_dir),
        settings.reservation_deadline_s,
    )
    servicer = ChatServicer(
        messages,
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
        await messages.aclose()
        await thinking.close()
        raise
    running.cleanups.extend((messages.aclose, thinking.close))
    return running


async def serve(settings: ChatSettings, addr: str | None = None) -> None:
    """``drafter serve chat``: runs until SIGINT or SIGTERM."""
    running = await start(settings, addr or settings.chat_addr)
    await serve_until_signal(running)
