"""Bad input on /app and /ws: each answered with `{code, message}`, nobody else disturbed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tests.support.clients import SioApp, WsApp
from tests.support.fleet import Fleet
from tests.support.raw_sio import RawSocketIO
from tests.support.texts import shown_text

LIMIT = 1024  # limits.max_payload in these tests
HARD_LIMIT = 1024 * 1024  # frames past this close the connection instead of being answered


@dataclass
class Scene:
    """A Master with a small payload limit and two well-behaved apps already scheduling."""

    master: Any
    fleet: Fleet
    sio_bystander: SioApp
    ws_bystander: WsApp

    async def assert_bystanders_unaffected(self) -> None:
        """Check that the other apps still heartbeat and are still scheduling."""
        assert "time_ms" in await self.sio_bystander.call("heartbeat")
        assert "time_ms" in (await self.ws_bystander.request("heartbeat"))["data"]
        assert self.sio_bystander.errors.empty()
        status, listed = await self.master.api("GET", "/api/v1/apps?state=scheduling")
        assert status == 200
        assert {item["name"] for item in listed["items"]} >= {"bystander", "bystander-ws"}
        async with self.master.http.get(self.master.url + "/health") as response:
            assert response.status == 200


@pytest.fixture
async def scene(start_master: Any) -> AsyncIterator[Scene]:
    """Start the Master and the bystanders; close every client before the Master stops."""
    master = await start_master(limits__max_payload=str(LIMIT))
    fleet = Fleet()
    sio, _ = await fleet.sio_registered(master.url, "bystander")
    ws, _ = await fleet.ws_registered(master.url, "bystander-ws")
    yield Scene(master, fleet, sio, ws)
    await fleet.close()


def assert_error(error: dict[str, Any], code: str, *mentions: str) -> None:
    """Check a `{code, message}` error: the code, and a message naming what was wrong."""
    assert set(error) == {"code", "message"}, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str)
    assert error["message"]
    assert not error["message"].startswith("error."), error
    for mention in mentions:
        assert mention in error["message"], error


# -- Socket.IO ------------------------------------------------------------------------------

REGISTER_CASES = [
    pytest.param("not an object", "invalid_payload", (), id="string-payload"),
    pytest.param(["weather", "1.0"], "invalid_payload", (), id="list-payload"),
    pytest.param({"name": "weather"}, "invalid_payload", ("version",), id="missing-version"),
    pytest.param({"version": "1.0"}, "invalid_payload", ("name",), id="missing-name"),
    pytest.param({"name": 42, "version": "1.0"}, "invalid_payload", ("name",), id="name-int"),
    pytest.param(
        {"name": "weather", "version": "1.0", "priority": "high"},
        "invalid_payload",
        ("priority",),
        id="priority-string",
    ),
    pytest.param(
        {"name": "weather", "version": "1.0", "subscribe": ["group"]},
        "invalid_payload",
        ("subscribe",),
        id="subscribe-list",
    ),
    pytest.param(
        {"name": "weather", "version": "1.0", "subscribe": {"chats": "group"}},
        "invalid_payload",
        ("chats",),
        id="filter-not-a-list",
    ),
    pytest.param({"name": "", "version": "1.0"}, "invalid_payload", ("name",), id="empty-name"),
    pytest.param(
        {"name": "x" * 65, "version": "1.0"}, "invalid_payload", ("name",), id="name-too-long"
    ),
    pytest.param(
        {"name": "weather", "version": "1.0", "block": "yes"},
        "invalid_payload",
        ("block",),
        id="block-string",
    ),
    pytest.param(
        {"name": "weather", "version": "1.0", "subscribe": {"regex": ["(unclosed"]}},
        "invalid_regex",
        ("(unclosed",),
        id="bad-regex",
    ),
    pytest.param(
        {"name": "weather", "version": "1.0", "description": "d" * (LIMIT + 10)},
        "payload_too_large",
        (f"{LIMIT:,}",),
        id="oversized",
    ),
    pytest.param(
        {"name": "weather", "version": "1.0", "description": "天" * (LIMIT // 2)},
        "payload_too_large",
        (f"{LIMIT:,}",),
        id="oversized-in-bytes-not-characters",
    ),
    pytest.param(
        {"name": "weather", "version": "1.0", "description": b"\x00\x01" * 10},
        "invalid_payload",
        ("description",),
        id="binary-field",
    ),
    pytest.param(b"\x00\x01\x02", "invalid_payload", (), id="binary-payload"),
    pytest.param(b"\x00" * (LIMIT + 1), "payload_too_large", (), id="binary-oversized"),
]


@pytest.mark.parametrize(("payload", "code", "mentions"), REGISTER_CASES)
async def test_bad_register_over_socketio_is_answered_and_harmless(
    scene: Scene, payload: Any, code: str, mentions: tuple[str, ...]
) -> None:
    app = await scene.fleet.sio(scene.master.url)

    answer = await app.call("register", payload)

    assert answer["success"] is False
    assert_error(answer["error"], code, *mentions)
    assert app.connected
    ack = await app.register("weather")  # the connection is still usable, and still unregistered
    assert ack["success"] is True
    await scene.assert_bystanders_unaffected()


async def test_deeply_nested_payload_over_socketio_is_refused(scene: Scene) -> None:
    deep = "[" * 300 + "]" * 300
    frame = f'42/app,1["register",{{"name":"weather","version":"1","subscribe":{deep}}}]'
    async with aiohttp.ClientSession() as http:
        raw = await RawSocketIO.connect(http, scene.master.url)
        await raw.send_raw(frame)
        answer = await raw.ack(1)
        registered = await raw.call("register", {"name": "raw", "version": "1"})
        await raw.close()

    assert answer["success"] is False
    assert_error(answer["error"], "invalid_payload")
    assert registered["success"] is True
    await scene.assert_bystanders_unaffected()


async def test_unknown_event_over_socketio_is_answered_on_ack_and_error_event(
    scene: Scene,
) -> None:
    app = await scene.fleet.sio(scene.master.url)

    answer = await app.call("teleport", {"to": "mars"})
    error = await app.next_error()

    message = shown_text(scene.master, "error.unknown_event", event="teleport")
    assert answer == {"success": False, "error": {"code": "unknown_event", "message": message}}
    assert error == {"code": "unknown_event", "message": message}
    assert app.connected
    await scene.assert_bystanders_unaffected()


async def test_unknown_event_without_ack_gets_an_error_event(scene: Scene) -> None:
    app, _ = await scene.fleet.sio_registered(scene.master.url)

    await app.client.emit("teleport", {"to": "mars"}, namespace="/app")
    error = await app.next_error()

    assert_error(error, "unknown_event", "teleport")
    assert "time_ms" in await app.call("heartbeat")
    await scene.assert_bystanders_unaffected()


async def test_oversized_event_without_ack_gets_an_error_event(scene: Scene) -> None:
    app, _ = await scene.fleet.sio_registered(scene.master.url)

    await app.client.emit("heartbeat", {"padding": "p" * (LIMIT * 2)}, namespace="/app")
    error = await app.next_error()

    assert_error(error, "payload_too_large", f"{LIMIT:,}")
    assert "time_ms" in await app.call("heartbeat")
    await scene.assert_bystanders_unaffected()


MALFORMED_FRAMES = [
    pytest.param('42/app,7["register",{not json', id="broken-json"),
    pytest.param("42/app,7not json at all", id="no-json"),
    pytest.param('42/app,7{"event":"register"}', id="not-a-list"),
    pytest.param("42/app,7[]", id="no-event-name"),
    pytest.param("42/app,7[42]", id="event-name-int"),
]


@pytest.mark.parametrize("frame", MALFORMED_FRAMES)
async def test_malformed_socketio_frame_leaves_everyone_working(scene: Scene, frame: str) -> None:
    async with aiohttp.ClientSession() as http:
        raw = await RawSocketIO.connect(http, scene.master.url)
        await raw.send_raw(frame)
        registered = await raw.call("register", {"name": "raw", "version": "1"})
        heartbeat = await raw.call("heartbeat")
        await raw.close()

    assert registered["success"] is True
    assert "time_ms" in heartbeat
    await scene.assert_bystanders_unaffected()


@pytest.mark.parametrize("frame", MALFORMED_FRAMES)
async def test_malformed_socketio_frame_is_answered_with_an_error_event(
    scene: Scene, frame: str
) -> None:
    async with aiohttp.ClientSession() as http:
        raw = await RawSocketIO.connect(http, scene.master.url)
        await raw.send_raw(frame)
        error = await raw.event("error", timeout=2)
        await raw.close()

    assert error["code"] in {"invalid_json", "invalid_payload", "unknown_event"}
    assert_error(error, error["code"])


async def test_socketio_frame_past_the_hard_limit_closes_only_that_connection(
    scene: Scene,
) -> None:
    app, _ = await scene.fleet.sio_registered(scene.master.url)

    await app.client.emit("heartbeat", {"padding": "p" * (HARD_LIMIT + 1)}, namespace="/app")

    await app.wait_disconnected()
    await scene.assert_bystanders_unaffected()


# -- plain WebSocket ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code", "mentions"),
    [
        pytest.param("not json", "invalid_json", (), id="not-json"),
        pytest.param('{"type": "register", "data": {', "invalid_json", (), id="truncated-json"),
        pytest.param("", "invalid_json", (), id="empty"),
        pytest.param("[1, 2]", "invalid_payload", (), id="json-list"),
        pytest.param('"register"', "invalid_payload", (), id="json-string"),
        pytest.param('{"data": {}}', "invalid_payload", ("type",), id="missing-type"),
        pytest.param('{"type": 5}', "invalid_payload", ("type",), id="type-int"),
        pytest.param(
            '{"type": "register", "seq": "one"}', "invalid_payload", ("seq",), id="seq-str"
        ),
        pytest.param(
            json.dumps({"type": "register", "data": {"name": "x", "description": "d" * LIMIT}}),
            "payload_too_large",
            (f"{LIMIT:,}",),
            id="oversized",
        ),
        pytest.param(
            json.dumps(
                {"type": "heartbeat", "data": {"pad": "天" * (LIMIT // 2)}}, ensure_ascii=False
            ),
            "payload_too_large",
            (f"{LIMIT:,}",),
            id="oversized-in-bytes-not-characters",
        ),
    ],
)
async def test_bad_websocket_frame_is_answered_and_harmless(
    scene: Scene, frame: str, code: str, mentions: tuple[str, ...]
) -> None:
    app = await scene.fleet.ws(scene.master.url)

    await app.ws.send_str(frame)
    answer = await app.recv()

    assert answer["type"] == "error"
    assert_error(answer["data"], code, *mentions)
    assert (await app.request("ping"))["type"] == "pong"  # the connection stays open
    registered = await app.request("register", {"name": "weather", "version": "1.0"})
    assert registered["data"]["success"] is True
    await scene.assert_bystanders_unaffected()


async def test_binary_websocket_frame_is_answered_and_harmless(scene: Scene) -> None:
    app = await scene.fleet.ws(scene.master.url)

    await app.ws.send_bytes(b'{"type": "ping"}')
    answer = await app.recv()

    assert answer["type"] == "error"
    assert_error(answer["data"], "invalid_json")
    assert (await app.request("ping"))["type"] == "pong"
    await scene.assert_bystanders_unaffected()


@pytest.mark.parametrize(
    ("data", "mentions"),
    [
        pytest.param({"name": "weather"}, ("version",), id="missing-version"),
        pytest.param({"name": ["weather"], "version": "1"}, ("name",), id="name-list"),
        pytest.param("weather", (), id="data-string"),
        pytest.param({"name": "w", "version": "1", "priority": 1.5}, ("priority",), id="float"),
    ],
)
async def test_bad_register_over_websocket_echoes_seq(
    scene: Scene, data: Any, mentions: tuple[str, ...]
) -> None:
    app = await scene.fleet.ws(scene.master.url)

    await app.send({"type": "register", "seq": 77, "data": data})
    answer = await app.recv()

    assert answer["type"] == "register"
    assert answer["seq"] == 77
    assert answer["data"]["success"] is False
    assert_error(answer["data"]["error"], "invalid_payload", *mentions)
    await scene.assert_bystanders_unaffected()


async def test_unknown_websocket_type_is_an_error_with_its_seq(scene: Scene) -> None:
    app = await scene.fleet.ws(scene.master.url)

    await app.send({"type": "teleport", "seq": 9, "data": {"to": "mars"}})
    answer = await app.recv()

    assert answer == {
        "type": "error",
        "seq": 9,
        "data": {
            "code": "unknown_event",
            "message": shown_text(scene.master, "error.unknown_event", event="teleport"),
        },
    }
    await scene.assert_bystanders_unaffected()


async def test_ping_is_answered_with_pong_and_its_seq(scene: Scene) -> None:
    app = await scene.fleet.ws(scene.master.url)

    await app.send({"type": "ping"})
    plain = await app.recv()
    await app.send({"type": "ping", "seq": 123456})
    numbered = await app.recv()

    assert plain == {"type": "pong"}
    assert numbered == {"type": "pong", "seq": 123456}


async def test_every_answer_carries_the_seq_of_its_request(scene: Scene) -> None:
    app = await scene.fleet.ws(scene.master.url)

    await app.send({"type": "register", "seq": 1, "data": {"name": "w", "version": "1"}})
    await app.send({"type": "heartbeat", "seq": 2})
    await app.send({"type": "register", "seq": 3, "data": {"name": "w", "version": "1"}})
    answers = [frame for frame in [await app.recv() for _ in range(4)] if frame["type"] != "state"]

    assert [(frame["type"], frame["seq"]) for frame in answers] == [
        ("register", 1),
        ("heartbeat", 2),
        ("register", 3),
    ]
    assert answers[2]["data"]["error"]["code"] == "already_registered"


async def test_websocket_frame_past_the_hard_limit_closes_only_that_connection(
    scene: Scene,
) -> None:
    app = await scene.fleet.ws(scene.master.url)

    await app.ws.send_str(json.dumps({"type": "ping", "pad": "p" * (HARD_LIMIT + 1)}))
    closing = await app.closed()

    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    await scene.assert_bystanders_unaffected()
