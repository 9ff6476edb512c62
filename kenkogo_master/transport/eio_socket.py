"""Engine.IO sessions whose WebSocket frames are read and written without a task per frame.

python-engineio reads each WebSocket frame through a fresh task and `wait_for`, hands every
message to another task, and writes through a queue drained by a writer task per connection, with
one more task per connection sleeping until its next ping. Over WebSocket our sessions read in the
connection's own handler, pass messages straight to Socket.IO, write frames directly (aiohttp
writes an uncompressed frame synchronously and only waits while the peer is not reading), and
schedule pings on a timer handle. Long-polling and the upgrade from it keep Engine.IO's queue.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import engineio
from aiohttp import WSMsgType
from engineio import packet
from engineio.async_socket import AsyncSocket

from kenkogo_master.transport.ws_frames import FrameBatch

log = logging.getLogger(__name__)

# Engine.IO v4 packet types as they lead a text frame.
_CLOSE = "1"
_PING = "2"
_PONG = "3"
_MESSAGE = "4"
_UPGRADE = "5"
_NOOP = "6"
_FRAME_TYPES = (WSMsgType.TEXT, WSMsgType.BINARY)


class DirectSocket(AsyncSocket):  # type: ignore[misc]
    """An Engine.IO session that, once on WebSocket, reads and writes frames itself."""

    # Set by engine.io's constructor; declared for the type checker.
    last_ping: float | None
    connected: bool
    upgraded: bool
    upgrading: bool
    closing: bool
    closed: bool

    _ws: Any = None  # engine.io's aiohttp WebSocket wrapper, once frames go to it directly
    _batch: FrameBatch | None = None  # gathers frames per loop iteration (uncompressed only)
    _ping_timer: asyncio.TimerHandle | None = None
    _pinging: asyncio.Task[None] | None = None

    # -- pings ------------------------------------------------------------------------------------

    def schedule_ping(self) -> None:
        """Send the next ping after the interval, from a timer rather than a parked task."""
        if not self.last_ping:
            return  # the previous ping is still waiting for its pong
        self.last_ping = None
        loop = asyncio.get_running_loop()
        self._ping_timer = loop.call_later(self.server.ping_interval, self._ping_due)

    def _ping_due(self) -> None:
        self._ping_timer = None
        if self.closing or self.closed:
            return
        # The server's service task closes the session if no pong follows within ping_timeout.
        self.last_ping = time.time()
        ping = self.send(packet.Packet(packet.PING))
        self._pinging = asyncio.get_running_loop().create_task(ping)

    # -- writing ----------------------------------------------------------------------------------

    async def send(self, pkt: packet.Packet) -> None:
        """Write a packet now over WebSocket, or queue it for the next poll."""
        ws = self._ws
        if ws is None:
            await super().send(pkt)
            return
        if self.closed:
            return
        try:
            if self._batch is not None:
                await self._batch.send(pkt.encode())
            else:
                await ws.send(pkt.encode())
        except (ConnectionError, RuntimeError) as exc:
            # The peer is going away; its reader sees the end and closes the session.
            log.debug("engine.io %s: write failed: %s", self.sid, exc)

    async def close(
        self, wait: bool = True, abort: bool = False, reason: str | None = None
    ) -> None:
        """Close the session, and its WebSocket when frames go to it directly."""
        await super().close(wait=wait, abort=abort, reason=reason)
        if self._ping_timer is not None:
            self._ping_timer.cancel()
            self._ping_timer = None
        ws = self._ws
        if ws is not None:
            self._ws = None
            if self._batch is not None:
                self._batch.flush()  # the CLOSE packet and what came before it go first
            await ws.close()

    # -- reading ----------------------------------------------------------------------------------

    async def _websocket_handler(self, ws: Any) -> None:
        """Serve the session over `ws` until either side closes it."""
        if self.connected:
            if not await self._upgrade(ws):
                return
        else:
            self.connected = True
            self.upgraded = True
        await self._go_direct(ws)
        try:
            await self._read(ws._sock)
        finally:
            await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
            if self._batch is not None:
                self._batch.flush()
            await ws.close()

    async def _upgrade(self, ws: Any) -> bool:
        """Take a polling session over to `ws`: probe, end the pending poll, wait for UPGRADE."""
        self.upgrading = True
        try:
            probe = await ws._sock.receive()
            if probe.type is not WSMsgType.TEXT or probe.data != f"{_PING}probe":
                return False
            await ws.send(f"{_PONG}probe")
            await self.queue.put(packet.Packet(packet.NOOP))  # answers the poll in progress
            confirm = await ws._sock.receive()
            if confirm.type is not WSMsgType.TEXT or confirm.data != _UPGRADE:
                return False
            self.upgraded = True
            return True
        finally:
            self.upgrading = False

    async def _go_direct(self, ws: Any) -> None:
        """Write out what waits in the polling queue, then write every later packet directly."""
        while True:
            waiting: list[packet.Packet] = []
            while not self.queue.empty():
                item = self.queue.get_nowait()
                self.queue.task_done()
                if item is not None and item.packet_type != packet.NOOP:
                    waiting.append(item)
            if not waiting:
                # No await between the last check and the switch: the order is kept.
                self._batch = FrameBatch.of(ws._sock)
                self._ws = ws
                return
            for item in waiting:
                await ws.send(item.encode())

    async def _read(self, sock: Any) -> None:
        """Hand each frame to the server in the order it came, until the WebSocket ends."""
        server = self.server
        while not self.closed:
            msg = await sock.receive()
            if msg.type not in _FRAME_TYPES:
                return  # closed, closing or broken
            data = msg.data
            if msg.type is WSMsgType.BINARY:
                await server._trigger_event("message", self.sid, data, run_async=False)
                continue
            kind = data[:1]
            if kind == _MESSAGE:
                await server._trigger_event("message", self.sid, data[1:], run_async=False)
            elif kind == _PONG:
                self.schedule_ping()
            elif kind == _CLOSE:
                return
            elif kind not in (_PING, _NOOP, _UPGRADE):
                log.debug("engine.io %s: unknown packet %r", self.sid, data[:16])


class DirectEngineServer(engineio.AsyncServer):  # type: ignore[misc]
    """An Engine.IO server whose sessions are `DirectSocket`s."""

    start_service_task: bool  # set by engine.io's constructor

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
        opening = {
            "sid": sid,
            "upgrades": self._upgrades(sid, transport),
            "pingTimeout": int(self.ping_timeout * 1000),
            "pingInterval": int(self.ping_interval + self.ping_interval_grace_period) * 1000,
            "maxPayload": self.max_http_buffer_size,
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
