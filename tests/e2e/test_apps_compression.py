"""Per-message deflate: off by default on /ws and the Socket.IO WebSocket, on when configured."""

from __future__ import annotations

import asyncio
import base64
import os
from typing import Any

import pytest

from tests.support.clients import SioApp

PATHS = ["/ws", "/socket.io/?EIO=4&transport=websocket"]


async def upgrade_headers(port: int, path: str) -> tuple[str, dict[str, str]]:
    """Open a WebSocket offering permessage-deflate; return the status line and headers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            "\r\n"
        ).encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    writer.close()
    await writer.wait_closed()
    status, *lines = head.decode("latin-1").strip().split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


@pytest.mark.parametrize("path", PATHS)
async def test_deflate_is_off_by_default(master: Any, path: str) -> None:
    status, headers = await upgrade_headers(master.port, path)

    assert " 101 " in status
    assert "sec-websocket-extensions" not in headers


@pytest.mark.parametrize("path", PATHS)
async def test_deflate_is_negotiated_when_configured(start_master: Any, path: str) -> None:
    master = await start_master(server__websocket_compression="true")

    status, headers = await upgrade_headers(master.port, path)

    assert " 101 " in status
    assert headers["sec-websocket-extensions"].startswith("permessage-deflate")


async def test_apps_work_with_deflate_on(start_master: Any) -> None:
    master = await start_master(server__websocket_compression="true")
    app = await SioApp(master.url).connect()
    ws = await master.http.ws_connect(master.url.replace("http", "ws", 1) + "/ws", compress=15)
    try:
        ack = await app.register(description="x" * 2000)
        await ws.send_json({"type": "ping", "seq": 1})
        pong = await ws.receive_json(timeout=5)
    finally:
        await app.close()
        await ws.close()

    assert ack["success"] is True
    assert ws.compress == 15
    assert pong == {"type": "pong", "seq": 1}
