"""An internal consumer of ChatService, as the edge is one: it reserves with the end
user's credential (AccountsService.Authorize), names the reservation to the chat service
and settles it, so the user's plan and quota apply to work that never passed the edge;
without a reservation the chat service serves nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from grpc import aio

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.rpc.channels import open_channel
from drafter.services.accounts.main import start as start_accounts
from drafter.services.accounts.settings import AccountsSettings
from drafter.services.chat.main import start as start_chat
from tests.chat.conftest import chat_request, chat_settings
from tests.fakes.anthropic_server import FakeAnthropic
from tests.support.accounts import make_account, used_today

# A key of this deployment's own, shared by its accounts and chat services.
RESERVATION_KEY = "consumer-test-reservation-key-7hQ2mX9vB4nR6tK1pW8s"
FREE_CHAT_LIMIT = 20  # the built-in free plan


@pytest_asyncio.fixture(loop_scope="session")
async def stubs(
    tmp_path: Path, fake_anthropic_server: FakeAnthropic
) -> AsyncIterator[tuple[accounts_grpc.AccountsServiceStub, chat_grpc.ChatServiceStub]]:
    fake_anthropic_server.reset()
    accounts = await start_accounts(
        AccountsSettings(
            data_dir=tmp_path / "accounts",
            database_url=f"sqlite:///{tmp_path / 'drafter.db'}",
            reservation_key=RESERVATION_KEY,
        ),
        "127.0.0.1:0",
    )
    chat = await start_chat(
        chat_settings(fake_anthropic_server, reservation_key=RESERVATION_KEY), "127.0.0.1:0"
    )
    accounts_channel = open_channel(f"127.0.0.1:{accounts.port}", accounts.auth)
    chat_channel = open_channel(f"127.0.0.1:{chat.port}", chat.auth)
    yield (
        accounts_grpc.AccountsServiceStub(accounts_channel),
        chat_grpc.ChatServiceStub(chat_channel),
    )
    await accounts_channel.close()
    await chat_channel.close()
    await chat.stop(0)
    await accounts.stop(0)
    fake_anthropic_server.reset()


async def test_the_end_users_quota_pays_for_an_internal_consumers_chat(
    stubs: tuple[accounts_grpc.AccountsServiceStub, chat_grpc.ChatServiceStub],
    fake_anthropic_server: FakeAnthropic,
) -> None:
    accounts, chat = stubs
    account = await make_account(accounts)
    granted = await accounts.Authorize(
        accounts_pb.AuthorizeRequest(
            credential=account.key, kind=accounts_pb.USAGE_KIND_CHAT, model="claude-haiku-4-5"
        )
    )
    answer = await chat.Complete(
        chat_pb.CompleteRequest(
            request=chat_request((chat_pb.ROLE_USER, "hi"), model=granted.model),
            reservation_id=granted.reservation_id,
        ),
        timeout=10,
    )
    assert answer.choices[0].content
    await accounts.Settle(
        accounts_pb.SettleRequest(
            reservation_id=granted.reservation_id,
            outcome=accounts_pb.OUTCOME_SUCCEEDED,
            units_used=1,
            usage=answer.usage,
        )
    )
    assert await used_today(accounts, account) == 1
    assert len(fake_anthropic_server.requests) == 1


async def test_an_exhausted_user_gets_no_reservation_and_so_no_chat(
    stubs: tuple[accounts_grpc.AccountsServiceStub, chat_grpc.ChatServiceStub],
    fake_anthropic_server: FakeAnthropic,
) -> None:
    accounts, chat = stubs
    account = await make_account(accounts)
    authorize = accounts_pb.AuthorizeRequest(
        credential=account.key, kind=accounts_pb.USAGE_KIND_CHAT, model="claude-haiku-4-5"
    )
    for _ in range(FREE_CHAT_LIMIT):
        await accounts.Authorize(authorize)
    with pytest.raises(aio.AioRpcError) as exhausted:
        await accounts.Authorize(authorize)
    assert exhausted.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    # Without the reservation it was refused, the chat service serves nothing.
    with pytest.raises(aio.AioRpcError) as refused:
        await chat.Complete(
            chat_pb.CompleteRequest(request=chat_request((chat_pb.ROLE_USER, "hi"))), timeout=10
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert fake_anthropic_server.requests == []
