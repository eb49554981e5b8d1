"""What the web pages share, built once per app in the lifespan: the services (whose
identity stub finds the signed-in user), the signer, the templates and the rate limiter;
and ``render``, which adds the CSRF token and the security headers to every page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, Request
from starlette.responses import HTMLResponse

from drafter.edge.clients import Services
from drafter.edge.settings import EdgeSettings
from drafter.edge.web.csrf import CSRF_FIELD, csrf_nonce, csrf_token, csrf_valid, set_csrf_cookie
from drafter.edge.web.ratelimit import RateLimiter, build_rate_limiter
from drafter.edge.web.sessions import SignedIn, Signer, current_user, session_token

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
}


@dataclass(frozen=True)
class Web:
    settings: EdgeSettings
    services: Services
    signer: Signer
    templates: jinja2.Environment
    limiter: RateLimiter

    @property
    def deadline_s(self) -> float:
        return self.settings.accounts_timeout_s

    async def user(self, request: Request) -> SignedIn | None:
        return await current_user(request, self.signer, self.services.identity, self.deadline_s)

    def csrf_ok(self, request: Request, form: Mapping[str, str]) -> bool:
        """The form's CSRF token matches this browser's nonce and session cookie."""
        session = session_token(request, self.signer)
        return csrf_valid(request, self.signer, form.get(CSRF_FIELD, ""), session)

    async def close(self) -> None:
        await self.limiter.close()


def utc_time(unix_seconds: int) -> str:
    """``1795327125`` → ``2026-11-22 05:58:45 UTC`` (a template filter)."""
    return dt.datetime.fromtimestamp(unix_seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def build_web(settings: EdgeSettings, services: Services, key: bytes) -> Web:
    """Sets up the signer of ``key`` (the edge's secret key), templates and the rate
    limiter."""
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(WEB_DIR / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    templates.filters["utc"] = utc_time
    return Web(
        settings=settings,
        services=services,
        signer=Signer(key),
        templates=templates,
        limiter=build_rate_limiter(settings.redis_url),
    )


def render(
    web: Web,
    request: Request,
    template: str,
    *,
    user: SignedIn | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Renders a page with a CSRF token bound to this browser and its session cookie."""
    nonce, fresh = csrf_nonce(request)
    token = csrf_token(web.signer, nonce, session_token(request, web.signer))
    html = web.templates.get_template(template).render(
        user=user, csrf_field=CSRF_FIELD, csrf_token=token, **context
    )
    response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
    if fresh:
        set_csrf_cookie(response, request, web.settings.base_url, nonce)
    return response


def error_page(web: Web, request: Request, title: str, message: str, status: int) -> HTMLResponse:
    return render(web, request, "error.html", status=status, title=title, message=message)


async def get_web(request: Request) -> Web:
    return request.app.state.web  # type: ignore[no-any-return]


WebDep = Annotated[Web, Depends(get_web)]
