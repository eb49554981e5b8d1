"""``GET /models``: the models the caller's plan allows, in OpenAI's list format."""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.edge.deps import ApiDep

router = APIRouter(tags=["models"])


@router.get("/models")
async def list_models(api: ApiDep) -> Response:
    response = await api.services.accounts.ListModels(
        accounts_pb.ListModelsRequest(credential=api.credential),
        timeout=api.settings.accounts_timeout_s,
    )
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
