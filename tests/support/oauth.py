"""The OAuth code grant driven over the accounts service's RPCs: registering an app,
issuing and exchanging codes, and what a client token then asks Authorize."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import oauth_service_pb2 as oauth_pb
from tests.support.accounts import Account, Stubs, make_account

REDIRECT_URI = "https://app.example.com/callback"


@dataclass(frozen=True)
class RegisteredApp:
    client_id: str
    client_secret: str
    owner: Account


async def register_app(
    stubs: Stubs, owner: Account | None = None, redirect_uris: tuple[str, ...] = (REDIRECT_URI,)
) -> RegisteredApp:
    owner = owner or await make_account(stubs.accounts)
    created = await stubs.oauth.CreateApp(
        oauth_pb.CreateAppRequest(
            email=owner.email, name=f"App {uuid.uuid4().hex[:6]}", redirect_uris=redirect_uris
        )
    )
    return RegisteredApp(created.app.client_id, created.client_secret, owner)


def authorization(app: RegisteredApp, **fields: str) -> oauth_pb.CheckAuthorizationRequest:
    values = {"client_id": app.client_id, "redirect_uri": REDIRECT_URI, "response_type": "code"}
    return oauth_pb.CheckAuthorizationRequest(**(values | fields))


async def issue(stubs: Stubs, app: RegisteredApp, user: Account, **fields: str) -> str:
    request = oauth_pb.IssueCodeRequest(
        user_id=user.user_id, authorization=authorization(app, **fields)
    )
    return (await stubs.oauth.IssueCode(request)).code


def exchange_request(
    app: RegisteredApp, code: str, *, secret: str | None = None, **fields: str
) -> oauth_pb.ExchangeCodeRequest:
    client = oauth_pb.ClientCredentials(
        client_id=app.client_id, client_secret=app.client_secret if secret is None else secret
    )
    values = {"code": code, "redirect_uri": REDIRECT_URI}
    return oauth_pb.ExchangeCodeRequest(client=client, **(values | fields))


async def token_for(stubs: Stubs, app: RegisteredApp, user: Account, **fields: str) -> str:
    """A client token ``user`` granted ``app`` (code issued, then exchanged)."""
    code = await issue(stubs, app, user, **fields)
    return (await stubs.oauth.ExchangeCode(exchange_request(app, code))).access_token


def authorize(
    token: str, kind: accounts_pb.UsageKind = accounts_pb.USAGE_KIND_CHAT
) -> accounts_pb.AuthorizeRequest:
    model = "claude-haiku-4-5" if kind == accounts_pb.USAGE_KIND_CHAT else ""
    return accounts_pb.AuthorizeRequest(credential=token, kind=kind, model=model)
