"""RFC 6749 §5.2 error bodies: the OAuth endpoints are the only ones not answering in the
OpenAI error shape. The RFC's error codes are chosen here; the HTTP statuses behind them
come from the edge's one table (``edge/errors.py``). Token responses are never cached
(``Cache-Control: no-store``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import grpc
import orjson
from starlette.responses import Response

from drafter.edge.errors import http_status
from drafter.rpc.errors import RemoteError, error_from_rpc

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def json_no_store(body: Mapping[str, object], status: int = 200, **headers: str) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        headers={**NO_STORE, **headers},
        media_type="application/json",
    )


@dataclass
class OAuthError(Exception):
    error: str
    description: str
    status: int = 400
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        body = {"error": self.error, "error_description": self.description}
        return json_no_store(body, self.status, **self.headers)


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_client() -> OAuthError:
    # RFC 6749 §5.2: 401 with WWW-Authenticate for the scheme the client may use.
    return OAuthError(
        "invalid_client",
        "Client authentication failed.",
        401,
        {"WWW-Authenticate": 'Basic realm="drafter"'},
    )


def oauth_error_from_remote(err: RemoteError) -> OAuthError:
    """The RFC 6749 error of a failed OAuthService call: its own code when the service
    named one, else the code that fits the table's HTTP status."""
    code = err.metadata.get("oauth_error")
    status = http_status(err.code)
    if code == "invalid_client" or status == 401:
        return invalid_client()
    if code:
        return OAuthError(code, err.message)
    if status == 503:
        return OAuthError("temporarily_unavailable", "Please retry shortly.", status)
    if err.code == grpc.StatusCode.INVALID_ARGUMENT:
        return invalid_request(err.message)
    return OAuthError("server_error", "The server had an error.", 500)


def oauth_error_from_rpc(exc: grpc.RpcError) -> OAuthError:
    return oauth_error_from_remote(error_from_rpc(exc))
