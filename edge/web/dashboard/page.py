"""What every dashboard page shares: :data:`PageDep` (the signed-in user, else
:class:`~edge.web.forms.LoginRequired`) and :data:`FormDep` (also the posted form and its
CSRF check, else :class:`~edge.web.forms.FormExpired`); rendering inside the dashboard
layout; and :func:`shows_failures`, which turns a failed call the user can act on into the
page again with its message. Pages hold no business rules: every figure and every
decision comes from the accounts service."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, ParamSpec

import grpc
from fastapi import Depends, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from drafter.edge.clients import Services
from drafter.edge.errors import page_failure
from drafter.edge.web.context import Web, WebDep, render
from drafter.edge.web.forms import FormExpired, LoginRequired, read_form
from drafter.edge.web.sessions import SignedIn
from drafter.rpc.errors import error_from_rpc

P = ParamSpec("P")
# Renders a page again after a failed action: ``show(page, status=..., error=...)``.
Show = Callable[..., Awaitable[Response]]


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
    def services(self) -> Services:
        return self.web.services

    @property
    def base_url(self) -> str:
        return self.web.settings.base_url

    def notice(self, notices: dict[str, str]) -> str:
        """The notice named by ``?done=`` (one of the page's own), or ''."""
        return notices.get(self.request.query_params.get("done", ""), "")

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


async def open_page(request: Request, web: WebDep) -> Page:
    """The page for a signed-in user; raises LoginRequired otherwise."""
    user = await web.user(request)
    if user is None:
        raise LoginRequired(request.url.path)
    return Page(web, request, user, {})


async def open_form(page: Annotated[Page, Depends(open_page)]) -> Page:
    """As :func:`open_page` for a posted form, which must carry this session's CSRF token."""
    form = await read_form(page.request)
    if not page.web.csrf_ok(page.request, form):
        raise FormExpired()
    return dataclasses.replace(page, form=form)


PageDep = Annotated[Page, Depends(open_page)]
FormDep = Annotated[Page, Depends(open_form)]


def shows_failures(
    show: Show,
) -> Callable[[Callable[P, Awaitable[Response]]], Callable[P, Awaitable[Response]]]:
    """Wraps a form's handler (which takes a ``FormDep``): a failed call whose message is
    for the user (``edge.errors.page_failure``) answers ``show(page, status=, error=)``;
    any other failure goes on to the app's handlers."""

    def wrap(handler: Callable[P, Awaitable[Response]]) -> Callable[P, Awaitable[Response]]:
        @functools.wraps(handler)
        async def run(*args: P.args, **kwargs: P.kwargs) -> Response:
            try:
                return await handler(*args, **kwargs)
            except grpc.RpcError as exc:
                failure = page_failure(error_from_rpc(exc))
                if failure is None:
                    raise
                page = next(v for v in kwargs.values() if isinstance(v, Page))
                status, error = failure
                return await show(page, status=status, error=error)

        return run

    return wrap


def done(path: str, notice: str) -> RedirectResponse:
    """Post/redirect/get back to ``path`` with a notice code (one of the page's own)."""
    return RedirectResponse(f"{path}?done={notice}", status_code=303)
