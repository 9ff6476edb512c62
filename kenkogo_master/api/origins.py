"""Cross-site checks at the edge: browser Origins, and client certificates of agents.

A browser attaches its page's `Origin` to every WebSocket handshake and cross-site request, and
sends the session cookie along; refusing foreign origins keeps another site's page from driving
the Master with a signed-in operator's cookie (cross-site WebSocket hijacking, CSRF). Bots and
scripts send no `Origin` and are not affected.
"""

from __future__ import annotations

import logging

from aiohttp import web

from kenkogo_master.api.errors import Handler
from kenkogo_master.errors import ErrorCode, HubError
from kenkogo_master.keys import SETTINGS
from kenkogo_master.transport.onebot_v11 import PATHS as ONEBOT_DRIVER_PATHS
from kenkogo_master.transport.origins import origin_allowed
from kenkogo_master.transport.tls import client_certificate_required, client_certified

log = logging.getLogger(__name__)

# Where a browser could act with an operator's cookie or open a connection as an app or agent.
GUARDED_PREFIXES = ("/socket.io/", "/ws", "/onebot/", "/api/")
# Foreign origins are logged once each (up to this many), not once per request.
LOGGED_ORIGINS_LIMIT = 100
_logged: set[str] = set()


def _guarded(request: web.Request) -> bool:
    path = request.path
    if path.startswith("/api/"):
        # A bearer token is the caller's own proof, which no foreign page can borrow.
        return "Authorization" not in request.headers
    return path == "/ws" or path.startswith(GUARDED_PREFIXES)


@web.middleware
async def edge_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse foreign browser origins, and OneBot drivers without a client certificate."""
    server = request.app[SETTINGS].server
    origin = request.headers.get("Origin")
    if (
        origin is not None
        and _guarded(request)
        and not origin_allowed(request, origin, server.allowed_origins)
    ):
        if len(_logged) < LOGGED_ORIGINS_LIMIT and origin not in _logged:
            _logged.add(origin)
            log.warning("refused a browser connection from origin %.200s", origin)
        raise HubError(ErrorCode.ORIGIN_NOT_ALLOWED, origin=origin[:200])
    if (
        request.path in ONEBOT_DRIVER_PATHS
        and client_certificate_required(server)
        and not client_certified(request)
    ):
        raise HubError(ErrorCode.CLIENT_CERTIFICATE_REQUIRED)
    return await handler(request)
