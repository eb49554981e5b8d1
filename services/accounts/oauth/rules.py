"""OAuth rules without I/O: scopes, PKCE (RFC 7636), redirect URIs, secrets, errors.

OAuth failures are :class:`OAuthError`\\ s: a DrafterError whose ErrorInfo metadata carries
the RFC 6749 error code (``oauth_error``), which the edge answers with an RFC 6749 body or
a redirect.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from urllib.parse import urlsplit

import grpc

from drafter.common.v1 import errors_pb2
from drafter.rpc.errors import DrafterError, PermissionDenied
from drafter.services.accounts.users.tokens import CLIENT_TOKEN_PREFIX, hash_token
from drafter.services.accounts.vocab import UsageKind

SCOPE_CHAT = "ai:chat"
SCOPE_IMAGES = "ai:images"
SCOPES = (SCOPE_CHAT, SCOPE_IMAGES)
# What each usage kind needs; kinds not listed (apiCall) are open to every token.
SCOPE_FOR_KIND: dict[str, str] = {
    UsageKind.CHAT: SCOPE_CHAT,
    UsageKind.IMAGE_GEN: SCOPE_IMAGES,
    UsageKind.IMAGE_EDIT: SCOPE_IMAGES,
}
CODE_TTL = dt.timedelta(minutes=5)
CODE_BYTES = 32
TOKEN_BYTES = 32
CLIENT_ID_PREFIX = "dpa_"
CLIENT_SECRET_PREFIX = "dpcs_"
CLIENT_TOKEN_ID_PREFIX = "ct_"
PKCE_METHODS = ("S256", "plain")
MAX_REDIRECT_URIS = 10
MAX_URI_CHARS = 2048
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")
_PKCE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

_INVALID_CLIENT = "invalid_client"


class OAuthError(DrafterError):
    """An RFC 6749 error; ``invalid_client`` is UNAUTHENTICATED (HTTP 401), the rest 400."""

    code = grpc.StatusCode.INVALID_ARGUMENT
    reason = errors_pb2.ERROR_REASON_INVALID_REQUEST

    def __init__(self, oauth_error: str, description: str) -> None:
        super().__init__(description, metadata={"oauth_error": oauth_error})
        self.oauth_error = oauth_error
        if oauth_error == _INVALID_CLIENT:
            self.code = grpc.StatusCode.UNAUTHENTICATED
            self.reason = errors_pb2.ERROR_REASON_INVALID_CREDENTIAL


def invalid_client() -> OAuthError:
    return OAuthError(_INVALID_CLIENT, "Client authentication failed.")


def invalid_grant(description: str = "The authorization code is invalid or expired.") -> OAuthError:
    return OAuthError("invalid_grant", description)


class InsufficientScope(PermissionDenied):
    reason = errors_pb2.ERROR_REASON_INSUFFICIENT_SCOPE


def require_scope(scopes: frozenset[str] | None, kind: str) -> None:
    """Raises InsufficientScope when a client token's ``scopes`` do not cover ``kind``
    (``None`` means an API key: everything its plan allows)."""
    needed = SCOPE_FOR_KIND.get(kind)
    if scopes is None or needed is None or needed in scopes:
        return
    raise InsufficientScope(
        f"This token was not granted the '{needed}' scope.", metadata={"scope": needed}
    )


def parse_scope(scope: str) -> tuple[str, ...]:
    """Space-separated scopes → the known ones in canonical order; empty means all."""
    requested = scope.split()
    if not requested:
        return SCOPES
    unknown = [s for s in requested if s not in SCOPES]
    if unknown:
        raise OAuthError("invalid_scope", f"Unknown scope '{unknown[0]}'.")
    return tuple(s for s in SCOPES if s in requested)


def check_challenge(challenge: str, method: str) -> str:
    """Validates a PKCE challenge; returns the method ('' when there is no challenge)."""
    if not challenge:
        if method:
            raise OAuthError("invalid_request", "code_challenge_method without code_challenge.")
        return ""
    method = method or "plain"
    if method not in PKCE_METHODS:
        raise OAuthError("invalid_request", "code_challenge_method must be S256 or plain.")
    if not 43 <= len(challenge) <= 128 or not set(challenge) <= _PKCE_CHARS:
        raise OAuthError("invalid_request", "code_challenge is malformed.")
    return method


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_matches(verifier: str, challenge: str, method: str) -> bool:
    """RFC 7636 §4.6: the verifier transformed by ``method`` equals the challenge."""
    if not 43 <= len(verifier) <= 128 or not set(verifier) <= _PKCE_CHARS:
        return False
    derived = s256(verifier) if method == "S256" else verifier
    return hmac.compare_digest(derived.encode(), challenge.encode())


def check_redirect_uri(uri: str) -> str:
    """A redirect URI an app may register: absolute https (http only on loopback, RFC 8252),
    no fragment (RFC 6749 §3.1.2), no user info."""
    uri = uri.strip()
    parts = urlsplit(uri)
    host = (parts.hostname or "").lower()
    secure = parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK_HOSTS)
    if len(uri) > MAX_URI_CHARS or not secure or not host or parts.fragment or "#" in uri:
        raise OAuthError(
            "invalid_request",
            f"Invalid redirect URI '{uri[:200]}': use an absolute https URL without a fragment "
            "(http only for localhost).",
        )
    if parts.username or parts.password:
        raise OAuthError("invalid_request", "Redirect URIs may not contain credentials.")
    return uri


def new_client_id() -> str:
    return CLIENT_ID_PREFIX + secrets.token_hex(12)


def new_secret(prefix: str = CLIENT_SECRET_PREFIX) -> tuple[str, str]:
    """A fresh high-entropy secret and its SHA-256 digest."""
    secret = prefix + secrets.token_urlsafe(TOKEN_BYTES)
    return secret, hash_token(secret)


def new_code() -> tuple[str, str]:
    """An authorization code of 32 random bytes, and its digest."""
    return new_secret(prefix="")


def new_client_token() -> tuple[str, str, str]:
    """A client token: its row id, the secret (``dpai_ct_...``) and its digest."""
    secret, digest = new_secret(prefix=CLIENT_TOKEN_PREFIX)
    return CLIENT_TOKEN_ID_PREFIX + uuid.uuid4().hex, secret, digest
