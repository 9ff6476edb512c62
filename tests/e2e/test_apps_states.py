"""Every app state and transition, driven by real apps and by an operator over REST."""

from __future__ import annotations

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


async def transitions(master: Any, instance_id: str) -> list[tuple[str, str, str]]:
    """Return an instance's recorded transitions as (from, to, reason key), checking the texts."""
    status, body = await master.api("GET", f"/api/v1/apps/{instance_id}")
    assert status == 200, body
    for step in body["transitions"]:
        assert step["reason"] == shown_text(master, step["reason_key"]), step
        assert isinstance(step["at_ms"], int)
    at = [step["at_ms"] for step in body["transitions"]]
    assert at == sorted(at)
    return [(step["from"], step["to"], step["reason_key"]) for step in body["transitions"]]


async def test_socketio_app_goes_connected_paused_scheduling(master: Any, fleet: Fleet) -> None:
    app = await fleet.sio(master.url)
    status, listed = await master.api("GET", "/api/v1/apps?state=connected")
    assert status == 200
    assert [item["state"] for item in listed["items"]] == ["connected"]
    instance_id = listed["items"][0]["id"]

    ack = await app.emit_logged("register", {"name": "weather", "version": "1.2.0"})
    state = await app.next_state()

    assert ack == {
        "success": True,
        "id": instance_id,
        "state": "scheduling",
        "heartbeat_interval": 30,
    }
    assert state == {
        "state": "scheduling",
        "reason": shown_text(master, "state.scheduling_started"),
    }
    assert app.timeline[:2] == ["ack:register", "state"]  # the state event follows the ack
    assert await transitions(master, instance_id) == [
        ("connected", "paused", "state.registered"),
        ("paused", "scheduling", "state.scheduling_started"),
    ]
    status, body = await master.api("GET", f"/api/v1/apps/{instance_id}")
    assert body["state"] == "scheduling"
    assert body["name"] == "weather"
    assert body["version"] == "1.2.0"
    assert body["transport"] == "socket.io"


async def test_websocket_app_goes_connected_paused_scheduling(master: Any, fleet: Fleet) -> None:
    app = await fleet.ws(master.url)
    await app.send(
        {"type": "register", "seq": 41, "data": {"name": "news", "version": "0.1", "author": "A"}}
    )
    answer = await app.recv()
    state = await app.recv()

    assert answer["type"] == "register"
    assert answer["seq"] == 41
    assert answer["data"]["success"] is True
    assert answer["data"]["state"] == "scheduling"
    assert state == {
        "type": "state",
        "data": {"state": "scheduling", "reason": shown_text(master, "state.scheduling_started")},
    }
    instance_id = answer["data"]["id"]
    _, body = await master.api("GET", f"/api/v1/apps/{instance_id}")
    assert body["transport"] == "websocket"
    assert body["author"] == "A"
    assert await transitions(master, instance_id) == [
        ("connected", "paused", "state.registered"),
        ("paused", "scheduling", "state.scheduling_started"),
    ]


async def test_operator_pauses_and_resumes_an_app(master: Any, fleet: Fleet) -> None:
    app, ack = await fleet.sio_registered(master.url)
    await app.next_state()
    instance_id = ack["id"]

    status, body = await master.api("POST", f"/api/v1/apps/{instance_id}/pause")
    assert (status, body["state"]) == (200, "paused")
    assert await app.next_state() == {
        "state": "paused",
        "reason": shown_text(master, "state.paused_by_operator"),
    }
    status, listed = await master.api("GET", "/api/v1/apps?state=paused")
    assert [item["id"] for item in listed["items"]] == [instance_id]

    status, body = await master.api("POST", f"/api/v1/apps/{instance_id}/resume")
    assert (status, body["state"]) == (200, "scheduling")
    assert await app.next_state() == {
        "state": "scheduling",
        "reason": shown_text(master, "state.resumed_by_operator"),
    }
    assert await transitions(master, instance_id) == [
        ("connected", "paused", "state.registered"),
        ("paused", "scheduling", "state.scheduling_started"),
        ("scheduling", "paused", "state.paused_by_operator"),
        ("paused", "scheduling", "state.resumed_by_operator"),
    ]


async def test_operator_pause_reaches_a_websocket_app(master: Any, fleet: Fleet) -> None:
    app, registered = await fleet.ws_registered(master.url)
    await app.until("state")

    status, _ = await master.api("POST", f"/api/v1/apps/{registered['id']}/pause")

    assert status == 200
    assert await app.until("state") == {
        "type": "state",
        "data": {"state": "paused", "reason": shown_text(master, "state.paused_by_operator")},
    }


@pytest.mark.parametrize(
    ("setup", "action", "from_state", "to_state"),
    [
        ([], "resume", "scheduling", "scheduling"),
        (["pause"], "pause", "paused", "paused"),
    ],
)
async def test_illegal_operator_transitions_are_409(
    master: Any, fleet: Fleet, setup: list[str], action: str, from_state: str, to_state: str
) -> None:
    _, ack = await fleet.sio_registered(master.url)
    for step in setup:
        assert (await master.api("POST", f"/api/v1/apps/{ack['id']}/{step}"))[0] == 200

    status, body = await master.api("POST", f"/api/v1/apps/{ack['id']}/{action}")

    assert status == 409
    assert body == {
        "code": "illegal_transition",
        "message": shown_text(
            master, "error.illegal_transition", from_state=from_state, to_state=to_state
        ),
    }
    status, current = await master.api("GET", f"/api/v1/apps/{ack['id']}")
    assert current["state"] == from_state


@pytest.mark.parametrize("action", ["pause", "resume"])
async def test_operator_cannot_pause_or_resume_an_unregistered_connection(
    master: Any, fleet: Fleet, action: str
) -> None:
    await fleet.sio(master.url)
    _, listed = await master.api("GET", "/api/v1/apps?state=connected")
    instance_id = listed["items"][0]["id"]

    status, body = await master.api("POST", f"/api/v1/apps/{instance_id}/{action}")

    assert status == 409
    assert body["code"] == "illegal_transition"
    assert "connected" in body["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/apps/{id}"),
        ("POST", "/api/v1/apps/{id}/pause"),
        ("POST", "/api/v1/apps/{id}/resume"),
        ("POST", "/api/v1/apps/{id}/kick"),
    ],
)
async def test_unknown_app_id_is_404(master: Any, method: str, path: str) -> None:
    status, body = await master.api(method, path.format(id="01nosuchapp0000000000000000"))

    assert status == 404
    assert body["code"] == "not_found"
    assert body["message"]


async def test_hold_pauses_a_name_and_keeps_new_instances_paused(master: Any, fleet: Fleet) -> None:
    first, first_ack = await fleet.sio_registered(master.url, "weather")
    await first.next_state()
    other, other_ack = await fleet.sio_registered(master.url, "news")
    await other.next_state()

    status, body = await master.api("POST", "/api/v1/app-names/weather/hold")
    assert status == 200
    assert body == {"name": "weather", "held": True, "paused": [first_ack["id"]]}
    held_reason = shown_text(master, "state.name_held")
    assert await first.next_state() == {"state": "paused", "reason": held_reason}

    second, second_ack = await fleet.sio_registered(master.url, "weather")
    assert second_ack["state"] == "paused"
    assert await second.next_state() == {"state": "paused", "reason": held_reason}
    ws, ws_registered = await fleet.ws_registered(master.url, "weather")
    assert ws_registered["state"] == "paused"
    assert (await ws.until("state"))["data"] == {"state": "paused", "reason": held_reason}

    status, resumed = await master.api("POST", f"/api/v1/apps/{second_ack['id']}/resume")
    assert status == 409
    assert resumed["code"] == "name_held"
    assert resumed["message"] == shown_text(master, "error.name_held", name="weather")

    _, listed = await master.api("GET", "/api/v1/apps?name=weather")
    assert {(item["state"], item["held"]) for item in listed["items"]} == {("paused", True)}
    _, news = await master.api("GET", f"/api/v1/apps/{other_ack['id']}")
    assert (news["state"], news["held"]) == ("scheduling", False)
    assert other.states.empty()

    status, body = await master.api("POST", "/api/v1/app-names/weather/release")
    assert status == 200
    assert body["held"] is False
    assert set(body["resumed"]) == {first_ack["id"], second_ack["id"], ws_registered["id"]}
    released = {"state": "scheduling", "reason": shown_text(master, "state.name_released")}
    assert await first.next_state() == released
    assert await second.next_state() == released
    assert (await ws.until("state"))["data"] == released
    assert await transitions(master, first_ack["id"]) == [
        ("connected", "paused", "state.registered"),
        ("paused", "scheduling", "state.scheduling_started"),
        ("scheduling", "paused", "state.name_held"),
        ("paused", "scheduling", "state.name_released"),
    ]
    assert await transitions(master, second_ack["id"]) == [
        ("connected", "paused", "state.registered"),
        ("paused", "scheduling", "state.name_released"),
    ]


async def test_release_leaves_an_operator_paused_instance_paused(master: Any, fleet: Fleet) -> None:
    app, ack = await fleet.sio_registered(master.url)
    await app.next_state()
    await master.api("POST", f"/api/v1/apps/{ack['id']}/pause")
    await master.api("POST", "/api/v1/app-names/weather/hold")
    await master.api("POST", "/api/v1/app-names/weather/release")

    _, body = await master.api("GET", f"/api/v1/apps/{ack['id']}")

    assert body["state"] == "paused"
    assert body["paused_by_operator"] is True


async def test_holding_a_name_never_seen_keeps_its_first_instance_paused(
    master: Any, fleet: Fleet
) -> None:
    status, body = await master.api("POST", "/api/v1/app-names/newcomer/hold")
    assert (status, body["paused"]) == (200, [])

    app, ack = await fleet.sio_registered(master.url, "newcomer")

    assert ack["state"] == "paused"
    assert (await app.next_state())["state"] == "paused"
    _, names = await master.api("GET", "/api/v1/app-names")
    assert [(item["name"], item["held"]) for item in names["items"]] == [("newcomer", True)]


async def test_kick_disconnects_the_app_and_records_why(master: Any, fleet: Fleet) -> None:
    app, ack = await fleet.sio_registered(master.url, locale="en")
    await app.next_state()
    bystander, bystander_ack = await fleet.sio_registered(master.url, "news")

    status, body = await master.api("POST", f"/api/v1/apps/{ack['id']}/kick")

    assert (status, body) == (200, {"id": ack["id"], "state": "disconnected"})
    assert await app.next_error() == {
        "code": "kicked",
        "message": shown_text(master, "error.kicked"),
    }
    await app.wait_disconnected()
    _, listed = await master.api("GET", "/api/v1/apps")
    assert [item["id"] for item in listed["items"]] == [bystander_ack["id"]]
    _, gone = await master.api("GET", f"/api/v1/apps/{ack['id']}")
    assert gone["state"] == "disconnected"
    assert (await transitions(master, ack["id"]))[-1] == (
        "scheduling",
        "disconnected",
        "state.kicked",
    )
    assert (await bystander.call("heartbeat"))["time_ms"] > 0
    status, again = await master.api("POST", f"/api/v1/apps/{ack['id']}/kick")
    assert (status, again["code"]) == (404, "not_found")


async def test_kick_closes_a_websocket_app(master: Any, fleet: Fleet) -> None:
    app, registered = await fleet.ws_registered(master.url)

    status, _ = await master.api("POST", f"/api/v1/apps/{registered['id']}/kick")

    assert status == 200
    error = await app.until("error")
    assert error["data"]["code"] == "kicked"
    await app.closed()


@pytest.mark.parametrize("transport", ["socket.io", "websocket"])
async def test_app_that_disconnects_is_recorded_disconnected(
    master: Any, fleet: Fleet, transport: str
) -> None:
    if transport == "socket.io":
        sio, ack = await fleet.sio_registered(master.url)
        instance_id = ack["id"]
        await sio.close()
    else:
        ws, registered = await fleet.ws_registered(master.url)
        instance_id = registered["id"]
        await ws.close()

    _, body = await eventually(
        lambda: master.api("GET", f"/api/v1/apps/{instance_id}"),
        lambda answer: answer[1]["state"] == "disconnected",
    )

    assert body["disconnected_ms"] >= body["registered_ms"]
    assert (await transitions(master, instance_id))[-1] == (
        "scheduling",
        "disconnected",
        "state.connection_closed",
    )
    _, listed = await master.api("GET", "/api/v1/apps")
    assert listed == {"items": [], "count": 0}


async def test_list_filters_by_state_and_name(master: Any, fleet: Fleet) -> None:
    _, weather = await fleet.sio_registered(master.url, "weather")
    _, news = await fleet.sio_registered(master.url, "news")
    await fleet.sio(master.url)
    await master.api("POST", f"/api/v1/apps/{news['id']}/pause")

    _, everything = await master.api("GET", "/api/v1/apps")
    _, scheduling = await master.api("GET", "/api/v1/apps?state=scheduling")
    _, named = await master.api("GET", "/api/v1/apps?name=news")
    _, both = await master.api("GET", "/api/v1/apps?name=news&state=scheduling")

    assert everything["count"] == 3
    assert [item["id"] for item in scheduling["items"]] == [weather["id"]]
    assert [(item["id"], item["state"]) for item in named["items"]] == [(news["id"], "paused")]
    assert both == {"items": [], "count": 0}
