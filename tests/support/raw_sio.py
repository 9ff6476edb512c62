"""A Socket.IO client written frame by frame, to send what well-behaved libraries never send."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp


class RawSocketIO:
    """Engine.IO 4 / Socket.IO 5 over one aiohttp WebSocket, on namespace /app."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, namespace: str = "/app") -> None:
        self.ws = ws
        self.namespace = namespace
        self.handshake: dict[str, Any] = {}
        self._next_id = 0

    @classmethod
    async def connect(
        cls,
        http: aiohttp.ClientSession,
        url: str,
        namespace: str = "/app",
        auth: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> RawSocketIO:
        """Open the WebSocket transport and join `namespace`, with `auth` when given."""
        ws_url = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        client = cls(await http.ws_connect(ws_url, **kwargs), namespace)
        opening = await client.ws.receive_str(timeout=5)
        assert opening.startswith("0"), opening
        client.handshake = json.loads(opening[1:])
        await client.ws.send_str(f"40{namespace},{json.dumps(auth) if auth else ''}")
        joined = await client.frame()
        assert joined.startswith(f"40{namespace},"), joined
        return client

    async def frame(self, timeout: float = 5) -> str:
        """Return the next Socket.IO frame, answering Engine.IO pings on the way."""
        while True:
            text = await self.ws.receive_str(timeout=timeout)
            if text == "2":
                await self.ws.send_str("3")
                continue
            return text

    async def send_raw(self, text: str) -> None:
        """Send one frame exactly as given."""
        await self.ws.send_str(text)

    async def call(self, event: str, *args: Any) -> Any:
        """Emit an event with an ack id; return the ack's first argument."""
        self._next_id += 1
        ack_id = self._next_id
        body = json.dumps([event, *args], ensure_ascii=False)
        await self.ws.send_str(f"42{self.namespace},{ack_id}{body}")
        return await self.ack(ack_id)

    async def ack(self, ack_id: int, timeout: float = 5) -> Any:
        """Wait for the ack of `ack_id`."""
        prefix = f"43{self.namespace},{ack_id}"
        async with asyncio.timeout(timeout):
            while True:
                text = await self.frame(timeout)
                if text.startswith(prefix):
                    return json.loads(text[len(prefix) :])[0]

    async def event(self, name: str, timeout: float = 5) -> Any:
        """Wait for an event the Master emits; return its data."""
        prefix = f"42{self.namespace},"
        async with asyncio.timeout(timeout):
            while True:
                text = await self.frame(timeout)
                if text.startswith(prefix):
                    event, *args = json.loads(text[len(prefix) :])
                    if event == name:
                        return args[0] if args else None

    async def close(self) -> None:
        """Close the WebSocket."""
        await self.ws.close()
