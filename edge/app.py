"""The edge's app factory: one FastAPI app per settings object, no import-time state."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from grpc import aio
from starlette.staticfiles import StaticFiles

from edge.accounting import Accounting
from edge.clients import connect_services
from edge.errors import install_error_handlers
from edge.routes import (
    auth,
    chat,
    dashboard,
    health,
    images,
    models,
    notifications,
    oauth,
    oauth_token,
    status_page,
    usage,
)
from edge.settings import EdgeSettings
from edge.web.context import STATIC_DIR, build_web

API_PREFIXES = ("/api/v1", "/v1")
API_ROUTERS = (chat.router, images.router, models.router, usage.router, health.router)
# Mounted at the root: sign-in pages and OAuth (RFC 6749 errors, not the OpenAI shape).
WEB_ROUTERS = (
    auth.router,
    oauth.router,
    oauth_token.router,
    dashboard.router,
    notifications.router,
    status_page.router,
)


def create_app(
    settings: EdgeSettings, local_channels: Mapping[str, aio.Channel] | None = None
) -> FastAPI:
    """The edge; ``local_channels`` names the services running in this process
    (``drafter up``), which it then calls without a network hop."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = connect_services(settings, local_channels)
        accounting = Accounting(services.accounts, settings.accounts_timeout_s)
        app.state.settings = settings
        app.state.services = services
        app.state.accounting = accounting
        accounts_channel = next(p.channel for p in services.peers if p.name == "accounts")
        app.state.web = web = build_web(settings, accounts_channel)
        try:
            yield
        finally:
            await web.close()
            await accounting.drain()
            await services.close()

    app = FastAPI(
        title="Drafter",
        summary="OpenAI-compatible API for Claude chat, image generation and background removal.",
        version="1",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    for prefix in API_PREFIXES:
        for router in API_ROUTERS:
            app.include_router(router, prefix=prefix)
    app.include_router(health.liveness)
    app.include_router(images.public)
    for router in WEB_ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
