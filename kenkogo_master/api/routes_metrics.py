"""Prometheus text at /metrics, behind a bearer token when one is configured."""

from __future__ import annotations

import hmac

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kenkogo_master.api.auth import bearer_token
from kenkogo_master.keys import METRICS, SETTINGS

routes = web.RouteTableDef()


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Return every metric in the Prometheus text format."""
    token = request.app[SETTINGS].metrics.token
    if token is not None:
        presented = bearer_token(request) or ""
        if not hmac.compare_digest(presented.encode(), token.encode()):
            return web.Response(
                status=401,
                text="missing or wrong bearer token\n",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    body = generate_latest(request.app[METRICS])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
