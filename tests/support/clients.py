"""Real clients of the Master: python-socketio on /app and aiohttp WebSocket on /ws."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import socketio


class SioApp:
    """An app over Socket.IO that records what the Master sends it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = socketio.AsyncClient(reconnection=False)
        self.states: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.errors: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.disconnected = asyncio.Event()
        # what arrived, in order: "state", "error", "disconnect" and, from `emit_logged`, acks
        self.timeline: list[str] = []
        self.client.on("state", self._on_state, namespace="/app")
        self.client.on("error", self._on_error, namespace="/app")
        self.client.on("disconnect", self._on_disconnect, namespace="/app")

    def _on_state(self, data: dict[str, Any]) -> None:
        self.timeline.append("state")
        self.states.put_nowait(data)

    def _on_error(self, data: dict[str, Any]) -> None:
        self.timeline.append("error")
        self.errors.put_nowait(data)

    def _on_disconnect(self, *_: Any) -> None:
        self.timeline.append("disconnect")
        self.disconnected.set()

    async def connect(self, auth: dict[str, Any] | None = None) -> SioApp:
        """Connect to /app over WebSocket."""
        await self.client.connect(
            self.url, namespaces=["/app"], transports=["websocket"], auth=auth, wait_timeout=5
        )
        return self

    async def call(self, event: str, data: Any = None) -> Any:
        """Emit an event and return its ack."""
        return await self.client.call(event, data, namespace="/app", timeout=5)

    async def register(self, name: str = "weather", **fields: Any) -> dict[str, Any]:
        """Register and return the ack."""
        result: dict[str, Any] = await self.call(
            "register", {"name": name, "version": "1.0.0", **fields}
        )
        return result

    async def emit_logged(self, event: str, data: Any = None) -> Any:
        """Emit an event and return its ack, noting the ack's arrival in `timeline`."""
        answered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_ack(*args: Any) -> None:
            self.timeline.append(f"ack:{event}")
            answered.set_result(args[0] if args else None)

        await self.client.emit(event, data, namespace="/app", callback=on_ack)
        return await asyncio.wait_for(answered, 5)

    async def next_error(self, timeout: float = 5) -> dict[str, Any]:
        """Wait for the next `error` event."""
        return await asyncio.wait_for(self.errors.get(), timeout)

    async def wait_disconnected(self, timeout: float = 5) -> None:
        """Wait until the Master has closed the connection."""
        await asyncio.wait_for(self.disconnected.wait(), timeout)

    async def next_state(self, timeout: float = 5) -> dict[str, Any]:
        """Wait for the next `state` event."""
        return await asyncio.wait_for(self.states.get(), timeout)

    async def close(self) -> None:
        """Disconnect."""
        await self.client.disconnect()

    @property
    def connected(self) -> bool:
        """Tell whether the connection to /app is still up."""
        return bool(self.client.connected) and not self.disconnected.is_set()


class WsApp:
    """An app over the plain WebSocket envelope."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.seq = 0

    @classmethod
    async def connect(cls, http: aiohttp.ClientSession, url: str, **kwargs: Any) -> WsApp:
        """Open /ws."""
        return cls(await http.ws_connect(url.replace("http", "ws", 1) + "/ws", **kwargs))

    async def send(self, frame: Any) -> None:
        """Send a frame as JSON."""
        await self.ws.send_json(frame)

    async def recv(self, timeout: float = 5) -> dict[str, Any]:
        """Receive the next JSON frame."""
        frame: dict[str, Any] = await self.ws.receive_json(timeout=timeout)
        return frame

    async def request(self, event: str, data: Any = None) -> dict[str, Any]:
        """Send an event with a seq and return the frame answering it."""
        self.seq += 1
        frame: dict[str, Any] = {"type": event, "seq": self.seq}
        if data is not None:
            frame["data"] = data
        await self.send(frame)
        while True:
            answer = await self.recv()
            if answer.get("seq") == self.seq:
                return answer

    async def until(self, frame_type: str, timeout: float = 5) -> dict[str, Any]:
        """Skip frames until one of `frame_type` arrives."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.recv(timeout)
                if frame["type"] == frame_type:
                    return frame

    async def closed(self, timeout: float = 5) -> aiohttp.WSMessage:
        """Read until the Master closes the socket; return the close message."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.ws.receive()
                if message.type in (
                    aiohttp.WSMsgType.CLOSE,
                    aiohttp.WSMsgType.CLOSING,
                    aiohttp.WSMsgType.CLOSED,
                ):
                    return message

    async def close(self) -> None:
        """Close the socket."""
        await self.ws.close()
