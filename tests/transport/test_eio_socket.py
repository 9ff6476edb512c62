"""Engine.IO sessions: long-polling upgrades, pings, pongs and the end of silent clients."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import socketio

from kenkogo_master.keys import SIO
from tests.conftest import StartMaster
from tests.support.flow_clients import SioDriver, event

TOKEN = "driver-token"


async def test_a_client_that_starts_on_long_polling_upgrades_and_gets_its_messages(
    start_master: StartMaster,
) -> None:
    master = await start_master(drivers__tokens=f'["{TOKEN}"]')
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    app = socketio.AsyncClient(reconnection=False)

    async def on_message(message: dict[str, Any]) -> dict[str, Any]:
        received.put_nowait(message)
        return {}

    app.on("message", on_message, namespace="/app")
    driver = await SioDriver(master.url).connect(TOKEN)
    try:
        # The default transports: an HTTP long-poll first, then the upgrade to WebSocket.
        await app.connect(master.url, namespaces=["/app"], wait_timeout=5)
        ack = await app.call("register", {"name": "echo", "version": "1"}, namespace="/app")
        assert ack["success"] is True
        for _ in range(50):
            if app.transport() == "websocket":
                break
            await asyncio.sleep(0.05)
        assert app.transport() == "websocket"
        assert (await driver.register())["success"]
        for n in range(3):
            assert (await driver.call("event", event(f"m {n}", pid=f"p-{n}")))["success"]
        contents = [(await asyncio.wait_for(received.get(), 5))["content"] for _ in range(3)]
        assert contents == ["m 0", "m 1", "m 2"]
    finally:
        await app.disconnect()
        await driver.close()


async def _open(session: aiohttp.ClientSession, url: str) -> tuple[Any, dict[str, Any]]:
    ws = await session.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket")
    opening = await ws.receive_str(timeout=5)
    assert opening.startswith("0")
    return ws, json.loads(opening[1:])


async def test_the_server_pings_and_a_client_that_answers_stays(start_master: StartMaster) -> None:
    master = await start_master()
    engine = master.app[SIO].eio
    engine.ping_interval, engine.ping_timeout = 0.2, 0.5
    async with aiohttp.ClientSession() as session:
        ws, opening = await _open(session, master.url)
        assert opening["pingTimeout"] == 500
        for _ in range(4):
            assert await ws.receive_str(timeout=2) == "2"
            await ws.send_str("3")
        assert not ws.closed
        await ws.close()


async def test_a_client_that_stops_answering_pings_is_let_go(start_master: StartMaster) -> None:
    master = await start_master()
    engine = master.app[SIO].eio
    engine.ping_interval, engine.ping_timeout = 0.2, 0.3
    async with aiohttp.ClientSession() as session:
        ws, opening = await _open(session, master.url)
        assert await ws.receive_str(timeout=2) == "2"
        # No pong: within a few ping timeouts the session is gone and the WebSocket closed.
        frames = []
        async with asyncio.timeout(5):
            async for frame in ws:
                frames.append(frame.data)
        assert ws.closed
        assert opening["sid"] not in engine.sockets


async def test_a_session_closed_by_the_server_closes_its_websocket(
    start_master: StartMaster,
) -> None:
    master = await start_master()
    engine = master.app[SIO].eio
    async with aiohttp.ClientSession() as session:
        ws, opening = await _open(session, master.url)
        await engine.disconnect(opening["sid"])
        frames = []
        async with asyncio.timeout(5):
            async for frame in ws:
                frames.append(frame.data)
        assert frames == ["1"]  # Engine.IO's CLOSE, then the WebSocket's own close
        assert ws.closed


async def test_frames_that_carry_nothing_for_the_server_leave_the_session_working(
    start_master: StartMaster,
) -> None:
    master = await start_master()
    async with aiohttp.ClientSession() as session:
        ws, opening = await _open(session, master.url)
        await ws.send_str("5")  # an UPGRADE outside an upgrade
        await ws.send_str("6")  # a NOOP
        await ws.send_str("2")  # a ping from the client, which Engine.IO 4 does not use
        await ws.send_bytes(b"\xff\x00 not a Socket.IO packet")
        await ws.send_str("40/app,")  # then a well-formed Socket.IO connect
        answer = await ws.receive_str(timeout=5)
        assert answer.startswith("40/app,")
        assert "sid" in json.loads(answer[len("40/app,") :])
        assert opening["sid"] in master.app[SIO].eio.sockets
        await ws.close()
