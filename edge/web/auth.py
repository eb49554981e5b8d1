"""Sign-up, log-in and log-out (``/auth/...``): server-rendered forms with CSRF tokens,
the session cookie, and failed log-ins rate-limited per account and per IP. Messages
never tell whether an email has an account."""

from __future__ import annotations

import grpc
from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from drafter.accounts.v1 import identity_service_pb2 as identity_pb
from drafter.edge.web.context import Web, WebDep, render
from drafter.edge.web.forms import EXPIRED_FORM, FormExpired, client_ip, read_form
from drafter.edge.web.sessions import clear_session_cookie, set_session_cookie
from drafter.rpc.errors import error_from_rpc

router = APIRouter(tags=["auth"], include_in_schema=False)

DEFAULT_NEXT = "/auth/login"
SIGNUP_FAILED = "We couldn't create an account with that email and password."


def safe_next(value: str | None) -> str:
    """A same-site path to continue to after signing in; anything else (absolute URLs,
    ``//host``, backslashes) falls back to the default, so this is never an open redirect."""
    if (
        value
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and value.isprintable()
        and len(value) <= 4096
    ):
        return value
    return DEFAULT_NEXT


def _signed_in(web: Web, request: Request, token: str, next_path: str) -> Response:
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, request, web.settings.base_url, web.signer, token)
    return response


def _too_many(
    web: Web, request: Request, template: str, form: dict[str, str], wait: int
) -> Response:
    minutes = max(1, (wait + 59) // 60)
    message = f"Too many failed attempts. Try again in {minutes} minute(s)."
    response = _form_page(web, request, template, form, message, 429)
    response.headers["Retry-After"] = str(wait)
    return response


def _form_page(
    web: Web, request: Request, template: str, form: dict[str, str], error: str, status: int
) -> Response:
    next_path = safe_next(form.get("next"))
    email = form.get("email", "")
    return render(web, request, template, status=status, next=next_path, email=email, error=error)


@router.get("/auth/login")
async def login_page(request: Request, web: WebDep, next: str = "") -> Response:
    user = await web.user(request)
    if user is not None:
        if safe_next(next) != DEFAULT_NEXT:
            return RedirectResponse(safe_next(next), status_code=303)
        return render(web, request, "signed_in.html", user=user)
    return _form_page(web, request, "login.html", {"next": next}, "", 200)


@router.post("/auth/login")
async def login(request: Request, web: WebDep) -> Response:
    form = await read_form(request)
    if not web.csrf_ok(request, form):
        return _form_page(web, request, "login.html", form, EXPIRED_FORM, 403)
    settings, limiter = web.settings, web.limiter
    keys = (
        (
            f"login:account:{form.get('email', '').strip().lower()}",
            settings.login_failures_per_account,
        ),
        (f"login:ip:{client_ip(request)}", settings.login_failures_per_ip),
    )
    for key, limit in keys:
        wait = await limiter.retry_after(key, limit)
        if wait is not None:
            return _too_many(web, request, "login.html", form, wait)
    request_msg = identity_pb.LogInRequest(
        email=form.get("email", ""), password=form.get("password", "")
    )
    try:
        found = await web.services.identity.LogIn(request_msg, timeout=web.deadline_s)
    except grpc.RpcError as exc:
        if exc.code() != grpc.StatusCode.UNAUTHENTICATED:
            raise
        for key, _ in keys:
            await limiter.add(key, settings.rate_limit_window_s)
        # The identity service words the refusal (one message for a wrong email or password).
        return _form_page(web, request, "login.html", form, exc.details() or "", 400)
    return _signed_in(web, request, found.session.token, safe_next(form.get("next")))


@router.get("/auth/signup")
async def signup_page(request: Request, web: WebDep, next: str = "") -> Response:
    return _form_page(web, request, "signup.html", {"next": next}, "", 200)


@router.post("/auth/signup")
async def signup(request: Request, web: WebDep) -> Response:
    form = await read_form(request)
    if not web.csrf_ok(request, form):
        return _form_page(web, request, "signup.html", form, EXPIRED_FORM, 403)
    key = f"signup:ip:{client_ip(request)}"
    wait = await web.limiter.retry_after(key, web.settings.login_failures_per_ip)
    if wait is not None:
        return _too_many(web, request, "signup.html", form, wait)
    await web.limiter.add(key, web.settings.rate_limit_window_s)
    message = identity_pb.SignUpRequest(
        email=form.get("email", ""), password=form.get("password", "")
    )
    try:
        created = await web.services.identity.SignUp(message, timeout=web.deadline_s)
    except grpc.RpcError as exc:
        err = error_from_rpc(exc)
        if err.code == grpc.StatusCode.INVALID_ARGUMENT:
            return _form_page(web, request, "signup.html", form, err.message, 400)
        if err.code == grpc.StatusCode.ALREADY_EXISTS:
            return _form_page(web, request, "signup.html", form, SIGNUP_FAILED, 400)
        raise
    return _signed_in(web, request, created.session.token, safe_next(form.get("next")))


@router.post("/auth/logout")
async def logout(request: Request, web: WebDep) -> Response:
    form = await read_form(request)
    user = await web.user(request)
    if user is not None:
        if not web.csrf_ok(request, form):
            raise FormExpired()
        await web.services.identity.EndSession(
            identity_pb.EndSessionRequest(token=user.token), timeout=web.deadline_s
        )
    response = RedirectResponse(DEFAULT_NEXT, status_code=303)
    clear_session_cookie(response)
    return response
