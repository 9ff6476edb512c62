"""The Socket.IO server every namespace shares, with our codec and WebSocket settings."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import socketio
from aiohttp import web
from engineio.async_drivers import aiohttp as engineio_aiohttp
from socketio import packet

from kenkogo_master.errors import ErrorCode
from kenkogo_master.protocol import codec
from kenkogo_master.settings import Settings
from kenkogo_master.transport.eio_server import DirectEngineServer
from kenkogo_master.transport.origins import origin_allowed
from kenkogo_master.transport.sio_packet import JsonPacket
from kenkogo_master.transport.tls import client_certificate_required, client_certified


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

        async def send(self, message: str | bytes) -> None:
            # engine.io's wrapper inspects the send method on every frame.
            if isinstance(message, str):
                await self._sock.send_str(message)
            else:
                await self._sock.send_bytes(message)

    return WebSocket


# Agents, which `[server] tls_client_ca` makes present a client certificate.
CERTIFIED_NAMESPACES = frozenset({"/driver", "/runner"})

# `<type>[<attachments>-][/<namespace>,]...`: enough to tell which namespace a packet aimed at.
_PACKET_NAMESPACE = re.compile(r"^\d(?:\d+-)?(/[^,]*),")


class GuardedServer(socketio.AsyncServer):  # type: ignore[misc]
    """A Socket.IO server that answers malformed packets instead of only logging them.

    python-socketio raises while decoding a broken packet (or later, in a background task, on an
    event whose payload is not `[name, ...]`), so the sender would never hear why nothing happened.
    """

    # Namespaces whose clients must present a client certificate (agents: drivers, runners),
    # and how a refusal is worded; set once the settings and the hub exist.
    certified_namespaces: frozenset[str] = frozenset()
    describe_error: Callable[[ErrorCode], dict[str, Any]] | None = None

    def _engineio_server_class(self) -> type:
        return DirectEngineServer

    async def _handle_connect(self, eio_sid: str, namespace: str | None, data: Any) -> None:
        # An agent without a client certificate hears why, whether or not the namespace exists.
        if (namespace or "/") in self.certified_namespaces and not client_certified(
            self.environ.get(eio_sid, {}).get("aiohttp.request")
        ):
            code = ErrorCode.CLIENT_CERTIFICATE_REQUIRED
            error = (
                self.describe_error(code)
                if self.describe_error is not None
                else {"code": code.value, "message": code.value}
            )
            await self._send_packet(
                eio_sid, self.packet_class(packet.CONNECT_ERROR, data=error, namespace=namespace)
            )
            return
        # python-socketio says "Unable to connect"; the protocol's answer is "Invalid namespace".
        namespace = namespace or "/"
        if not self._serves(namespace):
            refusal = self.packet_class(
                packet.CONNECT_ERROR, data={"message": "Invalid namespace"}, namespace=namespace
            )
            await self._send_packet(eio_sid, refusal)
            return
        await super()._handle_connect(eio_sid, namespace, data)

    def _serves(self, namespace: str) -> bool:
        """Tell whether clients may join `namespace` (python-socketio's test, `/` included)."""
        return (
            namespace in self.handlers
            or namespace in self.namespace_handlers
            or self.namespaces == "*"
            or namespace in self.namespaces
        )

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            await super()._handle_eio_message(eio_sid, data)
        except ValueError:
            match = _PACKET_NAMESPACE.match(data) if isinstance(data, str) else None
            await self._answer_malformed(
                eio_sid, match.group(1) if match else "/", ErrorCode.INVALID_JSON
            )

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: Any, data: Any) -> None:
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            await self._answer_malformed(eio_sid, namespace or "/", ErrorCode.INVALID_PAYLOAD)
            return
        await super()._handle_event(eio_sid, namespace, id, data)

    async def _answer_malformed(self, eio_sid: str, namespace: str, code: ErrorCode) -> None:
        handler = self.namespace_handlers.get(namespace)
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is not None and hasattr(handler, "malformed"):
            await handler.malformed(sid, code)


# Unanswered requests (emits with an ack) remembered per connection at most. The scheduler gives
# up on an ack after apps.ack_timeout, so past this bound the oldest are dead weight.
UNANSWERED_LIMIT = 10_000


def forget_oldest_unanswered(server: socketio.AsyncServer, sid: str, limit: int) -> None:
    """Drop a connection's oldest ack callbacks beyond `limit`.

    python-socketio keeps every emit's callback until its ack arrives or the client leaves, so a
    client that never acknowledges would otherwise grow memory without bound.
    """
    pending = server.manager.callbacks.get(sid)
    if pending is None or len(pending) - 1 <= limit:  # key 0 holds the id counter
        return
    excess = len(pending) - 1 - limit
    oldest = itertools.islice((key for key in pending if key != 0), excess)
    for ack_id in list(oldest):  # dicts keep insertion order: the first ids are the oldest
        del pending[ack_id]


def advertise_limits(server: socketio.AsyncServer, settings: Settings) -> None:
    """Set the frame limit, and the payload limit the Engine.IO handshake tells clients."""
    server.eio.max_http_buffer_size = hard_frame_limit(settings)
    server.eio.advertised_max_payload = settings.limits.max_payload


def hard_frame_limit(settings: Settings) -> int:
    """Return the size past which a frame closes the connection instead of being answered."""
    return max(1024 * 1024, 4 * settings.limits.max_payload)


def _cors_origins(settings: Settings) -> list[str] | Callable[[str, dict[str, Any]], bool]:
    """Return Engine.IO's CORS setting: off (same origin only), or the edge's own rule."""
    allowed = settings.server.allowed_origins
    if not allowed:
        return []  # no CORS headers; the edge refuses foreign origins

    def check(origin: str, environ: dict[str, Any]) -> bool:
        return origin_allowed(environ["aiohttp.request"], origin, allowed)

    return check


def create_sio_server(settings: Settings) -> GuardedServer:
    """Create the Socket.IO server (not yet attached to the web application)."""
    server = GuardedServer(
        async_mode="aiohttp",
        json=codec,
        serializer=JsonPacket,
        # The edge middleware (api/origins.py) refuses foreign origins for every endpoint alike;
        # Engine.IO adds the CORS headers for the other origins allowed, if any are.
        cors_allowed_origins=_cors_origins(settings),
        max_http_buffer_size=hard_frame_limit(settings),
        logger=False,
        engineio_logger=False,
    )
    advertise_limits(server, settings)
    if client_certificate_required(settings.server):
        server.certified_namespaces = CERTIFIED_NAMESPACES
    websocket = _websocket_class(settings.server.websocket_compression)
    server.eio._async = {**server.eio._async, "websocket": websocket}
    return server


async def emit_to(
    server: socketio.AsyncServer,
    sid: str,
    namespace: str,
    event: str,
    data: Any,
    callback: Callable[..., None] | None = None,
) -> None:
    """Emit one event to one client, as `server.emit(to=sid)` does, minus its overhead.

    The manager's emit makes a task per recipient and waits on them with `asyncio.wait`, which
    for the one recipient a message goes to costs more than encoding and sending the packet.
    A client that is gone is skipped silently, as the manager skips it.
    """
    manager = server.manager
    eio_sid = manager.eio_sid_from_sid(sid, namespace)
    if eio_sid is None:
        return
    args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
    ack = None if callback is None else manager._generate_ack_id(sid, callback)
    await server._send_packet(
        eio_sid, server.packet_class(packet.EVENT, namespace=namespace, data=[event, *args], id=ack)
    )


def remote_of(environ: dict[str, Any]) -> str:
    """Return the peer address of a Socket.IO connection."""
    request = environ.get("aiohttp.request")
    remote = request.remote if request is not None else None
    return remote or "unknown"
