"""OAuth apps the user registered (create, edit redirect URIs, rotate the secret, delete)
and the apps the user authorised (Connected Applications, with revoke)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc
from fastapi import APIRouter, Request
from starlette.responses import Response

from drafter.accounts.v1 import dashboard_service_pb2 as dash_pb
from drafter.accounts.v1 import oauth_service_pb2 as oauth_pb
from edge.routes.dashboard_page import Page, done, failure, open_form, open_page
from edge.web.context import WebDep

router = APIRouter(tags=["dashboard"], include_in_schema=False)

APPS = "/dashboard/apps"
CONNECTIONS = "/dashboard/connections"
NOTICES = {
    "updated": "App updated.",
    "deleted": "App deleted; every token it held is revoked.",
    "revoked": "Access revoked. The app's tokens stop working at once.",
}


def _uris(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


async def _apps_page(
    page: Page, *, status: int = 200, error: str = "", secret: str = "", client_id: str = ""
) -> Response:
    found = await page.oauth.ListApps(
        oauth_pb.ListAppsRequest(user_id=page.user.user_id), timeout=page.timeout
    )
    return page.render(
        "apps.html",
        status=status,
        apps=found.apps,
        error=error,
        secret=secret,
        secret_client_id=client_id,
        notice=NOTICES.get(page.request.query_params.get("done", ""), ""),
    )


@router.get(APPS)
async def apps_page(request: Request, web: WebDep) -> Response:
    page = await open_page(request, web)
    return page if not isinstance(page, Page) else await _apps_page(page)


@router.post(APPS)
async def create_app(request: Request, web: WebDep) -> Response:
    page = await open_form(request, web)
    if not isinstance(page, Page):
        return page
    message = oauth_pb.CreateAppRequest(
        user_id=page.user.user_id,
        name=page.form.get("name", ""),
        redirect_uris=_uris(page.form.get("redirect_uris", "")),
        homepage=page.form.get("homepage", ""),
    )
    try:
        created = await page.oauth.CreateApp(message, timeout=page.timeout)
    except grpc.RpcError as exc:
        status, text = failure(exc)
        return await _apps_page(page, status=status, error=text)
    return await _apps_page(
        page, status=201, secret=created.client_secret, client_id=created.app.client_id
    )


async def _app_action(
    request: Request, web: WebDep, action: Callable[[Page], Awaitable[Response]]
) -> Response:
    page = await open_form(request, web)
    if not isinstance(page, Page):
        return page
    try:
        return await action(page)
    except grpc.RpcError as exc:
        status, text = failure(exc)
        return await _apps_page(page, status=status, error=text)


@router.post(APPS + "/{client_id}/update")
async def update_app(client_id: str, request: Request, web: WebDep) -> Response:
    async def action(page: Page) -> Response:
        message = dash_pb.UpdateAppRequest(
            user_id=page.user.user_id,
            client_id=client_id,
            name=page.form.get("name", ""),
            redirect_uris=_uris(page.form.get("redirect_uris", "")),
            homepage=page.form.get("homepage", ""),
        )
        await page.dashboard.UpdateApp(message, timeout=page.timeout)
        return done(APPS, "updated")

    return await _app_action(request, web, action)


@router.post(APPS + "/{client_id}/rotate")
async def rotate_secret(client_id: str, request: Request, web: WebDep) -> Response:
    async def action(page: Page) -> Response:
        message = oauth_pb.RotateAppSecretRequest(user_id=page.user.user_id, client_id=client_id)
        rotated = await page.oauth.RotateAppSecret(message, timeout=page.timeout)
        return await _apps_page(page, secret=rotated.client_secret, client_id=client_id)

    return await _app_action(request, web, action)


@router.post(APPS + "/{client_id}/delete")
async def delete_app(client_id: str, request: Request, web: WebDep) -> Response:
    async def action(page: Page) -> Response:
        message = oauth_pb.DeleteAppRequest(user_id=page.user.user_id, client_id=client_id)
        await page.oauth.DeleteApp(message, timeout=page.timeout)
        return done(APPS, "deleted")

    return await _app_action(request, web, action)


async def _connections_page(page: Page, *, status: int = 200, error: str = "") -> Response:
    found = await page.oauth.ListConnections(
        oauth_pb.ListConnectionsRequest(user_id=page.user.user_id), timeout=page.timeout
    )
    notice = NOTICES.get(page.request.query_params.get("done", ""), "")
    return page.render(
        "connections.html",
        status=status,
        connections=found.connections,
        error=error,
        notice=notice,
    )


@router.get(CONNECTIONS)
async def connections_page(request: Request, web: WebDep) -> Response:
    page = await open_page(request, web)
    return page if not isinstance(page, Page) else await _connections_page(page)


@router.post(CONNECTIONS + "/{client_id}/revoke")
async def revoke_connection(client_id: str, request: Request, web: WebDep) -> Response:
    page = await open_form(request, web)
    if not isinstance(page, Page):
        return page
    message = oauth_pb.RevokeConnectionRequest(user_id=page.user.user_id, client_id=client_id)
    try:
        await page.oauth.RevokeConnection(message, timeout=page.timeout)
    except grpc.RpcError as exc:
        status, text = failure(exc)
        return await _connections_page(page, status=status, error=text)
    return done(CONNECTIONS, "revoked")
