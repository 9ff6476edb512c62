"""Payloads nested deeper than JSON encoders go (254 levels) are refused as `invalid_payload`.

On every edge: a Socket.IO driver, a OneBot v11 connection, apps on /app and /ws, REST bodies.
None of them costs a traceback in the log, and the Master goes on serving everybody else.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tests.conftest import RunningMaster, StartMaster
from tests.support.flow_clients import FlowApp, SioDriver, event, start_app
from tests.support.onebot_client import OneBotClient
from tests.support.waiting import eventually

DEPTH = 300  # past orjson's 254 levels when encoding; within its 1024 when decoding
TOO_DEEP_TO_DECODE = 2000
DRIVER_TOKEN = "deep-driver-token"


def nested(depth: int) -> Any:
    """Return {"a": {"a": ... "leaf" ...}} nested `depth` levels deep."""
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


def nested_text(depth: int) -> str:
    """Return the JSON text of `nested(depth)`, written without a recursive encoder."""
    return '{"a":' * depth + '"leaf"' + "}" * depth


@dataclass
class Scene:
    """A Master with a bystander app that receives every message."""

    master: RunningMaster
    sink: FlowApp
    caplog: pytest.LogCaptureFixture

    async def assert_still_serving(self) -> None:
        """Check that a normal message still goes through, and that nothing was logged as a bug."""
        status, body = await self.master.api(
            "POST", "/api/v1/simulate", json={"content": "still there", "wait_ms": 0}
        )
        assert status == 200, body
        await self.sink.receive_ids([body["id"]])
        bugs = [
            record
            for record in self.caplog.records
            if record.exc_info is not None or record.levelno >= logging.ERROR
        ]
        assert bugs == [], [record.getMessage() for record in bugs]
        assert "Traceback" not in self.caplog.text


@pytest.fixture
async def scene(
    start_master: StartMaster, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Scene]:
    """Start the Master and the bystander; close the bystander before the Master stops."""
    caplog.set_level(logging.WARNING)
    master = await start_master(drivers__tokens=f'["{DRIVER_TOKEN}"]')
    sink = await start_app(master.url, "sink")
    yield Scene(master, sink, caplog)
    await sink.close()


def refused(answer: Any) -> bool:
    """Tell whether an ack is `{"success": false, "error": {"code": "invalid_payload", ...}}`."""
    return (
        isinstance(answer, dict)
        and answer.get("success") is False
        and answer["error"]["code"] == "invalid_payload"
        and bool(answer["error"]["message"])
    )


async def test_a_deep_driver_event_is_answered_invalid_payload(
    scene: Scene, closing: list[Any]
) -> None:
    """A Socket.IO driver's `event` and `events` with a segment nested 300 deep are refused."""
    driver = await SioDriver(scene.master.url).connect(DRIVER_TOKEN)
    closing.append(driver)
    assert (await driver.register())["success"]
    segments = [{"type": "text", "data": nested(DEPTH)}]

    single = await driver.call("event", event("deep", pid="deep-1", segments=segments))
    deep_batch = {"events": [event("deep", pid="deep-2", segments=segments)]}
    batch = await driver.call("events", deep_batch)
    normal = await driver.send("normal", pid="normal-1")

    assert refused(single), single
    # The whole batch refused, or the deep event in its answer list.
    assert refused(batch) or (isinstance(batch, list) and refused(batch[0])), batch
    assert normal["success"] is True, normal
    await scene.sink.receive_ids([normal["id"]])
    await scene.assert_still_serving()


async def test_a_deep_onebot_message_is_refused_and_the_connection_goes_on(scene: Scene) -> None:
    """A OneBot message with a segment nested 300 deep is not stored; the next one is."""
    master = scene.master
    async with aiohttp.ClientSession() as http:
        bot = await OneBotClient.connect(http, master.url, self_id=424242)
        try:
            await bot.group_message(
                123, 456, [{"type": "text", "data": nested(DEPTH)}], message_id=1001
            )
            await bot.group_message(123, 456, "normal", message_id=1002)
            _, listed = await eventually(
                lambda: master.api("GET", "/api/v1/messages?chat=123"),
                lambda answer: any(
                    item["platform_message_id"] == "1002" for item in answer[1]["items"]
                ),
            )
        finally:
            await bot.ws.close()

    assert [item["platform_message_id"] for item in listed["items"]] == ["1002"]
    warnings = [
        record.getMessage()
        for record in scene.caplog.records
        if record.name.startswith("kenkogo_master.transport.onebot")
        and record.levelno == logging.WARNING
    ]
    assert any("bad frame" in text and "nested deeper" in text for text in warnings), warnings
    await scene.assert_still_serving()


async def test_a_deep_app_event_on_socketio_is_answered_invalid_payload(scene: Scene) -> None:
    """An app's `reply` whose template params are nested 300 deep is refused on /app."""
    app = await start_app(scene.master.url, "deep-app")
    try:
        answer = await app.call(
            "reply", {"message_id": "m-1", "template": "greeting", "params": {"p": nested(DEPTH)}}
        )
        heartbeat = await app.call("heartbeat")
    finally:
        await app.close()

    assert refused(answer), answer
    assert "time_ms" in heartbeat
    await scene.assert_still_serving()


async def test_a_deep_app_event_on_ws_is_answered_invalid_payload(scene: Scene) -> None:
    """The same `reply` over the plain WebSocket envelope is refused there too."""
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(scene.master.url.replace("http", "ws", 1) + "/ws")
        try:
            await ws.send_json(
                {"type": "register", "seq": 1, "data": {"name": "deep-ws", "version": "1"}}
            )
            params = {"p": nested(DEPTH)}
            data = {"message_id": "m-1", "template": "greeting", "params": params}
            await ws.send_json({"type": "reply", "seq": 2, "data": data})
            await ws.send_json({"type": "heartbeat", "seq": 3})
            frames = [await ws.receive_json(timeout=5)]
            while frames[-1].get("seq") != 3:  # the heartbeat's answer comes last
                frames.append(await ws.receive_json(timeout=5))
        finally:
            await ws.close()

    by_seq = {frame.get("seq"): frame for frame in frames if frame["type"] != "state"}
    assert by_seq[1]["data"]["success"] is True, frames
    # Answered as the request (same type and seq), or on `error` for the frame as a whole.
    reply = by_seq.get(2) or by_seq[None]
    if reply["type"] == "reply":
        assert reply["data"]["success"] is False, reply
        error = reply["data"]["error"]
    else:
        assert reply["type"] == "error", reply
        error = reply["data"]
    assert error["code"] == "invalid_payload" and error["message"], reply
    assert "time_ms" in by_seq[3]["data"], frames
    await scene.assert_still_serving()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            '{"content": "x", "chat": {"type": "group", "id": "1", "name": '
            + nested_text(DEPTH)
            + "}}",
            id="deep-field",
        ),
        pytest.param('{"content": "x", "extra": ' + nested_text(DEPTH) + "}", id="deep-extra"),
        pytest.param(
            '{"content": "x", "chat": ' + nested_text(TOO_DEEP_TO_DECODE) + "}",
            id="too-deep-to-decode",
        ),
    ],
)
async def test_a_deep_rest_body_is_answered_400_invalid_payload(scene: Scene, body: str) -> None:
    """POST /api/v1/simulate with a body nested 300 (or 2000) deep is answered 400."""
    status, answer = await scene.master.api(
        "POST",
        "/api/v1/simulate",
        data=body,
        headers={"Content-Type": "application/json"},
    )

    assert status == 400, answer
    assert set(answer) == {"code", "message"}, answer
    assert answer["code"] == "invalid_payload", answer
    await scene.assert_still_serving()
