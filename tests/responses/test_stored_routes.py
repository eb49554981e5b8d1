"""Stored responses through the edge with the real openai SDK: ``responses.retrieve``,
``responses.delete`` and ``responses.input_items.list`` (OpenAI's cursor pages, both
orders, ``after``) under ``/v1`` and ``/api/v1``, on responses stored through the edge's
own ``store`` module; another user's id and an unknown one are OpenAI's 404; the query
parameters are checked as OpenAI checks them; a store that fails never fails the caller;
``previous_response_id`` loads the conversation. The edge calls a real accounts service
over gRPC on loopback and in process, as ``drafter up`` does. The last test creates a
response with the SDK (``drafter up`` on the fake upstream) and reads it back."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import pytest_asyncio
from fastapi import FastAPI

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import accounts_service_pb2_grpc as accounts_grpc
from drafter.edge.app import create_app
from drafter.edge.deps import ApiContext
from drafter.edge.errors import APIError
from drafter.edge.responses.store import load_conversation, store_response
from drafter.edge.settings import EdgeSettings
from drafter.limits import RESPONSE_STORE_MAX_BYTES
from drafter.rpc.server import RunningServer
from drafter.services.accounts.main import start as start_accounts
from drafter.services.accounts.settings import AccountsSettings
from tests.fakes.anthropic_server import FakeAnthropic, Reply
from tests.support.accounts import make_account

BASE = "http://testserver"


@pytest_asyncio.fixture
async def accounts(tmp_path: Path) -> AsyncIterator[RunningServer]:
    """An accounts service of the test's own (response ids are global)."""
    tmp = tmp_path
    running = await start_accounts(
        AccountsSettings(data_dir=tmp / "accounts", database_url=f"sqlite:///{tmp / 'db.db'}"),
        "127.0.0.1:0",
    )
    yield running
    await running.stop(0)


@dataclass
class Edge:
    app: FastAPI
    http: httpx.AsyncClient
    key: str
    other_key: str

    def sdk(self, prefix: str = "/v1", key: str | None = None) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            api_key=key or self.key, base_url=BASE + prefix, http_client=self.http, max_retries=0
        )

    def api(self, key: str | None = None) -> ApiContext:
        """What a route of this edge gets for ``key`` (the owner's by default)."""
        state = self.app.state
        return ApiContext(key or self.key, state.services, state.settings, state.accounting)

    async def store(self, response_id: str, input_items: list[dict[str, Any]]) -> None:
        await store_response(
            self.api(),
            response=response_object(response_id),
            input_items=input_items,
            conversation=[*input_items, {"type": "message", "role": "assistant"}],
            previous_response_id="",
            instructions="Be brief.",
        )


def response_object(response_id: str, text: str = "Stored hello") -> dict[str, Any]:
    """A response as OpenAI shapes it (what the POST route stores)."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": 1_765_000_000,
        "status": "completed",
        "model": "claude-haiku-4-5",
        "output": [
            {
                "id": "msg_out",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "instructions": "Be brief.",
        "error": None,
        "incomplete_details": None,
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0,
        "usage": {
            "input_tokens": 5,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 2,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 7,
        },
    }


def user_items(count: int) -> list[dict[str, Any]]:
    return [
        {"id": f"msg_{i:03d}", "type": "message", "role": "user", "content": f"item {i}"}
        for i in range(count)
    ]


@pytest_asyncio.fixture(params=["grpc", "in-process"])
async def edge(
    request: pytest.FixtureRequest, accounts: RunningServer, tmp_path: Path
) -> AsyncIterator[Edge]:
    settings = EdgeSettings(
        data_dir=tmp_path / "edge",
        accounts_addr=f"127.0.0.1:{accounts.port}",
        chat_addr=f"127.0.0.1:{accounts.port}",
        images_addr=f"127.0.0.1:{accounts.port}",
        public_url=BASE,
    )
    local = {"accounts": accounts.local.channel()} if request.param == "in-process" else None
    app = create_app(settings, local)
    stub = accounts_grpc.AccountsServiceStub(accounts.local.channel())
    owner, other = await make_account(stub), await make_account(stub)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE, timeout=30) as http:
            yield Edge(app, http, owner.key, other.key)


@pytest.mark.parametrize("prefix", ["/v1", "/api/v1"])
async def test_retrieve_answers_the_stored_response(edge: Edge, prefix: str) -> None:
    await edge.store("resp_stored1", user_items(1))
    client = edge.sdk(prefix)

    response = await client.responses.retrieve("resp_stored1")
    with_include = await client.responses.retrieve(
        "resp_stored1", include=["reasoning.encrypted_content"], stream=False
    )

    assert response.id == "resp_stored1"
    assert response.output_text == "Stored hello"
    assert response.usage is not None and response.usage.total_tokens == 7
    assert with_include.model_dump() == response.model_dump()


async def test_retrieve_refuses_a_stream(edge: Edge) -> None:
    await edge.store("resp_stream", user_items(1))
    headers = {"Authorization": f"Bearer {edge.key}"}

    reply = await edge.http.get("/v1/responses/resp_stream?stream=true", headers=headers)

    assert reply.status_code == 400
    error = reply.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", "stream")
    assert "stream" in error["message"]
    with pytest.raises(openai.BadRequestError) as caught:
        await edge.sdk().responses.retrieve("resp_stream", stream=True)
    assert caught.value.param == "stream"


@pytest.mark.parametrize("prefix", ["/v1", "/api/v1"])
async def test_delete_answers_openais_shape_and_the_response_is_gone(
    edge: Edge, prefix: str
) -> None:
    await edge.store("resp_gone", user_items(1))
    headers = {"Authorization": f"Bearer {edge.key}"}

    await edge.sdk(prefix).responses.delete("resp_gone")  # the SDK answers None
    await edge.store("resp_gone2", user_items(1))
    raw = await edge.http.delete(f"{prefix}/responses/resp_gone2", headers=headers)

    assert raw.status_code == 200
    assert raw.json() == {"id": "resp_gone2", "object": "response", "deleted": True}
    for response_id in ("resp_gone", "resp_gone2"):
        with pytest.raises(openai.NotFoundError):
            await edge.sdk(prefix).responses.retrieve(response_id)
        with pytest.raises(openai.NotFoundError):
            await edge.sdk(prefix).responses.delete(response_id)


@pytest.mark.parametrize("prefix", ["/v1", "/api/v1"])
async def test_another_users_and_unknown_ids_are_openais_404(edge: Edge, prefix: str) -> None:
    await edge.store("resp_private", user_items(2))
    headers = {"Authorization": f"Bearer {edge.other_key}"}
    calls = [
        ("GET", "resp_private"),
        ("DELETE", "resp_private"),
        ("GET", "resp_private/input_items"),
        ("GET", "resp_unknown"),
    ]
    for method, path in calls:
        reply = await edge.http.request(method, f"{prefix}/responses/{path}", headers=headers)
        assert reply.status_code == 404, (method, path)
        assert reply.json() == {
            "error": {
                "message": f"Response with id '{path.split('/')[0]}' not found.",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        }
    other = edge.sdk(prefix, edge.other_key)
    with pytest.raises(openai.NotFoundError):
        await other.responses.retrieve("resp_private")
    with pytest.raises(openai.NotFoundError):
        await other.responses.input_items.list("resp_private")
    # The owner still has it.
    assert (await edge.sdk(prefix).responses.retrieve("resp_private")).id == "resp_private"


async def test_unauthenticated_calls_are_401(edge: Edge) -> None:
    for method in ("GET", "DELETE"):
        reply = await edge.http.request(method, "/v1/responses/resp_x")
        assert reply.status_code == 401
        assert reply.json()["error"]["type"] == "authentication_error"


@pytest.mark.parametrize("prefix", ["/v1", "/api/v1"])
async def test_input_items_are_listed_in_openais_pages(edge: Edge, prefix: str) -> None:
    await edge.store("resp_items", user_items(25))
    client = edge.sdk(prefix)

    first = await client.responses.input_items.list("resp_items")
    ascending = [
        item.id
        async for item in client.responses.input_items.list("resp_items", order="asc", limit=10)
    ]
    after = await client.responses.input_items.list(
        "resp_items", order="asc", after="msg_020", limit=3
    )
    last = await client.responses.input_items.list("resp_items", after="msg_004")

    assert [item.id for item in first.data] == [f"msg_{i:03d}" for i in range(24, 4, -1)]
    extra = first.model_extra or {}  # the SDK's page keeps OpenAI's cursors as extra fields
    assert (extra["first_id"], extra["last_id"], first.has_more) == ("msg_024", "msg_005", True)
    assert ascending == [f"msg_{i:03d}" for i in range(25)]  # three pages, cursor by cursor
    assert [item.id for item in after.data] == ["msg_021", "msg_022", "msg_023"]
    assert after.has_more
    assert [item.id for item in last.data] == ["msg_003", "msg_002", "msg_001", "msg_000"]
    assert not last.has_more
    raw = await edge.http.get(
        f"{prefix}/responses/resp_items/input_items?limit=1&order=asc",
        headers={"Authorization": f"Bearer {edge.key}"},
    )
    assert raw.json() == {
        "object": "list",
        "data": [
            {
                "id": "msg_000",
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "item 0"}],
            }
        ],
        "first_id": "msg_000",
        "last_id": "msg_000",
        "has_more": True,
    }


async def test_items_sent_without_ids_get_ids_that_stay(edge: Edge) -> None:
    await edge.store(
        "resp_noids", [{"role": "user", "content": "Hi"}, {"role": "user", "content": "again"}]
    )
    client = edge.sdk()

    first = await client.responses.input_items.list("resp_noids", order="asc")
    again = await client.responses.input_items.list("resp_noids", order="asc")

    ids = [item.id for item in first.data]
    assert ids == [item.id for item in again.data]
    assert all(i.startswith("msg_") for i in ids) and len(set(ids)) == 2
    assert first.data[0].type == "message"
    assert first.data[0].content[0].type == "input_text"


@pytest.mark.parametrize(
    ("query", "param", "code"),
    [
        ("limit=0", "limit", "integer_below_min_value"),
        ("limit=101", "limit", "integer_above_max_value"),
        ("limit=ten", "limit", "invalid_type"),
        ("order=newest", "order", "invalid_value"),
    ],
)
async def test_list_parameters_are_checked(edge: Edge, query: str, param: str, code: str) -> None:
    await edge.store("resp_params", user_items(1))
    reply = await edge.http.get(
        f"/v1/responses/resp_params/input_items?{query}",
        headers={"Authorization": f"Bearer {edge.key}"},
    )
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)


async def test_limit_100_is_accepted(edge: Edge) -> None:
    await edge.store("resp_many", user_items(101))
    page = await edge.sdk().responses.input_items.list("resp_many", limit=100)
    assert len(page.data) == 100 and page.has_more


async def test_a_failed_store_is_logged_and_never_raised(
    edge: Edge, caplog: pytest.LogCaptureFixture
) -> None:
    huge = [
        {
            "id": "msg_big",
            "type": "message",
            "role": "user",
            "content": "x" * RESPONSE_STORE_MAX_BYTES,
        }
    ]
    with caplog.at_level(logging.WARNING, logger="drafter.edge"):
        await edge.store("resp_huge", huge)
        await store_response(
            edge.api("dp_not_a_key"),
            response=response_object("resp_badkey"),
            input_items=[],
            conversation=[],
            previous_response_id="",
            instructions="",
        )
    assert "resp_huge not stored" in caplog.text
    assert "resp_badkey not stored: UNAUTHENTICATED" in caplog.text
    assert "dp_not_a_key" not in caplog.text
    for response_id in ("resp_huge", "resp_badkey"):
        with pytest.raises(openai.NotFoundError):
            await edge.sdk().responses.retrieve(response_id)


async def test_load_conversation_continues_the_callers_own_response(edge: Edge) -> None:
    await edge.store("resp_prev", user_items(2))

    loaded = await load_conversation(edge.api(), "resp_prev")

    assert loaded.response_id == "resp_prev"
    assert loaded.instructions == "Be brief."
    assert [item.get("id") for item in loaded.conversation] == ["msg_000", "msg_001", None]
    for api in (edge.api(edge.other_key), edge.api()):
        name = "resp_prev" if api.credential == edge.other_key else "resp_missing"
        with pytest.raises(APIError) as caught:
            await load_conversation(api, name)
        assert caught.value.status == 404
        assert caught.value.body()["error"] == {
            "message": f"Previous response with id '{name}' not found.",
            "type": "invalid_request_error",
            "param": "previous_response_id",
            "code": "previous_response_not_found",
        }


async def test_lookups_count_as_api_calls_but_continuations_do_not(
    edge: Edge, accounts: RunningServer
) -> None:
    stub = accounts_grpc.AccountsServiceStub(accounts.local.channel())

    async def api_calls() -> int:
        usage = await stub.GetUsage(accounts_pb.GetUsageRequest(credential=edge.key))
        return int(usage.api_calls)

    await edge.store("resp_counted", user_items(1))
    await load_conversation(edge.api(), "resp_counted")
    before = await api_calls()
    client = edge.sdk()
    await client.responses.retrieve("resp_counted")
    await client.responses.input_items.list("resp_counted")
    await client.responses.delete("resp_counted")
    assert await api_calls() == before + 1 + 3


@pytest.mark.slow
def test_a_response_created_with_the_sdk_is_retrieved_listed_and_deleted(
    client: openai.OpenAI, fake_anthropic: FakeAnthropic
) -> None:
    """``drafter up`` on the fake upstream (this folder's ``client``): what POST stored
    (``store`` is OpenAI's default) is what GET answers."""
    fake_anthropic.enqueue(Reply(text="Stored for later"))

    created = client.responses.create(model="claude-haiku-4-5", input="Remember this")
    retrieved = client.responses.retrieve(created.id)
    items = client.responses.input_items.list(created.id)

    assert retrieved.id == created.id
    assert retrieved.output_text == created.output_text == "Stored for later"
    cursors = items.model_extra or {}
    assert len(items.data) == 1
    item = items.data[0]
    assert cursors["first_id"] == cursors["last_id"] == item.id
    assert item.type == "message" and item.role == "user"
    assert item.content[0].type == "input_text" and item.content[0].text == "Remember this"

    client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)
