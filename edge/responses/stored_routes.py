"""The stored responses of the Responses API, as OpenAI serves them:
``GET /responses/{id}`` (the response object as the client got it; ``stream=true``, the
replay of its events, is a 400), ``DELETE /responses/{id}`` and
``GET /responses/{id}/input_items`` (the request's own input items, a cursor page:
``limit`` 1..100, default 20; ``order`` ``desc`` (default) or ``asc``; ``after`` an item
id). ``include`` is accepted: what it names is kept in the stored items already. An id
that is not the caller's stored response is OpenAI's 404.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from drafter.edge.deps import ApiDep
from drafter.edge.errors import APIError, invalid_request
from drafter.edge.responses.store import delete_stored, get_stored

router = APIRouter(tags=["responses"])

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
ORDERS: tuple[str, str] = ("asc", "desc")
_TRUE = ("true", "1")
_FALSE = ("false", "0", "")


def _json(payload: dict[str, Any]) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


def _bad(message: str, param: str, code: str) -> APIError:
    return APIError(400, message, "invalid_request_error", param, code=code)


def _invalid_value(param: str, value: str, supported: tuple[str, str]) -> APIError:
    first, second = supported
    message = (
        f"Invalid value for '{param}': '{value}'. Supported values are: '{first}' and '{second}'."
    )
    return _bad(message, param, "invalid_value")


def _no_stream(request: Request) -> None:
    """``stream=true`` asks for the replay of a response's events, which Drafter does not
    keep: a 400 naming ``stream``."""
    value = request.query_params.get("stream", "").strip().lower()
    if value in _TRUE:
        raise invalid_request(
            "Streaming a stored response is not supported; retrieve it with stream=false.",
            "stream",
        )
    if value not in _FALSE:
        raise _invalid_value("stream", value, ("true", "false"))


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        message = f"Invalid 'limit': expected an integer, but got '{raw}' instead."
        raise _bad(message, "limit", "invalid_type") from None
    if limit < 1:
        message = (
            "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got "
            f"{limit} instead."
        )
        raise _bad(message, "limit", "integer_below_min_value")
    if limit > MAX_LIMIT:
        message = (
            f"Invalid 'limit': integer above maximum value. Expected a value <= {MAX_LIMIT}, "
            f"but got {limit} instead."
        )
        raise _bad(message, "limit", "integer_above_max_value")
    return limit


def _order(request: Request) -> str:
    order = request.query_params.get("order", "desc")
    if order not in ORDERS:
        raise _invalid_value("order", order, ORDERS)
    return order


def item_page(
    items: list[dict[str, Any]], *, limit: int, order: str, after: str | None
) -> dict[str, Any]:
    """One page of ``items`` in OpenAI's list shape: in ``order`` (``desc``: the last item
    first), starting after the item whose id is ``after`` (an unknown id: an empty page)."""
    ordered = items if order == "asc" else items[::-1]
    if after:
        ids = [item.get("id") for item in ordered]
        ordered = ordered[ids.index(after) + 1 :] if after in ids else []
    data = ordered[:limit]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0].get("id") if data else None,
        "last_id": data[-1].get("id") if data else None,
        "has_more": len(ordered) > limit,
    }


@router.get("/responses/{response_id}")
async def retrieve_response(response_id: str, request: Request, api: ApiDep) -> Response:
    _no_stream(request)
    stored = await get_stored(api, response_id)
    return _json(stored.response)


@router.delete("/responses/{response_id}")
async def delete_response(response_id: str, api: ApiDep) -> Response:
    await delete_stored(api, response_id)
    return _json({"id": response_id, "object": "response", "deleted": True})


@router.get("/responses/{response_id}/input_items")
async def list_input_items(response_id: str, request: Request, api: ApiDep) -> Response:
    limit, order = _limit(request), _order(request)
    stored = await get_stored(api, response_id)
    after = request.query_params.get("after") or None
    return _json(item_page(stored.input_items, limit=limit, order=order, after=after))
