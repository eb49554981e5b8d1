"""API keys in the dashboard: create (the secret shown once), rename, revoke. The plan's
key limit is the accounts service's rule; its message is shown as is."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import dashboard_service_pb2 as dash_pb
from drafter.edge.web.dashboard.page import FormDep, Page, PageDep, done, shows_failures

router = APIRouter(tags=["dashboard"], include_in_schema=False)

PATH = "/dashboard/keys"
NOTICES = {"renamed": "Key renamed.", "revoked": "Key revoked. It stops working at once."}


async def _keys_page(
    page: Page, *, status: int = 200, error: str = "", secret: str = ""
) -> Response:
    keys = await page.services.accounts.ListApiKeys(
        accounts_pb.ListApiKeysRequest(user_id=page.user.user_id), timeout=page.timeout
    )
    usage = await page.services.dashboard.GetAccountUsage(
        dash_pb.GetAccountUsageRequest(user_id=page.user.user_id), timeout=page.timeout
    )
    return page.render(
        "keys.html",
        status=status,
        keys=keys.keys,
        plan=usage.plan,
        error=error,
        secret=secret,
        notice=page.notice(NOTICES),
    )


@router.get(PATH)
async def keys_page(page: PageDep) -> Response:
    return await _keys_page(page)


@router.post(PATH)
@shows_failures(_keys_page)
async def create_key(page: FormDep) -> Response:
    message = accounts_pb.CreateApiKeyRequest(
        user_id=page.user.user_id, name=page.form.get("name", "")
    )
    created = await page.services.accounts.CreateApiKey(message, timeout=page.timeout)
    return await _keys_page(page, status=201, secret=created.secret)


@router.post(PATH + "/{key_id}/rename")
@shows_failures(_keys_page)
async def rename_key(key_id: str, page: FormDep) -> Response:
    message = accounts_pb.RenameApiKeyRequest(
        user_id=page.user.user_id, key_id=key_id, name=page.form.get("name", "")
    )
    await page.services.accounts.RenameApiKey(message, timeout=page.timeout)
    return done(PATH, "renamed")


@router.post(PATH + "/{key_id}/revoke")
@shows_failures(_keys_page)
async def revoke_key(key_id: str, page: FormDep) -> Response:
    message = accounts_pb.RevokeApiKeyRequest(user_id=page.user.user_id, key_id=key_id)
    await page.services.accounts.RevokeApiKey(message, timeout=page.timeout)
    return done(PATH, "revoked")
