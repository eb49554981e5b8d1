"""Factories and calls on a running accounts service: users with a key, the stubs of its
services, and the quota calls the admission tests repeat."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.accounts.v1 import identity_service_pb2_grpc as identity_grpc
from drafter.accounts.v1 import oauth_service_pb2_grpc as oauth_grpc

Stub = accounts_grpc.AccountsServiceStub


@dataclass(frozen=True)
class Account:
    email: str
    user_id: str
    key: str
    key_id: str


@dataclass(frozen=True)
class Stubs:
    """Stubs of the accounts service's user-facing services, on one channel."""

    accounts: accounts_grpc.AccountsServiceStub
    oauth: oauth_grpc.OAuthServiceStub
    identity: identity_grpc.IdentityServiceStub


async def make_account(stub: Stub, plan: str = "free", email: str | None = None) -> Account:
    """A new user on ``plan`` with one API key (named "test")."""
    email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
    created = await stub.CreateUser(
        accounts_pb.CreateUserRequest(email=email, plan=plan, password="correct horse")
    )
    key = await stub.CreateApiKey(accounts_pb.CreateApiKeyRequest(email=email, name="test"))
    return Account(email=email, user_id=created.user_id, key=key.secret, key_id=key.key_id)


def chat_request(account: Account, units: int = 0) -> accounts_pb.AuthorizeRequest:
    return accounts_pb.AuthorizeRequest(
        credential=account.key,
        kind=accounts_pb.USAGE_KIND_CHAT,
        model="claude-haiku-4-5",
        units=units,
    )


async def used_today(stub: Stub, account: Account, kind: str = "chat") -> int:
    """Units counted today, as the usage API reports them (from the quota store)."""
    reply = await stub.GetUsage(accounts_pb.GetUsageRequest(credential=account.key))
    return {"chat": reply.today.chat, "imageGen": reply.today.image_gen}[kind]


async def exhaust(stub: Stub, account: Account, limit: int = 20) -> list[str]:
    """Reserves ``limit`` chat units; returns the reservation ids."""
    return [(await stub.Authorize(chat_request(account))).reservation_id for _ in range(limit)]
