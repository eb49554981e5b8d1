"""``GET /models`` and ``GET /models/{id}``: the models the caller's plan allows.

OpenAI's shapes (``{"object": "list", "data": [...]}``, a ``model`` object); Anthropic's
(``{"data", "has_more", "first_id", "last_id"}``, a ``{"type": "model", ...}`` object) when
the request carries ``anthropic-version`` or ``x-api-key``, as Anthropic's SDKs send. One
model is found by id or alias (the model table's, ``DRAFTER_MODELS_FILE`` or the built-in
one) and answered under its id; a name that is unknown or outside the plan is a 404
``model_not_found``, as OpenAI answers a model the caller cannot use.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.edge.deps import ApiContext, ApiDep
from drafter.edge.errors import ANTHROPIC_HEADERS, APIError, api_error_from_remote
from drafter.model_table import ModelNotFound, ModelTable, load_model_table
from drafter.rpc.errors import RemoteError

router = APIRouter(tags=["models"])


@lru_cache(maxsize=4)
def _model_table(path: Path | None) -> ModelTable:
    return load_model_table(path)


def _wants_anthropic_shape(request: Request) -> bool:
    return any(name in request.headers for name in ANTHROPIC_HEADERS)


def _openai_model(model: accounts_pb.Model) -> dict[str, Any]:
    return {
        "id": model.id,
        "object": "model",
        "created": model.created.seconds,
        "owned_by": model.owned_by,
    }


def _anthropic_model(model: accounts_pb.Model) -> dict[str, Any]:
    created = datetime.fromtimestamp(model.created.seconds, UTC)
    return {
        "type": "model",
        "id": model.id,
        "display_name": display_name(model.id),
        "created_at": created.isoformat().replace("+00:00", "Z"),
    }


def display_name(model_id: str) -> str:
    """A model's name as Anthropic displays it: ``claude-haiku-4-5`` → "Claude Haiku 4.5"
    (a name of another form is shown as its id)."""
    words = model_id.split("-")
    if len(words) < 3 or words[0] != "claude" or not all(w.isdigit() for w in words[2:]):
        return model_id
    return f"Claude {words[1].capitalize()} {'.'.join(words[2:])}"


def _json(payload: dict[str, Any]) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")


async def _allowed_models(api: ApiContext) -> list[accounts_pb.Model]:
    response = await api.services.accounts.ListModels(
        accounts_pb.ListModelsRequest(credential=api.credential),
        timeout=api.settings.accounts_timeout_s,
    )
    return list(response.models)


@router.get("/models")
async def list_models(request: Request, api: ApiDep) -> Response:
    models = await _allowed_models(api)
    if _wants_anthropic_shape(request):
        data = [_anthropic_model(m) for m in models]
        first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
        return _json({"data": data, "has_more": False, "first_id": first, "last_id": last})
    return _json({"object": "list", "data": [_openai_model(m) for m in models]})


@router.get("/models/{model_name:path}")
async def retrieve_model(model_name: str, request: Request, api: ApiDep) -> Response:
    models = {m.id: m for m in await _allowed_models(api)}
    spec = _model_table(api.settings.models_file).get(model_name)
    model = models.get(spec.id) if spec is not None else models.get(model_name)
    if model is None:
        raise _not_found(model_name)
    if _wants_anthropic_shape(request):
        return _json(_anthropic_model(model))
    return _json(_openai_model(model))


def _not_found(name: str) -> APIError:
    """The 404 ``model_not_found`` of the status table, naming the model."""
    err = ModelNotFound(
        f"The model `{name}` does not exist or you do not have access to it.",
        metadata={"param": "model", "model": name},
    )
    return api_error_from_remote(RemoteError(err.code, err.message, err.reason, err.metadata))
