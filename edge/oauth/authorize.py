"""The authorization endpoint (``/oauth/authorize``): the consent page and the decision.

The client and the redirect URI (exact match with a registered one) are checked by the
accounts service before anything else; when either is wrong the user gets an error page
and is never redirected. Other problems go back to the client as ``error=...&state=...``.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

import grpc
from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from drafter.accounts.v1 import oauth_service_pb2 as oauth_pb
from drafter.edge.web.context import Web, WebDep, error_page, render
from drafter.edge.web.forms import FormExpired, LoginRequired, read_form
from drafter.edge.web.sessions import SignedIn
from drafter.rpc.errors import error_from_rpc

router = APIRouter(tags=["oauth"], include_in_schema=False)

AUTHORIZE_FIELDS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "state",
    "scope",
    "code_challenge",
    "code_challenge_method",
)
MAX_STATE_CHARS = 1024
SCOPE_LABELS = {
    "ai:chat": "Chat with AI models on your behalf",
    "ai:images": "Generate images and remove image backgrounds on your behalf",
}


def redirect_with(uri: str, params: Mapping[str, str]) -> str:
    """``uri`` with ``params`` added to its query (keeping a registered query part)."""
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def _to_client(fields: Mapping[str, str], **params: str) -> Response:
    target = redirect_with(fields["redirect_uri"], {**params, "state": fields["state"]})
    return RedirectResponse(target, status_code=303)


def _request_proto(fields: Mapping[str, str]) -> oauth_pb.CheckAuthorizationRequest:
    return oauth_pb.CheckAuthorizationRequest(
        **{k: fields[k] for k in AUTHORIZE_FIELDS if k != "state"}
    )


async def _check(
    web: Web, request: Request, fields: Mapping[str, str]
) -> oauth_pb.CheckAuthorizationResponse | Response:
    """The app and scopes for a valid request; otherwise the page or redirect to answer."""
    try:
        checked: oauth_pb.CheckAuthorizationResponse = await web.services.oauth.CheckAuthorization(
            _request_proto(fields), timeout=web.deadline_s
        )
    except grpc.RpcError as exc:
        err = error_from_rpc(exc)
        oauth_error = err.metadata.get("oauth_error")
        if oauth_error:  # client and redirect URI are valid: tell the client
            return _to_client(fields, error=oauth_error, error_description=err.message)
        if err.code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
            message = f"{err.message} Ask the app's developer to fix its sign-in link."
            return error_page(web, request, "Invalid authorization request", message, 400)
        raise
    if not fields["state"] or len(fields["state"]) > MAX_STATE_CHARS:
        return _to_client(fields, error="invalid_request", error_description="state is required.")
    return checked


def _consent(
    web: Web,
    request: Request,
    user: SignedIn,
    checked: oauth_pb.CheckAuthorizationResponse,
    fields: Mapping[str, str],
) -> Response:
    scopes = [{"name": s, "label": SCOPE_LABELS.get(s, s)} for s in checked.scopes]
    return render(
        web,
        request,
        "consent.html",
        user=user,
        app_name=checked.app_name,
        homepage=checked.homepage,
        scopes=scopes,
        fields={k: v for k, v in fields.items() if v},
    )


@router.get("/oauth/authorize")
async def authorize_page(request: Request, web: WebDep) -> Response:
    fields = {k: request.query_params.get(k, "") for k in AUTHORIZE_FIELDS}
    checked = await _check(web, request, fields)
    if isinstance(checked, Response):
        return checked
    user = await web.user(request)
    if user is None:
        raise LoginRequired(f"{request.url.path}?{request.url.query}")
    return _consent(web, request, user, checked, fields)


@router.post("/oauth/authorize")
async def authorize_decision(request: Request, web: WebDep) -> Response:
    form = await read_form(request)
    fields = {k: form.get(k, "") for k in AUTHORIZE_FIELDS}
    user = await web.user(request)
    if user is None:
        query = urlencode({k: v for k, v in fields.items() if v})
        raise LoginRequired(f"/oauth/authorize?{query}")
    if not web.csrf_ok(request, form):
        raise FormExpired()
    checked = await _check(web, request, fields)
    if isinstance(checked, Response):
        return checked
    decision = form.get("decision")
    if decision == "deny":
        return _to_client(fields, error="access_denied")
    if decision != "approve":
        return error_page(web, request, "Invalid decision", "Choose Approve or Deny.", 400)
    issued = await web.services.oauth.IssueCode(
        oauth_pb.IssueCodeRequest(user_id=user.user_id, authorization=_request_proto(fields)),
        timeout=web.deadline_s,
    )
    return _to_client(fields, code=issued.code)
