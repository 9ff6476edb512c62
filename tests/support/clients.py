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
        self.client.on("state", self.states.put_nowait, namespace="/app")
        self.client.on("error", self.errors.put_nowait, namespace="/app")
        self.client.on("disconnect", self.disconnected.set, namespace="/app")

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

    async def next_state(self, timeout: float = 5) -> dict[str, Any]:
        """Wait for the next `state` event."""
        return await asyncio.wait_for(self.states.get(), timeout)

    async def close(self) -> None:
        """Disconnect."""
        await self.client.disconnect()


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

    async def close(self) -> None:
        """Close the socket."""
        await self.ws.close()
