"""CSRF tokens for every form (RFC-agnostic "signed double submit").

A random nonce lives in an HttpOnly cookie; the form carries HMAC(nonce, session), signed
with DRAFTER_SECRET_KEY. A cross-site page can neither read the cookie nor compute the
MAC, and binding to the session means a token minted for one session (or for no session)
is useless in another. SameSite=Lax cookies are a second layer, not the only one.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from starlette.responses import Response

from drafter.edge.web.sessions import Signer, set_cookie

CSRF_COOKIE = "drafter_csrf"
CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE_S = 14 * 24 * 3600


def _nonce(request: Request) -> str:
    return request.cookies.get(CSRF_COOKIE, "")


def csrf_nonce(request: Request) -> tuple[str, bool]:
    """The request's nonce, or a new one (True: it must be set on the response)."""
    nonce = _nonce(request)
    if 20 <= len(nonce) <= 100:
        return nonce, False
    return secrets.token_urlsafe(32), True


def csrf_token(signer: Signer, nonce: str, session: str) -> str:
    return signer.mac("csrf", f"{nonce}|{session}")


def set_csrf_cookie(response: Response, request: Request, base_url: str, nonce: str) -> None:
    set_cookie(response, request, base_url, CSRF_COOKIE, nonce, CSRF_MAX_AGE_S)


def csrf_valid(request: Request, signer: Signer, presented: str, session: str) -> bool:
    """True when ``presented`` is the token for this browser's nonce and session."""
    nonce = _nonce(request)
    if not nonce or not presented:
        return False
    expected = csrf_token(signer, nonce, session)
    return hmac.compare_digest(expected.encode(), presented.encode())
