"""Liveness for orchestrators: no token needed."""

from __future__ import annotations

import time

from aiohttp import web

from kenkogo_master import __version__
from kenkogo_master.api.json import json_response
from kenkogo_master.keys import HUB, STARTED_AT, WRITER

routes = web.RouteTableDef()


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    """Answer whether the Master is up and its database takes writes (503 while it does not)."""
    writer = request.app[WRITER]
    storage: dict[str, object] = {"ok": writer.healthy}
    if writer.fault is not None:
        storage["error"] = writer.fault
    return json_response(
        {
            "status": "ok" if writer.healthy else "unhealthy",
            "version": __version__,
            "uptime_s": round(time.monotonic() - request.app[STARTED_AT], 3),
            "apps": len(request.app[HUB].apps.registry),
            "checks": {"storage": storage},
        },
        status=200 if writer.healthy else 503,
    )
