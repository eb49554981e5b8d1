"""The size cap of a stored response (``RESPONSE_STORE_MAX_BYTES``, SQLite and
PostgreSQL): one just under it is stored; one over it is refused with
PAYLOAD_TOO_LARGE, logged, and nothing of it is kept."""

from __future__ import annotations

import logging

import grpc
import orjson
import pytest

from drafter.accounts.v1 import responses_service_pb2 as responses_pb
from drafter.common.v1 import errors_pb2
from drafter.limits import RESPONSE_STORE_MAX_BYTES
from drafter.rpc.errors import error_from_rpc
from tests.accounts.responses.conftest import Service
from tests.accounts.responses.support import get_request, store_request
from tests.support.accounts import Account


def _sized(account: Account, response_id: str, size: int) -> responses_pb.StoreResponseRequest:
    request = store_request(account, response_id)
    padding = size - request.ByteSize()
    # The padding goes into the response text (whose length prefix grows by a few bytes).
    body = orjson.loads(request.response_json)
    body["output"][0]["content"][0]["text"] = "x" * padding
    request.response_json = orjson.dumps(body)
    while request.ByteSize() > size:
        body["output"][0]["content"][0]["text"] = body["output"][0]["content"][0]["text"][1:]
        request.response_json = orjson.dumps(body)
    request.instructions += "y" * (size - request.ByteSize())  # the last few bytes
    return request


async def test_a_response_at_the_cap_is_stored(service: Service, alice: Account) -> None:
    request = _sized(alice, "resp_big", RESPONSE_STORE_MAX_BYTES)
    assert request.ByteSize() == RESPONSE_STORE_MAX_BYTES

    await service.responses.StoreResponse(request)

    got = await service.responses.GetResponse(get_request(alice, "resp_big"))
    assert len(got.response_json) > RESPONSE_STORE_MAX_BYTES - 1024


async def test_a_response_over_the_cap_is_not_stored(
    service: Service, alice: Account, caplog: pytest.LogCaptureFixture
) -> None:
    request = _sized(alice, "resp_huge", RESPONSE_STORE_MAX_BYTES)
    request.response_json += b" "
    assert request.ByteSize() > RESPONSE_STORE_MAX_BYTES

    logged = caplog.at_level(logging.WARNING, logger="drafter.accounts.responses")
    with logged, pytest.raises(grpc.aio.AioRpcError) as caught:
        await service.responses.StoreResponse(request)

    err = error_from_rpc(caught.value)
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert err.reason == errors_pb2.ERROR_REASON_PAYLOAD_TOO_LARGE
    assert "resp_huge not stored" in caplog.text
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await service.responses.GetResponse(get_request(alice, "resp_huge"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
