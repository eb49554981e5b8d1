"""The token endpoint (``POST /oauth/token``, RFC 6749 §4.1.3) and revocation
(``POST /oauth/revoke``, RFC 7009).

Both take form-encoded or JSON bodies and client credentials in the body or through HTTP
Basic. Failed client authentication and bad codes count against the caller's IP; past the
limit the endpoint answers 429 with ``Retry-After``. Bodies are RFC 6749 errors, never cached.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

import grpc
import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from drafter.accounts.v1 import oauth_service_pb2 as oauth_pb
from drafter.edge.oauth.errors import (
    OAuthError,
    invalid_client,
    invalid_request,
    json_no_store,
    oauth_error_from_rpc,
)
from drafter.edge.web.context import Web, WebDep
from drafter.edge.web.forms import client_ip

router = APIRouter(tags=["oauth"])

COUNTED_ERRORS = ("invalid_client", "invalid_grant")


async def read_params(request: Request) -> dict[str, str]:
    """The body as string parameters: JSON (as the seed docs send) or form-encoded."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise invalid_request("The body is not valid JSON.") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise invalid_request("The body must be a JSON object of strings.")
        return data
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        items = [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
        if len({k for k, _ in items}) != len(items):
            raise invalid_request("Parameters must not be repeated.")
        return dict(items)
    raise invalid_request("Send application/x-www-form-urlencoded or application/json.")


def client_credentials(request: Request, params: dict[str, str]) -> oauth_pb.ClientCredentials:
    """Client id and secret from HTTP Basic (RFC 6749 §2.3.1) or from the body, not both."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return oauth_pb.ClientCredentials(
            client_id=params.get("client_id", ""), client_secret=params.get("client_secret", "")
        )
    if "client_secret" in params:
        raise invalid_request("Use one client authentication method.")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise invalid_client() from None
    client_id, colon, secret = decoded.partition(":")
    client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    if not colon or params.get("client_id", client_id) != client_id:
        raise invalid_client()
    return oauth_pb.ClientCredentials(client_id=client_id, client_secret=secret)


async def _rate_limited(web: Web, request: Request) -> Response | None:
    wait = await web.limiter.retry_after(
        f"oauth:ip:{client_ip(request)}", web.settings.token_failures_per_ip
    )
    if wait is None:
        return None
    error = OAuthError(
        "slow_down", "Too many failed attempts; retry later.", 429, {"Retry-After": str(wait)}
    )
    return error.response()


async def _failed(web: Web, request: Request, error: OAuthError) -> Response:
    if error.error in COUNTED_ERRORS:
        await web.limiter.add(f"oauth:ip:{client_ip(request)}", web.settings.rate_limit_window_s)
    return error.response()


async def _exchange(web: Web, request: Request) -> Response:
    params = await read_params(request)
    client = client_credentials(request, params)
    grant_type = params.get("grant_type", "")
    if not grant_type:
        raise invalid_request("grant_type is required.")
    if grant_type != "authorization_code":
        raise OAuthError("unsupported_grant_type", "Only authorization_code is supported.")
    if not params.get("code"):
        raise invalid_request("code is required.")
    issued = await web.services.oauth.ExchangeCode(
        oauth_pb.ExchangeCodeRequest(
            client=client,
            code=params["code"],
            redirect_uri=params.get("redirect_uri", ""),
            code_verifier=params.get("code_verifier", ""),
        ),
        timeout=web.deadline_s,
    )
    body = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "scope": issued.scope,
        "app_name": issued.app_name,
    }
    return json_no_store(body)


async def _revoke(web: Web, request: Request) -> Response:
    params = await read_params(request)
    client = client_credentials(request, params)
    if not params.get("token"):
        raise invalid_request("token is required.")
    await web.services.oauth.RevokeToken(
        oauth_pb.RevokeTokenRequest(client=client, token=params["token"]), timeout=web.deadline_s
    )
    return json_no_store({})


@router.post("/oauth/token")
async def token(request: Request, web: WebDep) -> Response:
    limited = await _rate_limited(web, request)
    if limited is not None:
        return limited
    try:
        return await _exchange(web, request)
    except OAuthError as error:
        return await _failed(web, request, error)
    except grpc.RpcError as exc:
        return await _failed(web, request, oauth_error_from_rpc(exc))


@router.post("/oauth/revoke")
async def revoke(request: Request, web: WebDep) -> Response:
    limited = await _rate_limited(web, request)
    if limited is not None:
        return limited
    try:
        return await _revoke(web, request)
    except OAuthError as error:
        return await _failed(web, request, error)
    except grpc.RpcError as exc:
        return await _failed(web, request, oauth_error_from_rpc(exc))
