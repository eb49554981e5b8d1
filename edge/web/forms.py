"""What the sign-in, OAuth and dashboard pages share about visitors and their forms: the
posted form, the client's IP, the log-in link that comes back, and the two answers a page
gives before it does anything — :class:`LoginRequired` (a redirect to log in) and
:class:`FormExpired` (a stale or missing CSRF token) — raised anywhere in a request and
answered once by the handlers of :func:`install_form_handlers`."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response

from drafter.edge.web.context import error_page

EXPIRED_FORM = "This form has expired. Go back, reload the page and try again."


def login_url(next_path: str) -> str:
    return "/auth/login?" + urlencode({"next": next_path})


def client_ip(request: Request) -> str:
    """The client's address, behind trusted proxies too (``DRAFTER_TRUSTED_PROXIES``):
    what per-IP limits count."""
    peer = request.client.host if request.client else None
    proxies = request.app.state.settings.proxies
    address: str = proxies.client_address(peer, request.headers.getlist("x-forwarded-for"))
    return address


async def read_form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


class LoginRequired(Exception):
    """The page needs a signed-in user: answered with a redirect to log in, which comes
    back to ``next_path``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class FormExpired(Exception):
    """The posted form's CSRF token does not match this browser and session."""


def install_form_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _log_in_first(_: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(login_url(exc.next_path), status_code=303)

    @app.exception_handler(FormExpired)
    async def _expired(request: Request, _: FormExpired) -> Response:
        web = request.app.state.web
        return error_page(web, request, "Form expired", EXPIRED_FORM, 403)
