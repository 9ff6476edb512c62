"""The machine and the process right now, and over the last minutes: GET /api/v1/system."""

from __future__ import annotations

from aiohttp import web

from kenkogo_master.api.answers import answers
from kenkogo_master.api.openapi_shapes_stats import System, SystemHistory
from kenkogo_master.keys import SYSTEM, TELEMETRY

routes = web.RouteTableDef()


@routes.get("/api/v1/system")
@answers(System)
async def system(request: web.Request) -> System:
    """Return the latest system sample (taken every few seconds) and the tracer's figures."""
    sampler = request.app[SYSTEM]
    sample = sampler.latest if sampler.latest is not None else sampler.sample()
    return System(**sample, telemetry=request.app[TELEMETRY].telemetry.describe())


@routes.get("/api/v1/system/history")
@answers(SystemHistory)
async def system_history(request: web.Request) -> SystemHistory:
    """Return the figures of the samples of the last ten minutes, oldest first, for charts."""
    sampler = request.app[SYSTEM]
    items = list(sampler.history)
    return SystemHistory(interval_s=sampler.interval, items=items, count=len(items))
