"""OAuth apps the user registered (create, edit redirect URIs, rotate the secret, delete)
and the apps the user authorised (Connected Applications, with revoke)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from drafter.accounts.v1 import dashboard_service_pb2 as dash_pb
from drafter.accounts.v1 import oauth_service_pb2 as oauth_pb
from drafter.edge.web.dashboard.page import FormDep, Page, PageDep, done, shows_failures

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
    found = await page.services.oauth.ListApps(
        oauth_pb.ListAppsRequest(user_id=page.user.user_id), timeout=page.timeout
    )
    return page.render(
        "apps.html",
        status=status,
        apps=found.apps,
        error=error,
        secret=secret,
        secret_client_id=client_id,
        notice=page.notice(NOTICES),
    )


@router.get(APPS)
async def apps_page(page: PageDep) -> Response:
    return await _apps_page(page)


@router.post(APPS)
@shows_failures(_apps_page)
async def create_app(page: FormDep) -> Response:
    message = oauth_pb.CreateAppRequest(
        user_id=page.user.user_id,
        name=page.form.get("name", ""),
        redirect_uris=_uris(page.form.get("redirect_uris", "")),
        homepage=page.form.get("homepage", ""),
    )
    created = await page.services.oauth.CreateApp(message, timeout=page.timeout)
    return await _apps_page(
        page, status=201, secret=created.client_secret, client_id=created.app.client_id
    )


@router.post(APPS + "/{client_id}/update")
@shows_failures(_apps_page)
async def update_app(client_id: str, page: FormDep) -> Response:
    message = dash_pb.UpdateAppRequest(
        user_id=page.user.user_id,
        client_id=client_id,
        name=page.form.get("name", ""),
        redirect_uris=_uris(page.form.get("redirect_uris", "")),
        homepage=page.form.get("homepage", ""),
    )
    await page.services.dashboard.UpdateApp(message, timeout=page.timeout)
    return done(APPS, "updated")


@router.post(APPS + "/{client_id}/rotate")
@shows_failures(_apps_page)
async def rotate_secret(client_id: str, page: FormDep) -> Response:
    message = oauth_pb.RotateAppSecretRequest(user_id=page.user.user_id, client_id=client_id)
    rotated = await page.services.oauth.RotateAppSecret(message, timeout=page.timeout)
    return await _apps_page(page, secret=rotated.client_secret, client_id=client_id)


@router.post(APPS + "/{client_id}/delete")
@shows_failures(_apps_page)
async def delete_app(client_id: str, page: FormDep) -> Response:
    message = oauth_pb.DeleteAppRequest(user_id=page.user.user_id, client_id=client_id)
    await page.services.oauth.DeleteApp(message, timeout=page.timeout)
    return done(APPS, "deleted")


async def _connections_page(page: Page, *, status: int = 200, error: str = "") -> Response:
    found = await page.services.oauth.ListConnections(
        oauth_pb.ListConnectionsRequest(user_id=page.user.user_id), timeout=page.timeout
    )
    return page.render(
        "connections.html",
        status=status,
        connections=found.connections,
        error=error,
        notice=page.notice(NOTICES),
    )


@router.get(CONNECTIONS)
async def connections_page(page: PageDep) -> Response:
    return await _connections_page(page)


@router.post(CONNECTIONS + "/{client_id}/revoke")
@shows_failures(_connections_page)
async def revoke_connection(client_id: str, page: FormDep) -> Response:
    message = oauth_pb.RevokeConnectionRequest(user_id=page.user.user_id, client_id=client_id)
    await page.services.oauth.RevokeConnection(message, timeout=page.timeout)
    return done(CONNECTIONS, "revoked")
