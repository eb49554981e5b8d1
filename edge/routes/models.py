"""``GET /models``: the models the caller's plan allows, in OpenAI's list format."""

from __future__ import annotations

import grpc
import orjson
from fastapi import APIRouter
from starlette.responses import Response

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from edge.deps import ApiCallDep
from edge.errors import api_error_from_rpc

router = APIRouter(tags=["models"])


@router.get("/models")
async def list_models(call: ApiCallDep) -> Response:
    try:
        response = await call.services.accounts.ListModels(
            accounts_pb.ListModelsRequest(credential=call.credential),
            timeout=call.settings.accounts_timeout_s,
        )
    except grpc.RpcError as exc:
        raise api_error_from_rpc(exc) from None
    data = [
        {
            "id": m.id,
            "object": "model",
            "created": m.created.seconds,
            "owned_by": m.owned_by,
        }
        for m in response.models
    ]
    return Response(orjson.dumps({"object": "list", "data": data}), media_type="application/json")
