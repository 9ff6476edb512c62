"""The Engine.IO server: `DirectSocket` sessions, and HTTP answers as the protocol gives them.

python-engineio answers a few requests differently from the Engine.IO protocol and its reference
server; this server answers them as the protocol does: a handshake naming no transport, and any
method but GET, POST and OPTIONS, are a 400; a POST is answered `ok`; a second WebSocket on an
upgraded session is accepted and closed; the handshake advertises the intervals to the
millisecond and the payload limit the Master enforces for clients.
"""

from __future__ import annotations

from typing import Any

import engineio
from aiohttp import web
from engineio import packet

from kenkogo_master.transport.eio_socket import DirectSocket

# The methods Engine.IO serves; any other is a bad request, not a missing route.
_METHODS = ("GET", "POST", "OPTIONS")


class DirectEngineServer(engineio.AsyncServer):  # type: ignore[misc]
    """An Engine.IO server whose sessions are `DirectSocket`s."""

    start_service_task: bool  # set by engine.io's constructor
    # The `maxPayload` of the handshake: the largest message clients should send. The frame
    # limit (`max_http_buffer_size`) sits above it so that a message a little too large is
    # answered with an error rather than ending the connection. None: the frame limit itself.
    advertised_max_payload: int | None = None

    def attach(self, app: web.Application, engineio_path: str = "engine.io") -> None:
        """Route the endpoint's GET, POST and OPTIONS to engine.io and every other method to us."""
        super().attach(app, engineio_path)
        # Without this route aiohttp itself answers PUT and the rest 405 Method Not Allowed.
        app.router.add_route("*", f"/{engineio_path.strip('/')}/", self.handle_request)

    async def handle_request(self, request: web.Request) -> web.StreamResponse:
        """Refuse what the protocol refuses, close a late WebSocket, and serve the rest."""
        if request.method not in _METHODS:
            return await self._refuse(request, "Bad request method")
        if request.method != "OPTIONS" and "transport" not in request.query:
            # engine.io would take a missing transport to mean polling.
            return await self._refuse(request, "Transport unknown")
        sid = request.query.get("sid")
        socket = self.sockets.get(sid) if sid is not None else None
        if (
            socket is not None
            and (socket.upgraded or socket.upgrading)
            and request.method == "GET"
            and request.headers.get("Upgrade", "").lower() == "websocket"
        ):
            return await _accept_and_close(request)
        answer: web.StreamResponse = await super().handle_request(request)
        return answer

    async def _refuse(self, request: web.Request, message: str) -> web.StreamResponse:
        environ = self._async["translate_request"](request)
        answer: web.StreamResponse = await self._make_response(self._bad_request(message), environ)
        return answer

    def _ok(
        self,
        packets: list[packet.Packet] | None = None,
        headers: list[tuple[str, str]] | None = None,
        jsonp_index: int | None = None,
    ) -> dict[str, Any]:
        """Answer as engine.io does, but a POST's answer is `ok`, the protocol's word."""
        answer: dict[str, Any] = super()._ok(packets, headers, jsonp_index)
        if packets is None:
            answer["response"] = b"ok"
        return answer

    async def _handle_connect(
        self, environ: dict[str, Any], transport: str, jsonp_index: int | None = None
    ) -> Any:
        """Open a session: the OPEN packet, the connect handler, then the chosen transport."""
        if self.start_service_task:
            self.start_service_task = False
            self.service_task_handle = self.start_background_task(self._service_task)
        sid = self.generate_id()
        socket = DirectSocket(self, sid)
        self.sockets[sid] = socket
        interval = self.ping_interval + self.ping_interval_grace_period
        limit = self.advertised_max_payload
        opening = {
            "sid": sid,
            "upgrades": self._upgrades(sid, transport),
            "pingTimeout": round(self.ping_timeout * 1000),
            "pingInterval": round(interval * 1000),  # (seconds, maybe fractions of one)
            "maxPayload": self.max_http_buffer_size if limit is None else limit,
        }
        await socket.send(packet.Packet(packet.OPEN, opening))
        accepted = await self._trigger_event("connect", sid, environ, run_async=False)
        if accepted is not None and accepted is not True:
            del self.sockets[sid]
            return self._unauthorized(accepted or None)
        socket.schedule_ping()
        if transport == "websocket":
            answer = await socket.handle_get_request(environ)
            if socket.closed:
                self.sockets.pop(sid, None)
            return answer
        socket.connected = True
        try:
            return self._ok(await socket.poll(), jsonp_index=jsonp_index)
        except engineio.exceptions.QueueEmpty:
            return self._bad_request()


async def _accept_and_close(request: web.Request) -> web.WebSocketResponse:
    """Complete a WebSocket handshake and close at once, as the reference does for a late one.

    The session already has its WebSocket; a refusal before the handshake would leave a client
    library an HTTP error to report instead of the plain close the protocol specifies.
    """
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.close()
    return ws
