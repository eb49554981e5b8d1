"""The dashboard (``/dashboard/...``): server-rendered pages for signed-in users, one
module per page area (``overview``, ``keys``, ``apps``, ``support``, ``account``),
gathered into one router mounted at the root; ``page`` is what they share and ``chart``
the usage chart's geometry."""

from __future__ import annotations

from fastapi import APIRouter

from drafter.edge.web.dashboard import account, apps, keys, overview, support

router = APIRouter(include_in_schema=False)
for _area in (overview, keys, apps, support, account):
    router.include_router(_area.router)
