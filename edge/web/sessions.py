"""Signed cookies and the signed-in session.

A session is an opaque token issued by the accounts service (IdentityService), which keeps
only its digest, so log-out ends it for good. The cookie carries the token signed with
HMAC-SHA256 under DRAFTER_SECRET_KEY, so forged or tampered cookies are rejected here
without a round trip. Cookies are HttpOnly, SameSite=Lax, and Secure over https.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

import grpc
from fastapi import Request
from starlette.responses import Response

from drafter.accounts.v1 import identity_service_pb2 as identity_pb
from drafter.accounts.v1 import identity_service_pb2_grpc as identity_grpc

SESSION_COOKIE = "drafter_session"
SESSION_MAX_AGE_S = 14 * 24 * 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Signer:
    """HMAC-SHA256 signatures over ``purpose`` + value, with a key derived per purpose."""

    def __init__(self, secret_key: bytes) -> None:
        self._key = secret_key

    def mac(self, purpose: str, value: str) -> str:
        key = hmac.new(self._key, b"drafter:" + purpose.encode(), hashlib.sha256).digest()
        return _b64(hmac.new(key, value.encode(), hashlib.sha256).digest())

    def sign(self, purpose: str, value: str) -> str:
        return f"{value}.{self.mac(purpose, value)}"

    def unsign(self, purpose: str, signed: str) -> str | None:
        """The value of a signed string, or None when the signature does not match."""
        value, dot, signature = signed.rpartition(".")
        if not dot or not value:
            return None
        expected = self.mac(purpose, value)
        return value if hmac.compare_digest(expected.encode(), signature.encode()) else None


def is_https(request: Request, base_url: str) -> bool:
    return request.url.scheme == "https" or base_url.startswith("https://")


def set_cookie(
    response: Response, request: Request, base_url: str, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request, base_url),
    )


def set_session_cookie(
    response: Response, request: Request, base_url: str, signer: Signer, token: str
) -> None:
    signed = signer.sign("session", token)
    set_cookie(response, request, base_url, SESSION_COOKIE, signed, SESSION_MAX_AGE_S)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def session_token(request: Request, signer: Signer) -> str:
    """The session token of the request's cookie when its signature holds, else ''."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    return (signer.unsign("session", cookie) or "") if cookie else ""


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    user_id: str
    email: str
    plan: str


async def current_user(
    request: Request, signer: Signer, identity: identity_grpc.IdentityServiceStub, deadline_s: float
) -> SignedIn | None:
    """The signed-in user, or None (no cookie, a bad signature, an ended session)."""
    token = session_token(request, signer)
    if not token:
        return None
    try:
        found = await identity.GetSession(
            identity_pb.GetSessionRequest(token=token), timeout=deadline_s
        )
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
            return None
        raise
    session = found.session
    return SignedIn(token, session.user_id, session.email, session.plan)
