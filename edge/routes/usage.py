"""``GET /usage``: today's usage, limits and what remains, in the seed's shape. One round
trip (GetUsage authenticates and counts the call itself)."""

from __future__ import annotations

import grpc
import orjson
from fastapi import APIRouter
from starlette.responses import Response

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from edge.deps import ApiCallDep
from edge.errors import api_error_from_rpc

router = APIRouter(tags=["usage"])


def _counts(counts: accounts_pb.UsageCounts) -> dict[str, int]:
    return {"chat": counts.chat, "imageGen": counts.image_gen, "imageEdit": counts.image_edit}


@router.get("/usage")
async def get_usage(call: ApiCallDep) -> Response:
    try:
        reply = await call.services.accounts.GetUsage(
            accounts_pb.GetUsageRequest(credential=call.credential),
            timeout=call.settings.accounts_timeout_s,
        )
    except grpc.RpcError as exc:
        raise api_error_from_rpc(exc) from None
    body = {
        "plan": reply.plan,
        "today": {**_counts(reply.today), "apiCalls": reply.api_calls, "tokens": reply.tokens},
        "limits": _counts(reply.limits),
        "remaining": _counts(reply.remaining),
    }
    return Response(orjson.dumps(body), media_type="application/json")
