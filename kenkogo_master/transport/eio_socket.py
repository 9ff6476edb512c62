"""Engine.IO sessions whose WebSocket frames are read and written without a task per frame.

python-engineio reads each WebSocket frame through a fresh task and `wait_for`, hands every
message to another task, and writes through a queue drained by a writer task per connection, with
one more task per connection sleeping until its next ping. Over WebSocket our sessions read in the
connection's own handler, pass messages straight to Socket.IO, write frames directly (aiohttp
writes an uncompressed frame synchronously and only waits while the peer is not reading), and
schedule pings on a timer handle. Long-polling and the upgrade from it keep Engine.IO's queue.

Where python-engineio strays from the Engine.IO protocol (and the reference server), these sessions
keep to it: a late pong ends the session at once, a packet that is not Engine.IO's ends it, two
polls at once end it, and a poll waiting when the client closes is answered NOOP.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp import WSMsgType
from engineio import exceptions, packet
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
_OPEN = "0"
# Types a client may send that carry nothing for the server: ignored, as the reference ignores them.
_IGNORED = (_OPEN, _PING, _NOOP, _UPGRADE)
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
    _pong_timer: asyncio.TimerHandle | None = None  # ends the session if no pong comes in time
    _pinging: asyncio.Task[None] | None = None
    _ending: asyncio.Task[None] | None = None  # the close a late pong started
    _polls = 0  # long-polling GETs waiting on this session now

    # -- pings ------------------------------------------------------------------------------------

    def schedule_ping(self) -> None:
        """Send the next ping after the interval, from a timer rather than a parked task."""
        if not self.last_ping:
            return  # the previous ping is still waiting for its pong
        self.last_ping = None
        if self._pong_timer is not None:
            self._pong_timer.cancel()
            self._pong_timer = None
        loop = asyncio.get_running_loop()
        self._ping_timer = loop.call_later(self.server.ping_interval, self._ping_due)

    def _ping_due(self) -> None:
        self._ping_timer = None
        if self.closing or self.closed:
            return
        self.last_ping = time.time()
        loop = asyncio.get_running_loop()
        # engine.io's service task visits each session only once per ping timeout, so a session
        # could outlive its pong's deadline by that much and answer a poll it should refuse.
        self._pong_timer = loop.call_later(self.server.ping_timeout, self._pong_overdue)
        self._pinging = loop.create_task(self.send(packet.Packet(packet.PING)))

    def _pong_overdue(self) -> None:
        self._pong_timer = None
        if self.closing or self.closed:
            return
        reason = self.server.reason.PING_TIMEOUT
        self._ending = asyncio.get_running_loop().create_task(
            self.close(wait=False, abort=False, reason=reason)
        )

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
        was_open = not (self.closed or self.closing)
        if self._ws is None and not self._polls:
            # engine.io waits until a poll takes the CLOSE; with none waiting that could be never
            # (a client that went away), and the server's shutdown waits on it.
            wait = False
        await super().close(wait=wait, abort=abort, reason=reason)
        for timer in (self._ping_timer, self._pong_timer):
            if timer is not None:
                timer.cancel()
        self._ping_timer = self._pong_timer = None
        if was_open and abort and self._ws is None and self._polls:
            # An abort queues no CLOSE, so a waiting poll would hang until its timeout and then
            # fail; the reference ends it with a NOOP.
            self.queue.put_nowait(packet.Packet(packet.NOOP))
        ws = self._ws
        if ws is not None:
            self._ws = None
            if self._batch is not None:
                self._batch.flush()  # the CLOSE packet and what came before it go first
            await ws.close()

    # -- long-polling -----------------------------------------------------------------------------

    async def handle_get_request(self, environ: dict[str, Any]) -> Any:
        """Answer a poll; refuse one to an ended session, and end a session polled twice at once."""
        if _asks_upgrade(environ):
            return await super().handle_get_request(environ)
        if self.closing or self.closed:
            raise exceptions.EngineIOError("the session has ended")
        if self._polls:
            # Two polls at once mean two clients on one sid, or a broken one: the first poll gets
            # the CLOSE, this one a 400 (the server answers the error).
            await self.close(wait=False, reason=self.server.reason.TRANSPORT_ERROR)
            raise exceptions.EngineIOError("overlapping polls")
        self._polls += 1
        try:
            return await super().handle_get_request(environ)
        finally:
            self._polls -= 1

    async def handle_post_request(self, environ: dict[str, Any]) -> None:
        """Take a POSTed payload; one that is not Engine.IO's, or too long, ends the session."""
        if self.closing or self.closed:
            raise exceptions.EngineIOError("the session has ended")
        try:
            if environ.get("CONTENT_LENGTH", "0") in ("", "0"):
                raise ValueError("an empty payload")  # the protocol's parser refuses it too
            await super().handle_post_request(environ)
        except Exception as exc:  # a bad type, bad base64, bad UTF-8, an unknown type number...
            # Closed here without waiting: engine.io's own disconnect waits for a poll to drain
            # the CLOSE packet, which holds the POST's answer until the client polls again.
            await self.close(wait=False, reason=self.server.reason.TRANSPORT_ERROR)
            raise exceptions.EngineIOError("invalid payload") from exc

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
        reason = self.server.reason.TRANSPORT_CLOSE
        try:
            if not await self._read(ws._sock):
                reason = self.server.reason.TRANSPORT_ERROR
        finally:
            await self.close(wait=False, abort=True, reason=reason)
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

    async def _read(self, sock: Any) -> bool:
        """Hand each frame to the server in the order it came, until the WebSocket ends.

        Return False when it ended on a frame that is not an Engine.IO packet.
        """
        server = self.server
        while not self.closed:
            msg = await sock.receive()
            if msg.type not in _FRAME_TYPES:
                return True  # closed, closing or broken
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
                return True
            elif not kind or kind not in _IGNORED:
                # The protocol ends the session on a parse error, as the reference server does.
                log.debug("engine.io %s: not a packet: %r", self.sid, data[:16])
                return False
        return True


def _asks_upgrade(environ: dict[str, Any]) -> bool:
    """Tell whether a GET asks for a WebSocket rather than a poll (engine.io's own test)."""
    connection = {part.strip() for part in environ.get("HTTP_CONNECTION", "").lower().split(",")}
    return "upgrade" in connection and environ.get("HTTP_UPGRADE", "").lower() == "websocket"
