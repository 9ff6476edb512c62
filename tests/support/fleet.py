"""A set of app clients for one test, all closed before the Master stops."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.support.clients import SioApp, WsApp


class Fleet:
    """Open app connections to a running Master and close them all at the end of a test."""

    def __init__(self) -> None:
        self._sio: list[SioApp] = []
        self._ws: list[WsApp] = []
        self._http: list[aiohttp.ClientSession] = []

    async def sio(self, url: str, auth: dict[str, Any] | None = None) -> SioApp:
        """Connect an app over Socket.IO."""
        app = SioApp(url)
        self._sio.append(app)
        return await app.connect(auth)

    async def sio_registered(
        self, url: str, name: str = "weather", **fields: Any
    ) -> tuple[SioApp, dict[str, Any]]:
        """Connect and register an app over Socket.IO; return it and the register ack."""
        app = await self.sio(url)
        ack = await app.register(name, **fields)
        assert ack["success"] is True, ack
        return app, ack

    async def ws(self, url: str, **kwargs: Any) -> WsApp:
        """Connect an app over the plain WebSocket (its own HTTP session)."""
        http = aiohttp.ClientSession()
        self._http.append(http)
        app = await WsApp.connect(http, url, **kwargs)
        self._ws.append(app)
        return app

    async def ws_registered(
        self, url: str, name: str = "weather", **fields: Any
    ) -> tuple[WsApp, dict[str, Any]]:
        """Connect and register an app over /ws; return it and the register answer's data."""
        app = await self.ws(url)
        answer = await app.request("register", {"name": name, "version": "1.0.0", **fields})
        assert answer["data"]["success"] is True, answer
        return app, answer["data"]

    async def close(self) -> None:
        """Close every connection still open."""
        for sio in self._sio:
            if sio.client.connected:
                await sio.close()
        for ws in self._ws:
            await ws.close()
        for http in self._http:
            await http.close()
