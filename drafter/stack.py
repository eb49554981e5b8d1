"""The processes Drafter is made of, in one table: each gRPC service's settings, its
address variable and its ``start``. The edge's HTTP server is ``edge/server/uvicorn.py``."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from drafter.config import CommonSettings
from drafter.rpc.server import RunningServer

log = logging.getLogger("drafter")


@dataclass(frozen=True)
class GrpcService:
    name: str
    addr_env: str
    module: str
    settings_class: str
    # Keyword arguments of ``start`` when ``drafter up`` runs the service (one process).
    up_options: tuple[tuple[str, object], ...] = ()

    def settings(self) -> CommonSettings:
        module = importlib.import_module(self.module.rsplit(".", 1)[0] + ".settings")
        settings: CommonSettings = getattr(module, self.settings_class)()
        return settings

    def default_addr(self, settings: CommonSettings) -> str:
        return str(getattr(settings, f"{self.name}_addr"))

    def starter(self) -> Callable[..., Awaitable[RunningServer]]:
        return importlib.import_module(self.module).start  # type: ignore[no-any-return]

    def server(self) -> Callable[[Any, str], Awaitable[None]]:
        return importlib.import_module(self.module).serve  # type: ignore[no-any-return]


# Started in this order (the edge needs all three). Accounts comes last: its status
# prober checks chat and images, so ``drafter up`` hands it their chosen addresses.
# Under ``drafter up`` there is exactly one accounts service: its quota counters live in
# its memory unless REDIS_URL is set (INTERFACE.md).
GRPC_SERVICES = (
    GrpcService("chat", "DRAFTER_CHAT_ADDR", "services.chat.main", "ChatSettings"),
    GrpcService("images", "DRAFTER_IMAGES_ADDR", "services.images.main", "ImagesSettings"),
    GrpcService(
        "accounts",
        "DRAFTER_ACCOUNTS_ADDR",
        "services.accounts.main",
        "AccountsSettings",
        up_options=(("in_process_quotas", True),),
    ),
)
