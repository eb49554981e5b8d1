"""Users and API keys over real gRPC: creation rules, plan limits, secrets at rest."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.common.v1 import errors_pb2
from drafter.rpc.errors import RemoteError, error_from_rpc
from drafter.services.accounts.db.tables import metadata, users_t
from drafter.services.accounts.settings import AccountsSettings
from drafter.services.accounts.users.tokens import hash_token, verify_password
from tests.support.accounts import Account, make_account

Stub = accounts_grpc.AccountsServiceStub


async def rpc_error(call: object) -> RemoteError:
    with pytest.raises(grpc.RpcError) as caught:
        await call  # type: ignore[misc]
    return error_from_rpc(caught.value)


async def test_create_user_uses_default_plan_and_argon2(stub: Stub, engine: AsyncEngine) -> None:
    reply = await stub.CreateUser(
        accounts_pb.CreateUserRequest(email="Ada@Example.com", password="s3cret-pass")
    )
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(users_t).where(users_t.c.id == reply.user_id))).one()
    assert (row.email, row.plan, row.blocked) == ("Ada@Example.com", "free", False)
    assert row.password_hash.startswith("$argon2id$")
    assert verify_password(row.password_hash, "s3cret-pass")
    assert not verify_password(row.password_hash, "wrong-pass")


async def test_email_is_unique_case_insensitively(stub: Stub) -> None:
    await stub.CreateUser(accounts_pb.CreateUserRequest(email="bob@example.com", password="x" * 8))
    error = await rpc_error(
        stub.CreateUser(accounts_pb.CreateUserRequest(email="BOB@example.COM", password="y" * 8))
    )
    assert error.code == grpc.StatusCode.ALREADY_EXISTS


@pytest.mark.parametrize(
    ("email", "plan", "password", "param"),
    [
        ("not-an-email", "", "long enough", "email"),
        ("c@example.com", "gold", "long enough", "plan"),
        ("c@example.com", "", "short", "password"),
    ],
)
async def test_create_user_validates_input(
    stub: Stub, email: str, plan: str, password: str, param: str
) -> None:
    error = await rpc_error(
        stub.CreateUser(accounts_pb.CreateUserRequest(email=email, plan=plan, password=password))
    )
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.metadata["param"] == param


async def test_set_plan_of_unknown_user_is_not_found(stub: Stub) -> None:
    error = await rpc_error(
        stub.SetUserPlan(accounts_pb.SetUserPlanRequest(email="nobody@example.com", plan="pro"))
    )
    assert error.code == grpc.StatusCode.NOT_FOUND


async def test_api_key_shape(stub: Stub) -> None:
    await stub.CreateUser(accounts_pb.CreateUserRequest(email="k@example.com", password="x" * 8))
    key = await stub.CreateApiKey(accounts_pb.CreateApiKeyRequest(email="k@example.com"))
    assert key.secret.startswith("dp_") and len(key.secret) >= 3 + 43
    assert key.prefix == key.secret[:7]
    assert key.key_id


async def test_key_limit_follows_the_plan(stub: Stub, account: Account) -> None:
    request = accounts_pb.CreateApiKeyRequest(email=account.email, name="second")
    error = await rpc_error(stub.CreateApiKey(request))
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    assert error.reason == errors_pb2.ERROR_REASON_PLAN_LIMIT
    assert error.metadata["limit"] == "1"
    await stub.SetUserPlan(accounts_pb.SetUserPlanRequest(email=account.email, plan="pro"))
    for _ in range(4):
        await stub.CreateApiKey(request)
    assert (await rpc_error(stub.CreateApiKey(request))).metadata["limit"] == "5"


async def _all_cells(engine: AsyncEngine) -> str:
    cells: list[str] = []
    async with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in (await conn.execute(sa.select(table))).all():
                cells.extend(str(value) for value in row)
    return "\n".join(cells)


async def test_keys_are_stored_only_hashed(
    stub: Stub, engine: AsyncEngine, settings: AccountsSettings
) -> None:
    account = await make_account(stub)
    await stub.Authorize(
        accounts_pb.AuthorizeRequest(
            credential=account.key, kind=accounts_pb.USAGE_KIND_CHAT, model="claude-haiku"
        )
    )
    dump = await _all_cells(engine)
    assert hash_token(account.key) in dump
    assert account.key not in dump
    assert account.key[7:] not in dump  # not even the part after the display prefix
    if engine.dialect.name == "sqlite":
        db_file = Path(engine.url.database or "")
        for path in (db_file, db_file.with_name(db_file.name + "-wal")):
            if path.exists():
                assert account.key[7:].encode() not in path.read_bytes()


async def test_check_database(stub: Stub, settings: AccountsSettings) -> None:
    reply = await stub.CheckDatabase(accounts_pb.CheckDatabaseRequest())
    expected = "sqlite" if settings.database_url.startswith("sqlite") else "postgresql"
    assert reply.backend == expected
    assert 0 < reply.latency_ms < 1000
