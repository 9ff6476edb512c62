"""The Socket.IO server every namespace shares, with our codec and WebSocket settings."""

from __future__ import annotations

from typing import Any

import socketio
from aiohttp import web
from engineio.async_drivers import aiohttp as engineio_aiohttp

from kenkogo_master.protocol import codec
from kenkogo_master.settings import Settings


def _websocket_class(compress: bool) -> type:
    """Return engine.io's aiohttp WebSocket wrapper with permessage-deflate chosen by us.

    engine.io always negotiates compression, which keeps ~90 KB of zlib state per idle connection.
    """

    class WebSocket(engineio_aiohttp.WebSocket):  # type: ignore[misc]
        async def __call__(self, environ: dict[str, Any]) -> web.WebSocketResponse:
            request = environ["aiohttp.request"]
            self._sock = web.WebSocketResponse(
                max_msg_size=self.server.max_http_buffer_size, compress=compress
            )
            await self._sock.prepare(request)
            self.environ = environ
            await self.handler(self)
            return self._sock

    return WebSocket


def hard_frame_limit(settings: Settings) -> int:
    """Return the size past which a frame closes the connection instead of being answered."""
    return max(1024 * 1024, 4 * settings.limits.max_payload)


def create_sio_server(settings: Settings) -> socketio.AsyncServer:
    """Create the Socket.IO server (not yet attached to the web application)."""
    server = socketio.AsyncServer(
        async_mode="aiohttp",
        json=codec,
        cors_allowed_origins="*",
        max_http_buffer_size=hard_frame_limit(settings),
        logger=False,
        engineio_logger=False,
    )
    websocket = _websocket_class(settings.server.websocket_compression)
    server.eio._async = {**server.eio._async, "websocket": websocket}
    return server


def remote_of(environ: dict[str, Any]) -> str:
    """Return the peer address of a Socket.IO connection."""
    request = environ.get("aiohttp.request")
    remote = request.remote if request is not None else None
    return remote or "unknown"
