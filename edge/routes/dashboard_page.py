"""What every dashboard page shares: the signed-in user (else a redirect to log in), the
CSRF check of forms, the accounts stubs, gRPC failures shown as messages, and rendering
inside the dashboard layout. Pages hold no business rules: every figure and every
decision comes from the accounts service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from fastapi import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.accounts.v1 import dashboard_service_pb2_grpc as dash_grpc
from drafter.accounts.v1 import oauth_service_pb2_grpc as oauth_grpc
from drafter.rpc.errors import error_from_rpc
from edge.routes.auth import EXPIRED_FORM, login_url, read_form
from edge.sessions import SignedIn
from edge.web.context import Web, error_page, render

# gRPC statuses whose message is meant for the user (bad input, a plan limit, ...).
_SHOWN = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ALREADY_EXISTS: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
}


@dataclass(frozen=True)
class Page:
    """A signed-in request to a dashboard page, with its form when it posted one."""

    web: Web
    request: Request
    user: SignedIn
    form: dict[str, str]

    @property
    def timeout(self) -> float:
        return self.web.deadline_s

    @property
    def accounts(self) -> accounts_grpc.AccountsServiceStub:
        return self.request.app.state.services.accounts  # type: ignore[no-any-return]

    @property
    def oauth(self) -> oauth_grpc.OAuthServiceStub:
        return self.web.oauth

    @property
    def dashboard(self) -> dash_grpc.DashboardServiceStub:
        peers = self.request.app.state.services.peers
        channel = next(p.channel for p in peers if p.name == "accounts")
        return dash_grpc.DashboardServiceStub(channel)

    @property
    def base_url(self) -> str:
        return self.web.settings.base_url

    def render(self, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        return render(
            self.web,
            self.request,
            f"dashboard/{template}",
            user=self.user,
            status=status,
            path=self.request.url.path,
            base_url=self.base_url,
            **context,
        )


async def open_page(request: Request, web: Web) -> Page | Response:
    """The page for a signed-in user; a redirect to the log-in page otherwise."""
    user = await web.user(request)
    if user is None:
        path = request.url.path
        return RedirectResponse(login_url(path), status_code=303)
    return Page(web, request, user, {})


async def open_form(request: Request, web: Web) -> Page | Response:
    """As :func:`open_page` for a posted form, which must carry this session's CSRF token."""
    user = await web.user(request)
    if user is None:
        return RedirectResponse(login_url(request.url.path), status_code=303)
    form = await read_form(request)
    if not web.csrf_ok(request, form):
        return error_page(web, request, "Form expired", EXPIRED_FORM, 403)
    return Page(web, request, user, form)


def failure(exc: grpc.RpcError) -> tuple[int, str]:
    """(HTTP status, message) of a failed call the user can act on; re-raises the rest."""
    err = error_from_rpc(exc)
    status = _SHOWN.get(err.code)
    if status is None:
        raise exc
    return status, err.message or "That did not work."


def done(path: str, notice: str) -> RedirectResponse:
    """Post/redirect/get back to ``path`` with a notice code (one of the page's own)."""
    return RedirectResponse(f"{path}?done={notice}", status_code=303)
