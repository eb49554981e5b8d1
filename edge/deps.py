"""FastAPI dependencies of the API routes: the services, settings and accounting on
``app.state`` (built in the lifespan, ``edge/app.py``), and the caller's bearer credential.
The web pages have theirs in ``edge/web/context.py`` and ``edge/web/dashboard/page.py``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from drafter.edge.api.accounting import Accounting
from drafter.edge.clients import Services
from drafter.edge.errors import unauthenticated
from drafter.edge.settings import EdgeSettings

_MISSING_KEY = (
    "You didn't provide an API key. Send it in the Authorization header as "
    "'Authorization: Bearer YOUR_API_KEY' (or in the x-api-key header)."
)


async def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


async def get_settings(request: Request) -> EdgeSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def bearer_credential(request: Request) -> str:
    """The credential of ``Authorization: Bearer ...``, or of ``x-api-key`` (Anthropic's
    SDKs and Claude Code send it there); 401 when there is none."""
    header = request.headers.get("authorization")
    if not header:
        api_key = request.headers.get("x-api-key", "").strip()
        if api_key:
            return api_key
        raise unauthenticated(_MISSING_KEY)
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise unauthenticated(_MISSING_KEY)
    return credential


@dataclass(frozen=True, slots=True)
class ApiContext:
    """What every authenticated API route needs: the caller's credential and the edge's
    services, settings and accounting."""

    credential: str
    services: Services
    settings: EdgeSettings
    accounting: Accounting


async def api_context(request: Request) -> ApiContext:
    state = request.app.state
    return ApiContext(
        await bearer_credential(request), state.services, state.settings, state.accounting
    )


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[EdgeSettings, Depends(get_settings)]
ApiDep = Annotated[ApiContext, Depends(api_context)]
