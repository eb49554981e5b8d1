"""The dashboard (``/dashboard/...``): server-rendered pages for signed-in users, one
module per page area, gathered into one router mounted at the root."""

from __future__ import annotations

from fastapi import APIRouter

from edge.routes import dashboard_account, dashboard_apps, dashboard_keys, dashboard_pages

router = APIRouter(include_in_schema=False)
for _area in (dashboard_pages, dashboard_keys, dashboard_apps, dashboard_account):
    router.include_router(_area.router)
