"""Liveness for orchestrators: no token needed."""

from __future__ import annotations

import time

from aiohttp import web

from kenkogo_master import __version__
from kenkogo_master.api.answers import Reply, answers
from kenkogo_master.api.openapi_shapes import Health, HealthChecks, StorageCheck
from kenkogo_master.keys import HUB, STARTED_AT, WRITER

routes = web.RouteTableDef()


@routes.get("/health")
@answers(Health, status=(200, 503))
async def health(request: web.Request) -> Reply[Health]:
    """Answer whether the Master is up and its database takes writes (503 while it does not)."""
    writer = request.app[WRITER]
    body = Health(
        status="ok" if writer.healthy else "unhealthy",
        version=__version__,
        uptime_s=round(time.monotonic() - request.app[STARTED_AT], 3),
        apps=len(request.app[HUB].apps.registry),
        checks=HealthChecks(storage=StorageCheck(ok=writer.healthy, error=writer.fault)),
    )
    return Reply(body, 200 if writer.healthy else 503)
