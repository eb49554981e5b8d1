"""Authorize over real gRPC: authentication, plan model access, aliases, blocked users."""

from __future__ import annotations

import asyncio

import grpc
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.common.v1 import errors_pb2
from drafter.rpc.errors import RemoteError, error_from_rpc
from drafter.services.accounts.db.tables import api_keys_t
from tests.support.accounts import Account, make_account
from tests.support.clock import FakeClock

CHAT = accounts_pb.USAGE_KIND_CHAT


async def authorize_error(
    stub: accounts_grpc.AccountsServiceStub,
    credential: str,
    model: str = "claude-haiku-4-5",
    kind: accounts_pb.UsageKind = CHAT,
) -> RemoteError:
    with pytest.raises(grpc.RpcError) as caught:
        await stub.Authorize(
            accounts_pb.AuthorizeRequest(credential=credential, kind=kind, model=model)
        )
    return error_from_rpc(caught.value)


async def test_authorize_returns_caller_reservation_and_model(
    stub: accounts_grpc.AccountsServiceStub, account: Account
) -> None:
    reply = await stub.Authorize(
        accounts_pb.AuthorizeRequest(credential=account.key, kind=CHAT, model="claude-haiku-4-5")
    )
    assert reply.caller.user_id == account.user_id
    assert reply.caller.plan == "free"
    assert reply.caller.credential_id
    assert reply.model == "claude-haiku-4-5"
    assert reply.reservation_id.startswith("rsv_")
    assert len(reply.reservation_id) >= 32


async def test_alias_resolves_to_canonical_id(
    stub: accounts_grpc.AccountsServiceStub, account: Account
) -> None:
    for alias in ("claude-haiku", "claude-haiku-4-5-20250506", "CLAUDE-HAIKU-4-5"):
        reply = await stub.Authorize(
            accounts_pb.AuthorizeRequest(credential=account.key, kind=CHAT, model=alias)
        )
        assert reply.model == "claude-haiku-4-5"


@pytest.mark.parametrize(
    "credential", ["dp_" + "x" * 43, "sk-not-ours", "", "dpai_ct_unknowntoken"]
)
async def test_unknown_credential_is_unauthenticated(
    stub: accounts_grpc.AccountsServiceStub, credential: str
) -> None:
    error = await authorize_error(stub, credential)
    assert error.code == grpc.StatusCode.UNAUTHENTICATED
    assert error.reason == errors_pb2.ERROR_REASON_INVALID_CREDENTIAL
    assert error.message == "Invalid API key"


async def test_wrong_key_is_not_echoed(
    stub: accounts_grpc.AccountsServiceStub, account: Account
) -> None:
    wrong = account.key[:-2] + ("aa" if not account.key.endswith("aa") else "bb")
    error = await authorize_error(stub, wrong)
    assert error.code == grpc.StatusCode.UNAUTHENTICATED
    assert wrong not in error.message and account.key[3:12] not in error.message


async def test_revoked_key_is_unauthenticated(
    stub: accounts_grpc.AccountsServiceStub, account: Account
) -> None:
    await stub.Authorize(
        accounts_pb.AuthorizeRequest(credential=account.key, kind=CHAT, model="claude-haiku")
    )  # now cached
    await stub.RevokeApiKey(
        accounts_pb.RevokeApiKeyRequest(user_id=account.user_id, key_id=account.key_id)
    )
    error = await authorize_error(stub, account.key)
    assert error.code == grpc.StatusCode.UNAUTHENTICATED
    assert error.message == "Invalid API key"


async def test_model_not_in_plan_is_permission_denied(
    stub: accounts_grpc.AccountsServiceStub, account: Account
) -> None:
    error = await authorize_error(stub, account.key, model="claude-opus")
    assert error.code == grpc.StatusCode.PERMISSION_DENIED
    assert error.reason == errors_pb2.ERROR_REASON_MODEL_NOT_IN_PLAN
    assert "claude-opus-4-6" in error.message and "Free" in error.message


async def test_unknown_model_is_not_found(
    stub: accounts_grpc.AccountsServiceStub, account: Account
) -> None:
    error = await authorize_error(stub, account.key, model="gpt-4o")
    assert error.code == grpc.StatusCode.NOT_FOUND
    assert error.reason == errors_pb2.ERROR_REASON_MODEL_NOT_FOUND


async def test_chat_without_model_is_invalid(
    stub: accounts_grpc.AccountsServiceStub, account: Account
) -> None:
    error = await authorize_error(stub, account.key, model="")
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_image_kinds_need_no_plan_model(
    stub: accounts_grpc.AccountsServiceStub, account: Account
) -> None:
    for kind, model in (
        (accounts_pb.USAGE_KIND_IMAGE_GEN, "nano-banano-pro"),
        (accounts_pb.USAGE_KIND_IMAGE_EDIT, ""),
    ):
        reply = await stub.Authorize(
            accounts_pb.AuthorizeRequest(credential=account.key, kind=kind, model=model)
        )
        assert reply.model == model


async def test_blocked_user_is_permission_denied(
    stub: accounts_grpc.AccountsServiceStub, account: Account
) -> None:
    await stub.ListModels(accounts_pb.ListModelsRequest(credential=account.key))  # cached
    await stub.SetUserBlocked(accounts_pb.SetUserBlockedRequest(email=account.email, blocked=True))
    error = await authorize_error(stub, account.key)
    assert error.code == grpc.StatusCode.PERMISSION_DENIED
    assert error.reason == errors_pb2.ERROR_REASON_ACCOUNT_BLOCKED
    assert error.message == "Account blocked"


async def test_plan_change_takes_effect_on_next_request(
    stub: accounts_grpc.AccountsServiceStub, account: Account
) -> None:
    assert (await authorize_error(stub, account.key, model="claude-sonnet-4-6")).reason == (
        errors_pb2.ERROR_REASON_MODEL_NOT_IN_PLAN
    )
    await stub.SetUserPlan(accounts_pb.SetUserPlanRequest(email=account.email, plan="pro"))
    reply = await stub.Authorize(
        accounts_pb.AuthorizeRequest(credential=account.key, kind=CHAT, model="claude-sonnet")
    )
    assert reply.caller.plan == "pro"
    assert reply.model == "claude-sonnet-4-6"


async def test_last_used_at_is_set(
    stub: accounts_grpc.AccountsServiceStub, account: Account, engine: AsyncEngine, clock: FakeClock
) -> None:
    await stub.Authorize(
        accounts_pb.AuthorizeRequest(credential=account.key, kind=CHAT, model="claude-haiku")
    )
    last = None
    for _ in range(100):  # last_used_at is written in the next usage batch
        async with engine.connect() as conn:
            last = (
                await conn.execute(
                    sa.select(api_keys_t.c.last_used_at).where(
                        api_keys_t.c.user_id == account.user_id
                    )
                )
            ).scalar_one()
        if last is not None:
            break
        await asyncio.sleep(0.02)
    assert last is not None
    assert last.replace(tzinfo=None) == clock().replace(tzinfo=None)


async def test_list_models_follows_the_plan(
    stub: accounts_grpc.AccountsServiceStub, account: Account
) -> None:
    free = await stub.ListModels(accounts_pb.ListModelsRequest(credential=account.key))
    assert [m.id for m in free.models] == ["claude-haiku-4-5", "nano-banano-pro"]
    assert all(m.created.seconds > 0 and m.owned_by for m in free.models)
    plus = await make_account(stub, plan="plus")
    reply = await stub.ListModels(accounts_pb.ListModelsRequest(credential=plus.key))
    assert [m.id for m in reply.models] == [
        "claude-haiku-4-5",
        "claude-sonnet-4-5",
        "claude-sonnet-4-6",
        "claude-opus-4-5",
        "claude-opus-4-6",
        "nano-banano-pro",
    ]
