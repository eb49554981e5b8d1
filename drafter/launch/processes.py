"""The processes Drafter is made of, in one table: each gRPC service's settings, its
address variable and its ``start`` / ``serve`` (and ``prepare``, which ``drafter up``
begins first). A service's modules are imported when it is first needed (``drafter serve
chat`` never imports rembg); the edge's HTTP server is ``edge/server/uvicorn.py``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from drafter.config import CommonSettings
from drafter.rpc.server import RunningServer


def _chat() -> ModuleType:
    from drafter.services.chat import main

    return main


def _images() -> ModuleType:
    from drafter.services.images import main

    return main


def _accounts() -> ModuleType:
    from drafter.services.accounts import main

    return main


@dataclass(frozen=True)
class GrpcService:
    name: str
    addr_env: str
    # The service's main module (``start``, ``serve`` and its settings class), on demand.
    load: Callable[[], ModuleType]
    settings_class: str
    # Keyword arguments of ``start`` when ``drafter up`` runs the service (one process).
    up_options: tuple[tuple[str, object], ...] = ()
    # Whether ``drafter up`` runs the main module's ``prepare(settings)`` first, alongside
    # the other services' start-up, and awaits it before this service starts.
    prepared: bool = False

    def settings(self) -> CommonSettings:
        settings: CommonSettings = getattr(self.load(), self.settings_class)()
        return settings

    def default_addr(self, settings: CommonSettings) -> str:
        return str(getattr(settings, f"{self.name}_addr"))

    def preparation(self, settings: CommonSettings) -> Coroutine[Any, Any, None]:
        prepare: Callable[[CommonSettings], Coroutine[Any, Any, None]] = self.load().prepare
        return prepare(settings)

    def starter(self) -> Callable[..., Awaitable[RunningServer]]:
        start: Callable[..., Awaitable[RunningServer]] = self.load().start
        return start

    def server(self) -> Callable[[Any, str], Awaitable[None]]:
        serve: Callable[[Any, str], Awaitable[None]] = self.load().serve
        return serve


# Started in this order (the edge needs all three). Accounts comes last: its status
# prober checks chat and images, so ``drafter up`` hands it their chosen addresses.
# Under ``drafter up`` there is exactly one accounts service: its quota counters live in
# its memory unless REDIS_URL is set (INTERFACE.md).
GRPC_SERVICES = (
    GrpcService("chat", "DRAFTER_CHAT_ADDR", _chat, "ChatSettings"),
    GrpcService("images", "DRAFTER_IMAGES_ADDR", _images, "ImagesSettings"),
    GrpcService(
        "accounts",
        "DRAFTER_ACCOUNTS_ADDR",
        _accounts,
        "AccountsSettings",
        up_options=(("in_process_quotas", True), ("migrations_apart", True)),
        # A migration due runs in a child process, keeping Alembic out of this one, from
        # the start: it overlaps the imports and start-up of chat and images.
        prepared=True,
    ),
)
