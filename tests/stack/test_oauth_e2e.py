"""OAuth end to end through ``drafter up``: a third-party app with its own HTTP server on
loopback sends a browser to Drafter, the user signs up / logs in and approves, the app
checks ``state``, exchanges the code (with PKCE) and chats through the OpenAI SDK with the
client token."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import openai
import pytest

from drafter.services.accounts.oauth.rules import s256
from tests.fakes.anthropic_server import FakeAnthropic
from tests.oauth.web_helpers import PASSWORD, csrf_of, hidden_fields
from tests.support.stack import DrafterStack


class ThirdPartyApp(ThreadingHTTPServer):
    """A minimal OAuth client: /login redirects to Drafter, /callback checks the state and
    exchanges the code for a token."""

    drafter_url = ""
    client_id = ""
    client_secret = ""
    state = ""
    verifier = ""
    token: dict[str, Any] | None = None

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/callback"


class Handler(BaseHTTPRequestHandler):
    server: ThirdPartyApp

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: str, location: str = "") -> None:
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body.encode())

    def do_GET(self) -> None:
        app, parts = self.server, urlsplit(self.path)
        if parts.path == "/login":
            app.state, app.verifier = secrets.token_urlsafe(16), secrets.token_urlsafe(48)
            query = urlencode(
                {
                    "client_id": app.client_id,
                    "redirect_uri": app.redirect_uri,
                    "response_type": "code",
                    "state": app.state,
                    "scope": "ai:chat",
                    "code_challenge": s256(app.verifier),
                    "code_challenge_method": "S256",
                }
            )
            return self._reply(302, "", f"{app.drafter_url}/oauth/authorize?{query}")
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if params.get("state") != app.state:
            return self._reply(403, "Invalid state")
        response = httpx.post(
            f"{app.drafter_url}/oauth/token",
            json={
                "grant_type": "authorization_code",
                "code": params["code"],
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "redirect_uri": app.redirect_uri,
                "code_verifier": app.verifier,
            },
        )
        app.token = response.json()
        self._reply(200 if response.status_code == 200 else 502, "connected")


@pytest.fixture
def third_party_app() -> Iterator[ThirdPartyApp]:
    server = ThirdPartyApp(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def follow(browser: httpx.Client, response: httpx.Response) -> httpx.Response:
    assert response.status_code in (302, 303), response.text
    return browser.get(response.headers["location"])


def test_third_party_app_chats_for_a_user(
    drafter_up: DrafterStack, third_party_app: ThirdPartyApp, fake_anthropic: FakeAnthropic
) -> None:
    drafter_up.admin("user", "create", "developer@example.com", "--password", PASSWORD)
    created = drafter_up.admin(
        "app",
        "create",
        "developer@example.com",
        "--name",
        "Loopback Notes",
        "--redirect-uri",
        third_party_app.redirect_uri,
    )
    client = json.loads(created.stdout.strip().splitlines()[-1])
    app = third_party_app
    app.drafter_url, app.client_id = drafter_up.base_url, client["client_id"]
    app.client_secret = client["client_secret"]
    app_url = f"http://127.0.0.1:{app.server_address[1]}"

    with httpx.Client(base_url=drafter_up.base_url, timeout=30) as browser:
        page = browser.get("/auth/signup")
        form = {"email": "reader@example.com", "password": PASSWORD, "csrf_token": csrf_of(page)}
        assert browser.post("/auth/signup", data=form).status_code == 303
        out = browser.post("/auth/logout", data={"csrf_token": csrf_of(browser.get("/auth/login"))})
        assert out.status_code == 303

        to_drafter = browser.get(f"{app_url}/login")
        login_redirect = follow(browser, to_drafter)
        assert login_redirect.status_code == 303
        login_page = follow(browser, login_redirect)
        next_path = parse_qs(urlsplit(login_redirect.headers["location"]).query)["next"][0]
        logged_in = browser.post(
            "/auth/login",
            data={
                "email": "reader@example.com",
                "password": PASSWORD,
                "next": next_path,
                "csrf_token": csrf_of(login_page),
            },
        )
        consent = follow(browser, logged_in)
        assert "Loopback Notes" in consent.text and "Approve" in consent.text
        fields = {**hidden_fields(consent), "decision": "approve"}
        approved = browser.post("/oauth/authorize", data=fields)
        assert approved.headers["location"].startswith(app.redirect_uri + "?code=")
        forged = browser.get(f"{app.redirect_uri}?code=x&state=not-the-state")
        assert forged.status_code == 403
        assert follow(browser, approved).status_code == 200

    token = app.token
    assert token is not None and token["access_token"].startswith("dpai_ct_")
    assert token["scope"] == "ai:chat" and token["app_name"] == "Loopback Notes"
    fake_anthropic.enqueue(text="Hello from the app", usage={"input_tokens": 3, "output_tokens": 2})
    ai = openai.OpenAI(api_key=token["access_token"], base_url=drafter_up.api_url, max_retries=0)
    completion = ai.chat.completions.create(
        model="claude-haiku-4-5", messages=[{"role": "user", "content": "Hi"}]
    )
    assert completion.choices[0].message.content == "Hello from the app"
    with pytest.raises(openai.PermissionDeniedError):  # the token has ai:chat only
        ai.images.generate(prompt="a cat", model="nano-banano-pro", size="256x256")
