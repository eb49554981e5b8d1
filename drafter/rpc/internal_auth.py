"""Internal authentication: who may call a Drafter gRPC service.

Every call must carry the shared internal token (``DRAFTER_INTERNAL_TOKEN``, or the one
generated into the data directory on first start), checked in constant time by one server
interceptor (:class:`TokenInterceptor`) and sent by one client interceptor, which
``open_channel`` installs on every channel. With mutual TLS configured
(``DRAFTER_GRPC_TLS_CERT``, ``_KEY`` and ``_CA``) the servers require a client certificate
signed by the CA instead, and the token is unused. The standard health service
(grpc.health.v1.Health) stays open to everyone: container health checks and the status
prober call it. In-process calls (``drafter.rpc.local``) cross no network and carry none.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import grpc
from grpc import aio

from drafter.config import CommonSettings, ConfigError, stored_secret, weak_secret_problem

TOKEN_METADATA_KEY = "x-drafter-internal-token"
TOKEN_FILE = "internal_token"
HEALTH_METHOD_PREFIX = "/grpc.health.v1.Health/"
REFUSED = "this call lacks Drafter's internal credentials"


@dataclass(frozen=True)
class MutualTls:
    """PEM bytes: this process's certificate chain and key (as server and as client) and
    the CA that signs every peer's."""

    certificate_chain: bytes
    private_key: bytes = field(repr=False)
    root_certificates: bytes


@dataclass(frozen=True)
class InternalAuth:
    """How this process's gRPC servers check callers and its channels present themselves:
    mutual TLS when ``tls`` is set, otherwise the shared ``token``."""

    token: str | None = field(default=None, repr=False)
    tls: MutualTls | None = None
    reflection: bool = False

    def __post_init__(self) -> None:
        if self.tls is None and not self.token:
            raise ValueError("internal auth needs a token or mutual TLS")

    def server_credentials(self) -> grpc.ServerCredentials | None:
        """TLS that requires a client certificate; None: plaintext, checked by token."""
        if self.tls is None:
            return None
        return grpc.ssl_server_credentials(
            [(self.tls.private_key, self.tls.certificate_chain)],
            root_certificates=self.tls.root_certificates,
            require_client_auth=True,
        )

    def channel_credentials(self) -> grpc.ChannelCredentials | None:
        if self.tls is None:
            return None
        return grpc.ssl_channel_credentials(
            self.tls.root_certificates, self.tls.private_key, self.tls.certificate_chain
        )

    def server_interceptors(self) -> list[aio.ServerInterceptor]:
        return [] if self.tls is not None or self.token is None else [TokenInterceptor(self.token)]

    def client_interceptors(self) -> list[aio.ClientInterceptor]:
        if self.tls is not None or self.token is None:
            return []
        metadata = ((TOKEN_METADATA_KEY, self.token),)
        return [
            _TokenUnaryUnary(metadata),
            _TokenUnaryStream(metadata),
            _TokenStreamUnary(metadata),
            _TokenStreamStream(metadata),
        ]


def load_internal_auth(settings: CommonSettings) -> InternalAuth:
    """The process's internal auth from its settings: mutual TLS when the three
    ``DRAFTER_GRPC_TLS_*`` files are set, else the configured or stored token."""
    reflection = settings.grpc_reflection
    files = (settings.grpc_tls_cert, settings.grpc_tls_key, settings.grpc_tls_ca)
    if any(files):
        if not all(files):
            raise ConfigError(
                "mutual TLS needs all of DRAFTER_GRPC_TLS_CERT, DRAFTER_GRPC_TLS_KEY "
                "and DRAFTER_GRPC_TLS_CA"
            )
        cert, key, ca = (_read_pem(path) for path in files if path is not None)
        return InternalAuth(tls=MutualTls(cert, key, ca), reflection=reflection)
    configured = settings.internal_token
    token = load_internal_token(
        None if configured is None else configured.get_secret_value(), settings.data_dir
    )
    return InternalAuth(token=token, reflection=reflection)


def load_internal_token(configured: str | None, data_dir: Path) -> str:
    """The configured token (refused when weak, without echoing it), or the one stored in
    ``data_dir`` (created, mode 0600, on first use)."""
    if configured is not None:
        problem = weak_secret_problem(configured)
        if problem:
            raise ConfigError(
                f"DRAFTER_INTERNAL_TOKEN is too weak ({problem}): use the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            )
        return configured
    return stored_secret(data_dir, TOKEN_FILE)


def _read_pem(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None


class TokenInterceptor(aio.ServerInterceptor):
    """Refuses, with UNAUTHENTICATED, every call but a health check that lacks the token.
    The comparison takes the same time wherever the given token differs."""

    def __init__(self, token: str) -> None:
        self._expected = token.encode()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        if handler_call_details.method.startswith(HEALTH_METHOD_PREFIX) or self._allows(
            handler_call_details.invocation_metadata
        ):
            return await continuation(handler_call_details)
        handler = await continuation(handler_call_details)
        return _refusal(handler)

    def _allows(self, metadata: Any) -> bool:
        given: str | bytes = b""
        for key, value in metadata or ():
            if key == TOKEN_METADATA_KEY:
                given = value
                break
        if isinstance(given, str):
            given = given.encode()
        return hmac.compare_digest(given, self._expected)


async def _refuse(request: Any, context: aio.ServicerContext) -> NoReturn:
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, REFUSED)
    raise AssertionError("abort returned")  # pragma: no cover


async def _refuse_stream(request: Any, context: aio.ServicerContext) -> AsyncIterator[Any]:
    await _refuse(request, context)
    yield  # pragma: no cover  (makes this a generator, as a streaming handler is)


def _refusal(handler: grpc.RpcMethodHandler | None) -> grpc.RpcMethodHandler:
    """A handler of the same kind as ``handler`` that refuses the call; the request is
    left undecoded (bytes)."""
    if handler is not None and handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(_refuse_stream)
    if handler is not None and handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(_refuse)
    if handler is not None and handler.stream_stream is not None:
        return grpc.stream_stream_rpc_method_handler(_refuse_stream)
    return grpc.unary_unary_rpc_method_handler(_refuse)


def _details(details: aio.ClientCallDetails, metadata: tuple[tuple[str, str], ...]) -> Any:
    merged = aio.Metadata(*(details.metadata or ()), *metadata)
    return aio.ClientCallDetails(
        details.method, details.timeout, merged, details.credentials, details.wait_for_ready
    )


class _TokenUnaryUnary(aio.UnaryUnaryClientInterceptor):
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self._metadata = metadata

    async def intercept_unary_unary(
        self, continuation: Any, client_call_details: aio.ClientCallDetails, request: Any
    ) -> Any:
        return await continuation(_details(client_call_details, self._metadata), request)


class _TokenUnaryStream(aio.UnaryStreamClientInterceptor):
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self._metadata = metadata

    async def intercept_unary_stream(
        self, continuation: Any, client_call_details: aio.ClientCallDetails, request: Any
    ) -> Any:
        return await continuation(_details(client_call_details, self._metadata), request)


class _TokenStreamUnary(aio.StreamUnaryClientInterceptor):
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self._metadata = metadata

    async def intercept_stream_unary(
        self, continuation: Any, client_call_details: aio.ClientCallDetails, request_iterator: Any
    ) -> Any:
        return await continuation(_details(client_call_details, self._metadata), request_iterator)


class _TokenStreamStream(aio.StreamStreamClientInterceptor):
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self._metadata = metadata

    async def intercept_stream_stream(
        self, continuation: Any, client_call_details: aio.ClientCallDetails, request_iterator: Any
    ) -> Any:
        return await continuation(_details(client_call_details, self._metadata), request_iterator)
