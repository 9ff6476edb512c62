"""Liveness of apps: register and heartbeat timeouts, heartbeats, resume, a second register."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.fleet import Fleet
from tests.support.texts import shown_text
from tests.support.waiting import eventually


@pytest.fixture
async def fleet(start_master: Any) -> AsyncIterator[Fleet]:
    """App clients, closed before the Master stops."""
    clients = Fleet()
    yield clients
    await clients.close()


async def last_transition(master: Any, instance_id: str) -> dict[str, Any]:
    """Return the newest recorded transition of an instance."""
    status, body = await master.api("GET", f"/api/v1/apps/{instance_id}")
    assert status == 200, body
    last: dict[str, Any] = body["transitions"][-1]
    return last


async def test_socketio_app_that_never_registers_is_told_and_disconnected(
    start_master: Any, fleet: Fleet
) -> None:
    master = await start_master(apps__register_timeout="0.3")
    started = time.monotonic()
    app = await fleet.sio(master.url)
    _, listed = await master.api("GET", "/api/v1/apps")
    instance_id = listed["items"][0]["id"]

    error = await app.next_error(timeout=3)
    await app.wait_disconnected(timeout=3)

    assert error == {
        "code": "register_timeout",
        "message": shown_text(master, "error.register_timeout", seconds=0.3),
    }
    assert 0.3 <= time.monotonic() - started < 2.5
    assert app.timeline == ["error", "disconnect"]
    step = await last_transition(master, instance_id)
    assert (step["from"], step["to"], step["reason_key"]) == (
        "connected",
        "disconnected",
        "state.register_timeout",
    )
    assert step["reason"] == shown_text(master, "state.register_timeout")


async def test_websocket_app_that_never_registers_is_told_and_closed(
    start_master: Any, fleet: Fleet
) -> None:
    master = await start_master(apps__register_timeout="0.3")
    app = await fleet.ws(master.url)

    error = await app.until("error", timeout=3)
    await app.closed(timeout=3)

    assert error["data"]["code"] == "register_timeout"
    assert error["data"]["message"] == shown_text(master, "error.register_timeout", seconds=0.3)


async def test_registering_in_time_is_not_cut_off(start_master: Any, fleet: Fleet) -> None:
    master = await start_master(apps__register_timeout="0.4")
    app = await fleet.sio(master.url)
    await asyncio.sleep(0.2)
    ack = await app.register()

    await asyncio.sleep(0.6)

    assert ack["success"] is True
    assert app.connected
    assert app.errors.empty()


async def test_silent_app_is_disconnected_while_a_heartbeating_one_stays(
    start_master: Any, fleet: Fleet
) -> None:
    master = await start_master(apps__heartbeat_timeout="0.5")
    silent, silent_ack = await fleet.sio_registered(master.url, "silent")
    lively, lively_ack = await fleet.sio_registered(master.url, "lively")
    ws, ws_registered = await fleet.ws_registered(master.url, "lively-ws")

    async def keep_beating() -> None:
        while True:
            assert "time_ms" in await lively.call("heartbeat")
            assert "time_ms" in (await ws.request("heartbeat"))["data"]
            await asyncio.sleep(0.1)

    beating = asyncio.create_task(keep_beating())
    try:
        error = await silent.next_error(timeout=3)
        await silent.wait_disconnected(timeout=3)
        await asyncio.sleep(0.3)
    finally:
        beating.cancel()
        await asyncio.gather(beating, return_exceptions=True)

    assert error == {
        "code": "heartbeat_timeout",
        "message": shown_text(master, "error.heartbeat_timeout", seconds=0.5),
    }
    step = await last_transition(master, silent_ack["id"])
    assert (step["from"], step["to"], step["reason_key"]) == (
        "scheduling",
        "disconnected",
        "state.heartbeat_timeout",
    )
    assert step["reason"] == shown_text(master, "state.heartbeat_timeout")
    assert lively.connected
    assert lively.errors.empty()
    _, listed = await master.api("GET", "/api/v1/apps?state=scheduling")
    assert {item["id"] for item in listed["items"]} == {lively_ack["id"], ws_registered["id"]}


async def test_websocket_app_that_stops_heartbeating_is_closed(
    start_master: Any, fleet: Fleet
) -> None:
    master = await start_master(apps__heartbeat_timeout="0.4")
    app, _ = await fleet.ws_registered(master.url)

    error = await app.until("error", timeout=3)
    await app.closed(timeout=3)

    assert error["data"]["code"] == "heartbeat_timeout"


async def test_heartbeat_is_answered_with_the_server_clock(master: Any, fleet: Fleet) -> None:
    sio, _ = await fleet.sio_registered(master.url)
    ws, _ = await fleet.ws_registered(master.url, "news")

    before = time.time() * 1000
    sio_answer = await sio.call("heartbeat")
    ws_answer = await ws.request("heartbeat")
    after = time.time() * 1000

    assert set(sio_answer) == {"time_ms"}
    assert isinstance(sio_answer["time_ms"], int)
    assert before - 1000 <= sio_answer["time_ms"] <= after + 1000
    assert ws_answer["type"] == "heartbeat"
    assert ws_answer["seq"] == ws.seq
    assert set(ws_answer["data"]) == {"time_ms"}
    assert before - 1000 <= ws_answer["data"]["time_ms"] <= after + 1000


async def test_heartbeat_before_register_is_refused(master: Any, fleet: Fleet) -> None:
    sio = await fleet.sio(master.url)
    ws = await fleet.ws(master.url)

    sio_answer = await sio.call("heartbeat")
    ws_answer = await ws.request("heartbeat")

    expected = {
        "success": False,
        "error": {"code": "not_registered", "message": shown_text(master, "error.not_registered")},
    }
    assert sio_answer == expected
    assert ws_answer["data"] == expected


async def test_second_register_changes_nothing(master: Any, fleet: Fleet) -> None:
    sio, ack = await fleet.sio_registered(master.url, "weather")
    ws, registered = await fleet.ws_registered(master.url, "news")

    sio_again = await sio.register("other-name")
    ws_again = await ws.request("register", {"name": "other-name", "version": "2"})

    message = shown_text(master, "error.already_registered")
    assert sio_again == {
        "success": False,
        "error": {"code": "already_registered", "message": message},
        "id": ack["id"],
    }
    assert ws_again["data"] == {
        "success": False,
        "error": {"code": "already_registered", "message": message},
        "id": registered["id"],
    }
    _, body = await master.api("GET", f"/api/v1/apps/{ack['id']}")
    assert (body["name"], body["state"]) == ("weather", "scheduling")
    assert len(body["transitions"]) == 2
    _, names = await master.api("GET", "/api/v1/apps?name=other-name")
    assert names["count"] == 0


@pytest.mark.parametrize("transport", ["socket.io", "websocket"])
async def test_resume_within_the_window_gives_back_the_same_id(
    master: Any, fleet: Fleet, transport: str
) -> None:
    first, ack = await fleet.sio_registered(master.url, subscribe={"commands": ["/w"]})
    await first.close()
    await eventually(
        lambda: master.api("GET", f"/api/v1/apps/{ack['id']}"),
        lambda answer: answer[1]["state"] == "disconnected",
    )

    if transport == "socket.io":
        again, resumed = await fleet.sio_registered(master.url, resume=ack["id"])
        state = await again.next_state()
    else:
        ws, resumed = await fleet.ws_registered(master.url, resume=ack["id"])
        state = (await ws.until("state"))["data"]

    assert resumed["id"] == ack["id"]
    assert resumed["state"] == "scheduling"
    assert state == {
        "state": "scheduling",
        "reason": shown_text(master, "state.scheduling_started"),
    }
    _, body = await master.api("GET", f"/api/v1/apps/{ack['id']}")
    assert body["state"] == "scheduling"
    assert body["transport"] == transport
    assert [(step["from"], step["to"], step["reason_key"]) for step in body["transitions"]] == [
        ("connected", "paused", "state.registered"),
        ("paused", "scheduling", "state.scheduling_started"),
        ("scheduling", "disconnected", "state.connection_closed"),
        ("disconnected", "paused", "state.resumed"),
        ("paused", "scheduling", "state.scheduling_started"),
    ]
    _, listed = await master.api("GET", "/api/v1/apps")
    assert [item["id"] for item in listed["items"]] == [ack["id"]]


async def test_resumed_app_stays_paused_when_an_operator_paused_it(
    master: Any, fleet: Fleet
) -> None:
    first, ack = await fleet.sio_registered(master.url)
    await master.api("POST", f"/api/v1/apps/{ack['id']}/pause")
    await first.close()
    await eventually(
        lambda: master.api("GET", f"/api/v1/apps/{ack['id']}"),
        lambda answer: answer[1]["state"] == "disconnected",
    )

    again, resumed = await fleet.sio_registered(master.url, resume=ack["id"])

    assert (resumed["id"], resumed["state"]) == (ack["id"], "paused")
    assert await again.next_state() == {
        "state": "paused",
        "reason": shown_text(master, "state.paused_by_operator"),
    }


async def test_resume_after_the_window_gives_a_new_id(start_master: Any, fleet: Fleet) -> None:
    master = await start_master(apps__resume_window="0.2")
    first, ack = await fleet.sio_registered(master.url)
    await first.close()
    await asyncio.sleep(0.5)

    _, resumed = await fleet.sio_registered(master.url, resume=ack["id"])

    assert resumed["id"] != ack["id"]
    _, old = await master.api("GET", f"/api/v1/apps/{ack['id']}")
    assert old["state"] == "disconnected"


async def test_resume_after_a_kick_gives_a_new_id(master: Any, fleet: Fleet) -> None:
    first, ack = await fleet.sio_registered(master.url)
    await master.api("POST", f"/api/v1/apps/{ack['id']}/kick")
    await first.wait_disconnected()

    _, resumed = await fleet.sio_registered(master.url, resume=ack["id"])

    assert resumed["id"] != ack["id"]
    _, old = await master.api("GET", f"/api/v1/apps/{ack['id']}")
    assert old["transitions"][-1]["reason_key"] == "state.kicked"


async def test_resume_under_another_name_gives_a_new_id(master: Any, fleet: Fleet) -> None:
    first, ack = await fleet.sio_registered(master.url, "weather")
    await first.close()
    await eventually(
        lambda: master.api("GET", f"/api/v1/apps/{ack['id']}"),
        lambda answer: answer[1]["state"] == "disconnected",
    )

    _, resumed = await fleet.sio_registered(master.url, "news", resume=ack["id"])

    assert resumed["id"] != ack["id"]


async def test_resume_of_an_unknown_id_registers_afresh(master: Any, fleet: Fleet) -> None:
    app, ack = await fleet.sio_registered(master.url, resume="01nosuchapp0000000000000000")

    assert ack["id"] != "01nosuchapp0000000000000000"
    assert ack["state"] == "scheduling"
    assert (await app.next_state())["state"] == "scheduling"
