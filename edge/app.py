"""The edge's app factory: one FastAPI app per settings object, no import-time state.

Where things are (one request: route → ``deps`` → ``errors``/``clients`` → a service):

- ``settings``, ``deps`` (the API's dependencies), ``clients`` (every gRPC stub, built
  once), ``errors`` (THE status table and the app-wide handlers), ``health`` (probes and
  history behind both ``/status`` answers).
- ``api/``: the OpenAI-compatible routers under ``/api/v1`` and ``/v1``, and their
  plumbing: ``accounting`` (reserve, then settle), ``bodies``, ``uploads``.
- ``anthropic/``: Anthropic's Messages API (a passthrough) under the same prefixes.
- ``openai/``: OpenAI ⇄ proto translation (pure) and ``chat_stream`` (one SSE stream).
- ``responses/``: OpenAI's Responses API; ``store`` is the one door to its stored
  responses (kept by the accounts service), ``stored_routes`` reads and deletes them.
- ``oauth/``: the authorization, token and revocation endpoints (RFC 6749 bodies).
- ``web/``: sign-in, the dashboard and the status page (HTML, at the root).
- ``server/``: how the app is served (uvicorn, its protocol with its request-head
  deadline, the SSE response, the body limit, CORS on the API paths, the client's address behind
  proxies).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI
from grpc import aio
from starlette.staticfiles import StaticFiles

from drafter.edge.anthropic import routes as anthropic
from drafter.edge.api import chat, images, models, status, usage
from drafter.edge.api.accounting import Accounting
from drafter.edge.clients import connect_services
from drafter.edge.errors import install_error_handlers
from drafter.edge.oauth import authorize, token
from drafter.edge.responses import routes as responses
from drafter.edge.responses import stored_routes as stored_responses
from drafter.edge.responses.sealing import sealer
from drafter.edge.server.body_limit import BodyLimit
from drafter.edge.server.cors import ApiCors
from drafter.edge.server.stream_cap import StreamCap
from drafter.edge.settings import EdgeSettings
from drafter.edge.web import auth, dashboard, status_page
from drafter.edge.web.context import STATIC_DIR, build_web
from drafter.edge.web.forms import install_form_handlers
from drafter.edge.web.secret_key import load_secret_key
from drafter.http_observer import RequestObserver

API_PREFIXES = ("/api/v1", "/v1")
# A request is matched against the routes in the order they were added (about 3 µs
# each), so the busiest paths come first, each under both prefixes before the next:
# matching /v1/chat/completions took 36 µs before, 8 now; /v1/responses 57, now 20.
API_ROUTERS = (
    chat.router,
    anthropic.router,
    responses.router,
    stored_responses.router,
    images.router,
    models.router,
    usage.router,
    status.router,
)
# Mounted at the root: liveness, stored images, sign-in and dashboard pages, and OAuth
# (RFC 6749 errors, not the OpenAI shape).
ROOT_ROUTERS = (
    anthropic.probe,
    status.liveness,
    images.public,
    auth.router,
    authorize.router,
    token.router,
    dashboard.router,
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
        # The secret key, read (or created) once: it signs the web's cookies and seals
        # the Responses API's reasoning items.
        secret = load_secret_key(settings.secret_key, settings.data_dir)
        app.state.sealer = sealer(secret)
        app.state.web = web = build_web(settings, services, secret)
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
    app.add_middleware(StreamCap, max_streams=settings.max_streams)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    # Added last, so outermost: a preflight is answered before the body limit, and a 413
    # carries the CORS headers a browser needs to read it.
    app.add_middleware(ApiCors, allowed=settings.cors)
    # Outermost: every answer is counted (drafter.http_observer).
    app.add_middleware(RequestObserver, prefixes=API_PREFIXES)
    install_error_handlers(app)
    install_form_handlers(app)
    for router in API_ROUTERS:
        for prefix in API_PREFIXES:
            app.include_router(router, prefix=prefix)
    for router in ROOT_ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
