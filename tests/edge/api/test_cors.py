"""CORS: the API paths answer browser preflights and any origin (or only the listed ones,
``DRAFTER_CORS_ORIGINS``), never with credentials; the pages, sign-in, OAuth and every
other path are never opened to other origins."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from drafter.edge.app import create_app
from drafter.edge.server.cors import CorsOrigins, is_api_path
from drafter.edge.settings import EdgeSettings

PAGE = "https://chat.example.com"
OTHER = "https://evil.example.net"
API_PATHS = ("/v1/chat/completions", "/api/v1/models", "/api/v1/images/generations")
CLOSED_PATHS = ("/dashboard", "/auth/login", "/oauth/authorize", "/oauth/token", "/status")

EdgeFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def edge(tmp_path: Path) -> EdgeFactory:
    """The edge app with nothing behind it (no request here needs a service to answer)."""

    @asynccontextmanager
    async def start(**settings: object) -> AsyncIterator[httpx.AsyncClient]:
        port = _closed_port()
        app = create_app(
            EdgeSettings(
                data_dir=tmp_path / "edge",
                accounts_addr=f"127.0.0.1:{port}",
                chat_addr=f"127.0.0.1:{port}",
                images_addr=f"127.0.0.1:{port}",
                public_url="http://testserver",
                accounts_timeout_s=0.5,
                **settings,
            )
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                yield client

    return start


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


async def preflight(client: httpx.AsyncClient, path: str, origin: str) -> httpx.Response:
    return await client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-stainless-os",
        },
    )


@pytest.mark.parametrize("path", API_PATHS)
async def test_a_preflight_to_the_api_is_allowed_from_any_origin(
    edge: EdgeFactory, path: str
) -> None:
    async with edge() as client:
        response = await preflight(client, path, OTHER)
    assert response.status_code in (200, 204)
    headers = response.headers
    assert headers["access-control-allow-origin"] == "*"
    assert "POST" in headers["access-control-allow-methods"]
    assert headers["access-control-allow-headers"] == "authorization, content-type, x-stainless-os"
    assert int(headers["access-control-max-age"]) > 0
    assert "access-control-allow-credentials" not in headers


async def test_a_preflight_needs_no_key_and_is_not_refused_by_the_body_limit(
    edge: EdgeFactory,
) -> None:
    async with edge(max_body_bytes=1024) as client:
        response = await client.request(
            "OPTIONS",
            "/v1/chat/completions",
            headers={"Origin": PAGE, "Access-Control-Request-Method": "POST"},
            content=b"x" * 4096,
        )
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] == "*"


async def test_an_api_answer_to_any_origin_is_readable_with_its_headers(
    edge: EdgeFactory,
) -> None:
    async with edge(max_body_bytes=1024) as client:
        response = await client.post(
            "/v1/chat/completions", headers={"Origin": OTHER}, json={"model": "m"}
        )
        too_large = await client.post(
            "/api/v1/chat/completions", headers={"Origin": OTHER}, content=b"x" * 4096
        )
    assert response.status_code == 401  # no key: the browser may still read why
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"x-request-id", "retry-after", "x-should-retry"} <= exposed
    assert too_large.status_code == 413
    assert too_large.headers["access-control-allow-origin"] == "*"


async def test_listed_origins_are_echoed_and_others_get_nothing(edge: EdgeFactory) -> None:
    async with edge(cors_origins=f"{PAGE}, http://localhost:5173") as client:
        listed = await preflight(client, "/v1/chat/completions", PAGE)
        local = await client.get("/api/v1/models", headers={"Origin": "http://localhost:5173"})
        unlisted = await preflight(client, "/v1/chat/completions", OTHER)
        unlisted_post = await client.post(
            "/v1/chat/completions", headers={"Origin": OTHER}, json={}
        )
    assert listed.status_code in (200, 204)
    assert listed.headers["access-control-allow-origin"] == PAGE
    assert "origin" in listed.headers["vary"].lower()
    assert "access-control-allow-credentials" not in listed.headers
    assert local.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "origin" in local.headers["vary"].lower()
    assert "x-request-id" in local.headers["access-control-expose-headers"]
    for response in (unlisted, unlisted_post):
        assert _cors_headers(response) == {}
        assert "origin" in response.headers["vary"].lower()
    assert unlisted.status_code not in (200, 204)


async def test_no_origin_may_call_the_api_when_the_list_is_empty(edge: EdgeFactory) -> None:
    async with edge(cors_origins="") as client:
        response = await preflight(client, "/v1/models", PAGE)
    assert _cors_headers(response) == {}


@pytest.mark.parametrize("cors_origins", ["*", PAGE])
@pytest.mark.parametrize("path", CLOSED_PATHS)
async def test_pages_sign_in_oauth_and_status_are_never_opened(
    edge: EdgeFactory, path: str, cors_origins: str
) -> None:
    async with edge(cors_origins=cors_origins) as client:
        pre = await preflight(client, path, PAGE)
        plain = await client.get(path, headers={"Origin": PAGE})
    assert _cors_headers(pre) == {}
    assert pre.status_code not in (200, 204)
    assert _cors_headers(plain) == {}


def test_origins_must_be_scheme_host_and_port() -> None:
    assert CorsOrigins.parse("*").everyone
    assert CorsOrigins.parse("https://A.example.com, http://localhost:8080,").origins == {
        "https://a.example.com",
        "http://localhost:8080",
    }
    assert CorsOrigins.parse("http://[::1]:3000").allows("http://[::1]:3000")
    for wrong in (
        "a.example.com",
        "https://a.example.com/",
        "https://a.example.com/app",
        "ftp://a.example.com",
        "https://user@a.example.com",
        "https://a.example.com:99999",
        "null",
    ):
        with pytest.raises(ValueError, match="not an origin"):
            CorsOrigins.parse(f"https://ok.example.com, {wrong}")
        with pytest.raises(ValidationError):
            EdgeSettings(cors_origins=wrong)


def test_only_the_api_paths_are_api_paths() -> None:
    assert is_api_path("/v1/models") and is_api_path("/api/v1") and is_api_path("/api/v1/x")
    assert not is_api_path("/v1x") and not is_api_path("/api/v10/models")
    assert not is_api_path("/dashboard") and not is_api_path("/oauth/token")
