"""API keys in the dashboard: create (the secret shown once), rename, revoke. The plan's
key limit is the accounts service's rule; its message is shown as is."""

from __future__ import annotations

import grpc
from fastapi import APIRouter, Request
from starlette.responses import Response

from drafter.accounts.v1 import accounts_service_pb2 as accounts_pb
from drafter.accounts.v1 import dashboard_service_pb2 as dash_pb
from edge.routes.dashboard_page import Page, done, failure, open_form, open_page
from edge.web.context import WebDep

router = APIRouter(tags=["dashboard"], include_in_schema=False)

PATH = "/dashboard/keys"
NOTICES = {"renamed": "Key renamed.", "revoked": "Key revoked. It stops working at once."}


async def _keys_page(
    page: Page, *, status: int = 200, error: str = "", secret: str = ""
) -> Response:
    keys = await page.accounts.ListApiKeys(
        accounts_pb.ListApiKeysRequest(user_id=page.user.user_id), timeout=page.timeout
    )
    usage = await page.dashboard.GetAccountUsage(
        dash_pb.GetAccountUsageRequest(user_id=page.user.user_id), timeout=page.timeout
    )
    return page.render(
        "keys.html",
        status=status,
        keys=keys.keys,
        plan=usage.plan,
        error=error,
        secret=secret,
        notice=NOTICES.get(page.request.query_params.get("done", ""), ""),
    )


@router.get(PATH)
async def keys_page(request: Request, web: WebDep) -> Response:
    page = await open_page(request, web)
    if not isinstance(page, Page):
        return page
    return await _keys_page(page)


@router.post(PATH)
async def create_key(request: Request, web: WebDep) -> Response:
    page = await open_form(request, web)
    if not isinstance(page, Page):
        return page
    message = accounts_pb.CreateApiKeyRequest(
        user_id=page.user.user_id, name=page.form.get("name", "")
    )
    try:
        created = await page.accounts.CreateApiKey(message, timeout=page.timeout)
    except grpc.RpcError as exc:
        status, text = failure(exc)
        return await _keys_page(page, status=status, error=text)
    return await _keys_page(page, status=201, secret=created.secret)


@router.post(PATH + "/{key_id}/rename")
async def rename_key(key_id: str, request: Request, web: WebDep) -> Response:
    page = await open_form(request, web)
    if not isinstance(page, Page):
        return page
    message = accounts_pb.RenameApiKeyRequest(
        user_id=page.user.user_id, key_id=key_id, name=page.form.get("name", "")
    )
    try:
        await page.accounts.RenameApiKey(message, timeout=page.timeout)
    except grpc.RpcError as exc:
        status, text = failure(exc)
        return await _keys_page(page, status=status, error=text)
    return done(PATH, "renamed")


@router.post(PATH + "/{key_id}/revoke")
async def revoke_key(key_id: str, request: Request, web: WebDep) -> Response:
    page = await open_form(request, web)
    if not isinstance(page, Page):
        return page
    message = accounts_pb.RevokeApiKeyRequest(user_id=page.user.user_id, key_id=key_id)
    try:
        await page.accounts.RevokeApiKey(message, timeout=page.timeout)
    except grpc.RpcError as exc:
        status, text = failure(exc)
        return await _keys_page(page, status=status, error=text)
    return done(PATH, "revoked")
