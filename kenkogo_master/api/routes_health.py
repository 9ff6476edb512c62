"""Liveness for orchestrators: no token needed."""

from __future__ import annotations

import time

from aiohttp import web

from kenkogo_master import __version__
from kenkogo_master.api.json import json_response
from kenkogo_master.keys import HUB, STARTED_AT

routes = web.RouteTableDef()


@routes.get("/health")
async def health(request: web.Request) -> web.Response:
    """Answer that the Master is up, with its version, uptime and connection count."""
    return json_response(
        {
            "status": "ok",
            "version": __version__,
            "uptime_s": round(time.monotonic() - request.app[STARTED_AT], 3),
            "apps": len(request.app[HUB].apps.registry),
        }
    )
