"""CORS on the API paths only (``DRAFTER_CORS_ORIGINS``).

The OpenAI-compatible paths (``/api/v1/...`` and ``/v1/...``) may be called from any web
page, as OpenAI's API may: ``Access-Control-Allow-Origin: *`` and never
``Access-Control-Allow-Credentials`` (an API key is a header, not a cookie). A list of
origins narrows that: a listed origin is echoed back with ``Vary: Origin``; an origin
not listed gets no CORS headers at all (only ``Vary: Origin``, for caches). The pages
(sign-in, dashboard, status), OAuth and every other path are never opened to other
origins: their requests, preflights included, go to the app untouched (a preflight
there is a plain 405 or 404).

The headers themselves are Starlette's ``CORSMiddleware``; ``ApiCors`` only chooses, by
path and origin, whether a request goes through it. It sits outside every other
middleware, so a preflight is answered before the body limit, authentication or any
quota sees it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_PATHS = ("/api/v1", "/v1")
# Response headers a browser client may read: the request id, and what OpenAI's SDK
# reads to decide whether and when to retry.
EXPOSED_HEADERS = ("x-request-id", "retry-after", "x-should-retry")
# How long a browser may cache a preflight (Chromium caps it at two hours).
PREFLIGHT_MAX_AGE_S = 7200

_ORIGIN = re.compile(r"https?://(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:[0-9]{1,5})?")


@dataclass(frozen=True, slots=True)
class CorsOrigins:
    """The origins allowed to call the API paths; ``everyone`` for ``*``."""

    origins: frozenset[str] = frozenset()
    everyone: bool = False

    @classmethod
    def parse(cls, spec: str | Iterable[str]) -> CorsOrigins:
        """From ``"https://app.example.com, http://localhost:5173"`` or ``"*"``;
        ValueError names the item that is not ``http(s)://host[:port]``."""
        items = spec.split(",") if isinstance(spec, str) else list(spec)
        origins: set[str] = set()
        for raw in items:
            item = raw.strip()
            if not item:
                continue
            if item == "*":
                return cls(frozenset(), everyone=True)
            origin = item.lower()
            match = _ORIGIN.fullmatch(origin)
            port = match.group(3) if match else None
            if match is None or (port is not None and not 0 < int(port[1:]) < 65536):
                raise ValueError(
                    f"{item!r} is not an origin: expected http(s)://host[:port] "
                    "(no path, no trailing slash) or *"
                )
            origins.add(origin)
        return cls(frozenset(origins))

    def allows(self, origin: str) -> bool:
        return self.everyone or origin in self.origins


def is_api_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in API_PATHS)


class ApiCors:
    """Starlette's ``CORSMiddleware`` for API requests from an allowed origin; every
    other request goes straight to ``app``."""

    def __init__(self, app: ASGIApp, allowed: CorsOrigins) -> None:
        self.app = app
        self.allowed = allowed
        self.cors = CORSMiddleware(
            app,
            allow_origins=("*",) if allowed.everyone else tuple(sorted(allowed.origins)),
            allow_methods=("*",),
            allow_headers=("*",),
            allow_credentials=False,
            expose_headers=EXPOSED_HEADERS,
            max_age=PREFLIGHT_MAX_AGE_S,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_api_path(scope["path"]):
            origin = Headers(scope=scope).get("origin")
            if origin is not None and self.allowed.allows(origin):
                await self.cors(scope, receive, send)
                return
            if not self.allowed.everyone:
                # The answer depends on the origin: no cache may hand it to another.
                await self.app(scope, receive, _vary_origin(send))
                return
        await self.app(scope, receive, send)


def _vary_origin(send: Send) -> Send:
    async def send_varying(message: Message) -> None:
        if message["type"] == "http.response.start":
            message.setdefault("headers", [])
            MutableHeaders(scope=message).add_vary_header("Origin")
        await send(message)

    return send_varying
