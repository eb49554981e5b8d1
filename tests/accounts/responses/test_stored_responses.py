"""The ResponsesService on a real accounts service (SQLite and PostgreSQL): a response is
stored and read back whole, storing it again replaces it, it is deleted, another user's
id is NOT_FOUND for every call (and cannot be overwritten), reads and deletes count as
API calls while storing and continuing do not, the credential is checked, and a deleted
account's responses go with it."""

from __future__ import annotations

import datetime as dt

import grpc
import orjson
import pytest
import sqlalchemy as sa

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import dashboard_service_pb2 as dashboard_pb
from drafter.services.accounts.db.engine import create_engine
from drafter.services.accounts.db.tables import stored_responses_t
from drafter.services.accounts.settings import AccountsSettings
from tests.accounts.responses.conftest import Service
from tests.accounts.responses.support import (
    delete_request,
    get_request,
    response_object,
    store_request,
)
from tests.support.accounts import Account
from tests.support.clock import FakeClock


async def _rows(settings: AccountsSettings) -> list[tuple[str, str]]:
    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            stmt = sa.select(stored_responses_t.c.id, stored_responses_t.c.user_id)
            rows = (await conn.execute(stmt.order_by(stored_responses_t.c.id))).all()
            return [(str(row.id), str(row.user_id)) for row in rows]
    finally:
        await engine.dispose()


async def test_a_stored_response_is_read_back_whole(
    service: Service, alice: Account, clock: FakeClock
) -> None:
    stored = await service.responses.StoreResponse(
        store_request(alice, "resp_1", previous="resp_0", instructions="Answer in French.")
    )
    assert stored.expires_at.ToDatetime(dt.UTC) == clock() + dt.timedelta(days=30)

    got = await service.responses.GetResponse(get_request(alice, "resp_1"))

    assert orjson.loads(got.response_json) == response_object("resp_1")
    assert orjson.loads(got.input_items_json) == [
        {"id": "msg_1", "type": "message", "role": "user", "content": "Hi"}
    ]
    assert [item["content"] for item in orjson.loads(got.conversation_json)] == ["Hi", "Hello!"]
    assert got.previous_response_id == "resp_0"
    assert got.instructions == "Answer in French."
    assert got.created_at.ToDatetime(dt.UTC) == clock()


async def test_storing_the_same_id_again_replaces_it(
    service: Service, alice: Account, settings: AccountsSettings, clock: FakeClock
) -> None:
    await service.responses.StoreResponse(store_request(alice, "resp_1", text="first"))
    clock.advance(minutes=5)
    again = await service.responses.StoreResponse(store_request(alice, "resp_1", text="second"))

    got = await service.responses.GetResponse(get_request(alice, "resp_1"))
    assert orjson.loads(got.response_json) == response_object("resp_1", "second")
    assert again.expires_at.ToDatetime(dt.UTC) == clock() + dt.timedelta(days=30)
    assert await _rows(settings) == [("resp_1", alice.user_id)]


async def test_a_deleted_response_is_gone(service: Service, alice: Account) -> None:
    await service.responses.StoreResponse(store_request(alice, "resp_1"))
    await service.responses.StoreResponse(store_request(alice, "resp_2"))

    await service.responses.DeleteResponse(delete_request(alice, "resp_1"))

    for call in (
        service.responses.GetResponse(get_request(alice, "resp_1")),
        service.responses.DeleteResponse(delete_request(alice, "resp_1")),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert (await service.responses.GetResponse(get_request(alice, "resp_2"))).response_json


async def test_another_users_response_is_not_found(
    service: Service, alice: Account, bob: Account, settings: AccountsSettings
) -> None:
    await service.responses.StoreResponse(store_request(alice, "resp_a"))

    for call in (
        service.responses.GetResponse(get_request(bob, "resp_a")),
        service.responses.GetResponse(get_request(bob, "resp_a", continuation=True)),
        service.responses.DeleteResponse(delete_request(bob, "resp_a")),
        service.responses.GetResponse(get_request(bob, "resp_never")),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert "not found" in (caught.value.details() or "")

    with pytest.raises(grpc.aio.AioRpcError) as taken:
        await service.responses.StoreResponse(store_request(bob, "resp_a", text="bob's"))
    assert taken.value.code() == grpc.StatusCode.ALREADY_EXISTS
    got = await service.responses.GetResponse(get_request(alice, "resp_a"))
    assert orjson.loads(got.response_json) == response_object("resp_a")
    assert await _rows(settings) == [("resp_a", alice.user_id)]


async def _api_calls(service: Service, account: Account) -> int:
    usage = await service.accounts.GetUsage(accounts_pb.GetUsageRequest(credential=account.key))
    return int(usage.api_calls)


async def test_reads_and_deletes_count_as_api_calls_storing_and_continuing_do_not(
    service: Service, alice: Account
) -> None:
    await service.responses.StoreResponse(store_request(alice, "resp_1"))
    await service.responses.GetResponse(get_request(alice, "resp_1", continuation=True))
    assert await _api_calls(service, alice) == 0

    await service.responses.GetResponse(get_request(alice, "resp_1"))
    await service.responses.DeleteResponse(delete_request(alice, "resp_1"))
    with pytest.raises(grpc.aio.AioRpcError):  # a miss is a call made all the same
        await service.responses.GetResponse(get_request(alice, "resp_1"))

    assert await _api_calls(service, alice) == 1 + 3  # the first usage call counted too


async def test_the_credential_is_checked(service: Service, alice: Account) -> None:
    stranger = Account(email="", user_id="", key="dp_not_a_key", key_id="")
    for call in (
        service.responses.StoreResponse(store_request(stranger, "resp_1")),
        service.responses.GetResponse(get_request(stranger, "resp_1")),
        service.responses.DeleteResponse(delete_request(stranger, "resp_1")),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_an_id_is_required(service: Service, alice: Account) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.responses.GetResponse(get_request(alice, ""))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_deleted_accounts_responses_go_with_it(
    service: Service, alice: Account, bob: Account, settings: AccountsSettings
) -> None:
    await service.responses.StoreResponse(store_request(alice, "resp_a1"))
    await service.responses.StoreResponse(store_request(alice, "resp_a2"))
    await service.responses.StoreResponse(store_request(bob, "resp_b"))

    await service.dashboard.DeleteAccount(
        dashboard_pb.DeleteAccountRequest(user_id=alice.user_id, password="correct horse")
    )

    assert await _rows(settings) == [("resp_b", bob.user_id)]
