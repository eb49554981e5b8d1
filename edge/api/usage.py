"""``GET /usage``: today's usage, limits and what remains, in the seed's shape. One round
trip (GetUsage authenticates and counts the call itself). ``today.tokens`` counts prompt
and completion tokens; of them, ``today.cachedTokens`` were read from the prompt cache (as
OpenAI's ``cached_tokens``) and ``today.cacheCreationTokens`` written to it."""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.edge.deps import ApiDep

router = APIRouter(tags=["usage"])


def _counts(counts: accounts_pb.UsageCounts) -> dict[str, int]:
    return {"chat": counts.chat, "imageGen": counts.image_gen, "imageEdit": counts.image_edit}


@router.get("/usage")
async def get_usage(api: ApiDep) -> Response:
    reply = await api.services.accounts.GetUsage(
        accounts_pb.GetUsageRequest(credential=api.credential),
        timeout=api.settings.accounts_timeout_s,
    )
    body = {
        "plan": reply.plan,
        "today": {
            **_counts(reply.today),
            "apiCalls": reply.api_calls,
            "tokens": reply.tokens,
            "cachedTokens": reply.cache_read_tokens,
            "cacheCreationTokens": reply.cache_creation_tokens,
        },
        "limits": _counts(reply.limits),
        "remaining": _counts(reply.remaining),
    }
    return Response(orjson.dumps(body), media_type="application/json")
