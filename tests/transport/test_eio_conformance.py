"""Engine.IO and Socket.IO as their protocols specify, request by request, over real sockets.

The cases follow the official protocol test suites (socketio/engine.io-protocol and
socket.io-protocol, `test-suite/`): each asks what the reference server answers, here of the
Master's own `/socket.io/` endpoint, with a 300 ms ping interval and a 200 ms ping timeout as
there. Engine.IO messages go to Socket.IO, so where the suites echo `4hello` these send a
Socket.IO connect to `/app` and read its answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from kenkogo_master.keys import SIO
from tests.conftest import RunningMaster, StartMaster

PING_INTERVAL, PING_TIMEOUT = 0.3, 0.2
MAX_PAYLOAD = 100_000
JOIN = "40/app,"  # a Socket.IO connect to /app, which answers `40/app,{"sid": ...}`


@pytest.fixture
async def master(start_master: StartMaster) -> RunningMaster:
    """Start a Master with the suites' heartbeat and a payload limit of its own."""
    running = await start_master(limits__max_payload=str(MAX_PAYLOAD))
    engine = running.app[SIO].eio
    engine.ping_interval, engine.ping_timeout = PING_INTERVAL, PING_TIMEOUT
    return running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client of its own: the suites' requests carry no credentials."""
    async with aiohttp.ClientSession() as session:
        yield session


def _endpoint(master: RunningMaster, query: str = "EIO=4&transport=polling") -> str:
    return f"{master.url}/socket.io/?{query}"


async def _request(
    http: aiohttp.ClientSession, method: str, url: str, body: str | None = None
) -> tuple[int, str]:
    async with http.request(method, url, data=body) as response:
        return response.status, await response.text()


async def _open_polling(http: aiohttp.ClientSession, master: RunningMaster) -> str:
    status, text = await _request(http, "GET", _endpoint(master))
    assert status == 200 and text.startswith("0"), (status, text)
    sid: str = json.loads(text[1:])["sid"]
    return sid


def _session(master: RunningMaster, sid: str, transport: str = "polling") -> str:
    return _endpoint(master, f"EIO=4&transport={transport}&sid={sid}")


async def _open_websocket(
    http: aiohttp.ClientSession, master: RunningMaster
) -> tuple[aiohttp.ClientWebSocketResponse, dict[str, Any]]:
    ws = await http.ws_connect(_endpoint(master, "EIO=4&transport=websocket"))
    opening = await ws.receive_str(timeout=5)
    assert opening.startswith("0"), opening
    return ws, json.loads(opening[1:])


async def _closes(ws: aiohttp.ClientWebSocketResponse, within: float) -> list[Any]:
    """Return the frames that came before the server closed `ws`, failing if it did not."""
    frames = []
    async with asyncio.timeout(within):
        async for frame in ws:
            frames.append(frame.data)
    assert ws.closed
    return frames


async def _ended(master: RunningMaster, sid: str) -> None:
    """Wait until the server has let go of session `sid` (its handler returns after the close)."""
    async with asyncio.timeout(2):
        while sid in master.app[SIO].eio.sockets:
            await asyncio.sleep(0.01)


def _handshake_fields(opening: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in opening.items() if key != "sid"}


# -- handshake ------------------------------------------------------------------------------------


async def test_a_polling_handshake_advertises_the_heartbeat_in_ms_and_the_payload_limit(
    master: RunningMaster, http: aiohttp.ClientSession
) -> None:
    status, text = await _request(http, "GET", _endpoint(master))
    assert status == 200 and text.startswith("0")
    opening = json.loads(text[1:])
    assert isinstance(opening["sid"], str)
    assert _handshake_fields(opening) == {
        "upgrades": ["websocket"],
        "pingInterval": 300,  # not 0: the interval is under a second
        "pingTimeout": 200,
        "maxPayload": MAX_PAYLOAD,  # [limits] max_payload, not the frame limit above it
    }


async def test_a_websocket_handshake_offers_no_upgrade(
    master: RunningMaster, http: aiohttp.ClientSession
) -> None:
    ws, opening = await _open_websocket(http, master)
    assert _handshake_fields(opening) == {
        "upgrades": [],
        "pingInterval": 300,
        "pingTimeout": 200,
        "maxPayload": MAX_PAYLOAD,
    }
    await ws.close()


async def test_the_advertised_payload_limit_follows_a_change_at_run_time(
    master: RunningMaster, http: aiohttp.ClientSession
) -> None:
    status, body = await master.api("PATCH", "/api/v1/settings", json={"limits.max_payload": 4096})
    assert status == 200, body
    _, text = await _request(http, "GET", _endpoint(master))
    assert json.loads(text[1:])["maxPayload"] == 4096


@pytest.mark.parametrize(
    ("method", "query"),
    [
        ("GET", "transport=polling"),  # no EIO
        ("GET", "EIO=abc&transport=polling"),
        ("GET", "EIO=3&transport=polling"),
        ("GET", "EIO=4"),  # no transport: not taken for polling
        ("GET", "EIO=4&transport=abc"),
        ("POST", "EIO=4&transport=polling"),  # a handshake is a GET
        ("PUT", "EIO=4&transport=polling"),
        ("DELETE", "EIO=4&transport=polling"),
        ("PATCH", "EIO=4&transport=polling"),
    ],
)
async def test_a_bad_handshake_is_a_400(
    master: RunningMaster, http: aiohttp.ClientSession, method: str, query: str
) -> None:
    status, _ = await _request(http, method, _endpoint(master, query))
    assert status == 400


@pytest.mark.parametrize("query", ["transport=websocket", "EIO=abc&transport=websocket", "EIO=4"])
async def test_a_bad_websocket_handshake_is_refused(
    master: RunningMaster, http: aiohttp.ClientSession, query: str
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(_endpoint(master, query))
    assert refused.value.status == 400


# -- messages -------------------------------------------------------------------------------------


async def test_a_post_is_answered_ok_and_its_packets_answered_on_the_next_poll(
    master: RunningMaster, http: aiohttp.ClientSession
) -> None:
    sid = await _open_polling(http, master)
    assert await _request(http, "POST", _session(master, sid), JOIN) == (200, "ok")
    status, text = await _request(http, "GET", _session(master, sid))
    assert status == 200 and text.startswith("40/app,{")
    # Several packets in one payload, separated by the record separator.
    assert await _request(http, "POST", _session(master, sid), "3\x1e" + "41/app,") == (200, "ok")


@pytest.mark.parametrize("body", ["abc", "", "9nine", "bnot base64!"])
async def test_an_invalid_polling_payload_ends_the_session(
    master: RunningMaster, http: aiohttp.ClientSession, body: str
) -> None:
    sid = await _open_polling(http, master)
    status, _ = await _request(http, "POST", _session(master, sid), body)
    assert status == 400
    assert (await _request(http, "GET", _session(master, sid)))[0] == 400
    assert sid not in master.app[SIO].eio.sockets


async def test_two_polls_at_once_end_the_session(
    master: RunningMaster, http: aiohttp.ClientSession
) -> None:
    sid = await _open_polling(http, master)
    first = asyncio.create_task(_request(http, "GET", _session(master, sid)))
    await asyncio.sleep(0.05)  # the first poll is waiting for packets
    second = await _request(http, "GET", _session(master, sid) + "&t=burst")
    assert second[0] == 400
    assert await first == (200, "1")  # the waiting poll is told the session closed
    assert (await _request(http, "GET", _session(master, sid)))[0] == 400


@pytest.mark.parametrize("frame", ["abc", "", "9what", "7"])
async def test_a_frame_that_is_no_engine_io_packet_ends_the_websocket_session(
    start_master: StartMaster, http: aiohttp.ClientSession, frame: str
) -> None:
    master = await start_master()  # the default heartbeat: no ping timeout can close it first
    ws, opening = await _open_websocket(http, master)
    await ws.send_str(frame)
    assert await _closes(ws, within=2) == []
    await _ended(master, opening["sid"])


# -- heartbeat ------------------------------------------------------------------------------------


async def test_a_polling_client_is_pinged_and_stays_while_it_answers(
    master: RunningMaster, http: aiohttp.ClientSession
) -> None:
    sid = await _open_polling(http, master)
    for _ in range(3):
        assert await _request(http, "GET", _session(master, sid)) == (200, "2")
        assert await _request(http, "POST", _session(master, sid), "3") == (200, "ok")


async def test_a_poll_after_a_missed_pong_is_refused(
    master: RunningMaster, http: aiohttp.ClientSession
) -> None:
    sid = await _open_polling(http, master)
    await asyncio.sleep(PING_INTERVAL + PING_TIMEOUT + 0.02)
    # Not the ping that waited in the queue: the session ended when its pong was due.
    assert (await _request(http, "GET", _session(master, sid)))[0] == 400


async def test_a_websocket_client_that_misses_a_pong_is_closed_on_time(
    master: RunningMaster, http: aiohttp.ClientSession
) -> None:
    ws, _ = await _open_websocket(http, master)
    started = asyncio.get_running_loop().time()
    assert await _closes(ws, within=2) == ["2", "1"]  # the ping, then CLOSE
    assert asyncio.get_running_loop().time() - started < PING_INTERVAL + PING_TIMEOUT + 0.25


# -- close ----------------------------------------------------------------------------------------


async def test_a_client_closing_during_a_poll_ends_the_poll_with_a_noop(
    master: RunningMaster, http: aiohttp.ClientSession
) -> None:
    sid = await _open_polling(http, master)
    poll = asyncio.create_task(_request(http, "GET", _session(master, sid)))
    await asyncio.sleep(0.05)
    assert await _request(http, "POST", _session(master, sid), "1") == (200, "ok")
    async with asyncio.timeout(0.25):  # at once, not at the poll's timeout
        assert await poll == (200, "6")
    assert (await _request(http, "GET", _session(master, sid)))[0] == 400


async def test_a_websocket_client_closes_its_session_with_a_close_packet(
    start_master: StartMaster, http: aiohttp.ClientSession
) -> None:
    master = await start_master()
    ws, opening = await _open_websocket(http, master)
    await ws.send_str("1")
    assert await _closes(ws, within=2) == []
    await _ended(master, opening["sid"])


# -- upgrade --------------------------------------------------------------------------------------


async def _upgrade(
    http: aiohttp.ClientSession, master: RunningMaster, sid: str
) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(_session(master, sid, "websocket"))
    await ws.send_str("2probe")
    assert await ws.receive_str(timeout=2) == "3probe"
    # The poll in progress (or the next one) is ended with a NOOP so the client can switch.
    assert await _request(http, "GET", _session(master, sid)) == (200, "6")
    await ws.send_str("5")
    return ws


async def test_a_polling_session_upgrades_to_websocket(
    master: RunningMaster, http: aiohttp.ClientSession
) -> None:
    sid = await _open_polling(http, master)
    ws = await _upgrade(http, master, sid)
    await ws.send_str(JOIN)
    answer = await ws.receive_str(timeout=2)
    assert answer.startswith("40/app,{")
    await ws.close()


async def test_an_upgraded_session_refuses_polls_and_closes_a_second_websocket(
    master: RunningMaster, http: aiohttp.ClientSession
) -> None:
    sid = await _open_polling(http, master)
    ws = await _upgrade(http, master, sid)
    await asyncio.sleep(0.05)  # the UPGRADE is read
    assert (await _request(http, "GET", _session(master, sid)))[0] == 400
    # A second WebSocket on the sid: the handshake completes, then the server closes it.
    late = await http.ws_connect(_session(master, sid, "websocket"))
    assert await _closes(late, within=2) == []
    # The session itself goes on over the first WebSocket.
    await ws.send_str(JOIN)
    assert (await ws.receive_str(timeout=2)).startswith("40/app,{")
    await ws.close()


# -- Socket.IO ------------------------------------------------------------------------------------


@pytest.mark.parametrize("join", ["40/random,", "40/random", '40/random,{"token":"x"}'])
async def test_an_unknown_namespace_is_refused_as_an_invalid_namespace(
    start_master: StartMaster, http: aiohttp.ClientSession, join: str
) -> None:
    master = await start_master()
    ws, _ = await _open_websocket(http, master)
    await ws.send_str(join)
    assert await ws.receive_str(timeout=2) == '44/random,{"message":"Invalid namespace"}'
    # The Engine.IO session stays: a known namespace can still be joined on it.
    await ws.send_str(JOIN)
    assert (await ws.receive_str(timeout=2)).startswith("40/app,{")
    await ws.close()
