"""Regression tests for the python-socketio / python-engineio advisories of 2025-2026.

- CVE-2025-61765 (GHSA-g8c6-8fjj-2r4m): pickled payloads in the message queue managers.
- CVE-2026-48804 (GHSA-5w7q-77mv-v69f): binary attachments held for clients not connected, and
  partial binary messages kept after a client left.
- CVE-2026-48802 (GHSA-cgwc-pv48-fhj5): heartbeat tasks allocated per connection and per PONG.
Each is tried against the running Master, over its own Engine.IO session classes.
"""

from __future__ import annotations

import asyncio
import json
from importlib.metadata import version
from typing import Any

import aiohttp
import socketio
from socketio.async_pubsub_manager import AsyncPubSubManager

from kenkogo_master.keys import SIO
from tests.conftest import RunningMaster


async def _engineio(master: RunningMaster) -> tuple[aiohttp.ClientWebSocketResponse, str]:
    """Open a raw Engine.IO v4 WebSocket session; return it and its session id."""
    ws = await master.http.ws_connect(master.url + "/socket.io/?EIO=4&transport=websocket")
    opening = await ws.receive_str(timeout=5)
    assert opening.startswith("0")
    return ws, json.loads(opening[1:])["sid"]


# aiohttp's own tasks: one per TCP connection and one per request, whatever the endpoint.
HTTP_TASKS = {"RequestHandler.start", "RequestHandler._handle_request"}


def _tasks() -> int:
    """Count the running tasks beyond those aiohttp keeps per connection."""
    return sum(1 for task in asyncio.all_tasks() if task.get_coro().__qualname__ not in HTTP_TASKS)


async def _still_serves(master: RunningMaster) -> None:
    """A fresh app still connects and registers: the Master took no harm."""
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(master.url, namespaces=["/app"], transports=["websocket"])
    try:
        answer = await client.call(
            "register", {"name": "canary", "version": "1"}, namespace="/app", timeout=5
        )
        assert answer["success"] is True
    finally:
        await client.disconnect()


async def test_no_pickling_message_queue_is_used(master: RunningMaster) -> None:
    # CVE-2025-61765: the pub/sub managers unpickled what arrived on the queue. The Master keeps
    # one process's clients in memory (socketio.AsyncManager); nothing is read from a queue.
    manager = master.app[SIO].manager
    assert type(manager) is socketio.AsyncManager
    assert not isinstance(manager, AsyncPubSubManager)
    # And the pinned release encodes queue messages as JSON, should a manager ever be added.
    major, minor = (int(part) for part in version("python-socketio").split(".")[:2])
    assert (major, minor) >= (5, 14)


async def test_binary_packet_before_connect_is_not_held(master: RunningMaster) -> None:
    # CVE-2026-48804: a binary event from a client that never connected a namespace, whose
    # attachment never comes, was kept in memory for as long as the session lived.
    server = master.app[SIO]
    ws, eio_sid = await _engineio(master)
    try:
        await ws.send_str('451-["upload",{"_placeholder":true,"num":0}]')
        await ws.send_str('451-/app,["upload",{"_placeholder":true,"num":0}]')
        await asyncio.sleep(0.2)
        assert eio_sid not in server._binary_packet
    finally:
        await ws.close()
    await _still_serves(master)


async def test_partial_binary_message_is_dropped_when_the_client_leaves(
    master: RunningMaster,
) -> None:
    server = master.app[SIO]
    ws, eio_sid = await _engineio(master)
    await ws.send_str("40/app,")
    connected = await ws.receive_str(timeout=5)
    assert connected.startswith("40/app,")
    # Two attachments announced, one sent: the message waits for the second.
    await ws.send_str(
        '452-/app,["upload",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
    )
    await ws.send_bytes(b"\x00" * 1024)
    for _ in range(50):
        if eio_sid in server._binary_packet:
            break
        await asyncio.sleep(0.02)
    assert eio_sid in server._binary_packet  # held for its second attachment, as it should be
    await ws.close()
    for _ in range(100):
        if eio_sid not in server._binary_packet:
            break
        await asyncio.sleep(0.02)
    assert eio_sid not in server._binary_packet
    await _still_serves(master)


async def test_sessions_that_never_connect_cost_no_heartbeat_tasks(
    master: RunningMaster,
) -> None:
    # CVE-2026-48802: a heartbeat task was started for every Engine.IO connection before anyone
    # was authenticated. The Master's sessions ping from a loop timer, so an idle session costs
    # only aiohttp's tasks of its connection.
    before = _tasks()
    sessions = [await _engineio(master) for _ in range(50)]
    try:
        await asyncio.sleep(0.2)
        grown = _tasks() - before
        names = sorted({t.get_coro().__qualname__ for t in asyncio.all_tasks()} - HTTP_TASKS)
        assert grown <= 2, f"{grown} more tasks for 50 idle sessions: {names}"
    finally:
        for ws, _ in sessions:
            await ws.close()


async def test_unsolicited_pongs_start_no_heartbeats(master: RunningMaster) -> None:
    # CVE-2026-48802, second half: every PONG started another heartbeat task.
    ws, eio_sid = await _engineio(master)
    try:
        await asyncio.sleep(0.1)
        before = _tasks()
        for _ in range(500):
            await ws.send_str("3")
        await asyncio.sleep(0.3)
        assert _tasks() - before <= 5
        socket: Any = master.app[SIO].eio.sockets.get(eio_sid)
        if socket is not None:  # a session still open keeps at most one ping timer
            assert socket._pinging is None or socket._pinging.done()
    finally:
        await ws.close()
    await _still_serves(master)
