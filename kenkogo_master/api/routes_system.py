"""The machine and the process right now, and over the last minutes: GET /api/v1/system."""

from __future__ import annotations

from aiohttp import web

from kenkogo_master.api.json import json_response
from kenkogo_master.keys import SYSTEM, TELEMETRY

routes = web.RouteTableDef()


@routes.get("/api/v1/system")
async def system(request: web.Request) -> web.Response:
    """Return the latest system sample (taken every few seconds) and the tracer's figures."""
    sampler = request.app[SYSTEM]
    sample = sampler.latest if sampler.latest is not None else sampler.sample()
    return json_response({**sample, "telemetry": request.app[TELEMETRY].telemetry.describe()})


@routes.get("/api/v1/system/history")
async def system_history(request: web.Request) -> web.Response:
    """Return the figures of the samples of the last ten minutes, oldest first, for charts."""
    sampler = request.app[SYSTEM]
    items = list(sampler.history)
    return json_response({"interval_s": sampler.interval, "items": items, "count": len(items)})
