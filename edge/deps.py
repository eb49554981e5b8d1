"""FastAPI dependencies: the services, settings and accounting on ``app.state``, and the
caller's bearer credential."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from edge.accounting import Accounting
from edge.clients import Services
from edge.errors import unauthenticated
from edge.settings import EdgeSettings

_MISSING_KEY = (
    "You didn't provide an API key. Send it in the Authorization header as "
    "'Authorization: Bearer YOUR_API_KEY'."
)


async def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


async def get_settings(request: Request) -> EdgeSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def bearer_credential(request: Request) -> str:
    """The credential of ``Authorization: Bearer ...``; 401 when there is none."""
    header = request.headers.get("authorization")
    if not header:
        raise unauthenticated(_MISSING_KEY)
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise unauthenticated(_MISSING_KEY)
    return credential


@dataclass(frozen=True, slots=True)
class ApiCall:
    """What every authenticated API route needs: the caller's credential and the edge's
    services, settings and accounting."""

    credential: str
    services: Services
    settings: EdgeSettings
    accounting: Accounting


async def api_call(request: Request) -> ApiCall:
    state = request.app.state
    return ApiCall(
        await bearer_credential(request), state.services, state.settings, state.accounting
    )


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[EdgeSettings, Depends(get_settings)]
ApiCallDep = Annotated[ApiCall, Depends(api_call)]
