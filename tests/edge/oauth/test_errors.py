"""RFC 6749 error bodies of failed OAuthService calls: the service's own error code when it
names one, else the code that fits the status the edge's table gives."""

from __future__ import annotations

import grpc
import orjson
import pytest

from drafter.edge.oauth.errors import oauth_error_from_remote
from drafter.rpc.errors import RemoteError

C = grpc.StatusCode


@pytest.mark.parametrize(
    ("code", "metadata", "error", "status"),
    [
        (C.INVALID_ARGUMENT, {"oauth_error": "invalid_grant"}, "invalid_grant", 400),
        (C.INVALID_ARGUMENT, {"oauth_error": "invalid_client"}, "invalid_client", 401),
        (C.UNAUTHENTICATED, {}, "invalid_client", 401),
        (C.UNAVAILABLE, {}, "temporarily_unavailable", 503),
        (C.DEADLINE_EXCEEDED, {}, "temporarily_unavailable", 503),
        (C.INVALID_ARGUMENT, {}, "invalid_request", 400),
        (C.FAILED_PRECONDITION, {}, "server_error", 500),
        (C.RESOURCE_EXHAUSTED, {}, "server_error", 500),
        (C.INTERNAL, {}, "server_error", 500),
    ],
)
def test_oauth_errors(code: grpc.StatusCode, metadata: dict, error: str, status: int) -> None:
    oauth_error = oauth_error_from_remote(RemoteError(code, "why", metadata=metadata))
    response = oauth_error.response()
    assert (response.status_code, orjson.loads(response.body)["error"]) == (status, error)
    assert response.headers["cache-control"] == "no-store"
    if status == 401:
        assert response.headers["www-authenticate"] == 'Basic realm="drafter"'
