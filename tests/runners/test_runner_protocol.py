"""/runner with bare Socket.IO clients: enrolment, credentials, sessions, frames, liveness, REST."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import socketio

from tests.conftest import RunningMaster, StartMaster
from tests.runners.clients import (
    SHA,
    RawRunner,
    enrolled,
    enrolment_token,
    runner_view,
    wait_for,
)


async def test_an_enrolment_token_works_once_and_is_traded_for_a_credential(
    master: RunningMaster, closing: list[Any]
) -> None:
    token = await enrolment_token(master)
    first = await RawRunner(master.url).connect(token)
    closing.append(first)
    ack = await first.register("box-1", labels=["gpu"], capacity=4)
    assert ack["success"] is True and ack["heartbeat_interval"] == 10.0
    assert ack["credential"].startswith("kgrc_") and ack["credential"] != token

    second = RawRunner(master.url)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await second.connect(token)

    status, body = await master.api("GET", "/api/v1/runner-enrolments")
    assert status == 200
    [item] = body["items"]
    assert item["runner_id"] == ack["id"] and item["used_ms"] is not None
    assert "token" not in item and token not in str(body)

    # The credential is what the runner uses from now on; it carries its id.
    await first.close()
    again = await RawRunner(master.url).connect(ack["credential"])
    closing.append(again)
    answer = await again.register("box-1")
    assert answer["success"] is True and answer["id"] == ack["id"]
    assert "credential" not in answer

    view = await runner_view(master, ack["id"])
    assert view["state"] == "online" and view["labels"] == []  # as its latest register said


async def test_no_token_or_a_wrong_one_is_refused(master: RunningMaster) -> None:
    for token in (None, "", "kgre_not-a-token", 42):
        with pytest.raises(socketio.exceptions.ConnectionError):
            await RawRunner(master.url).connect(token)  # type: ignore[arg-type]
    status, body = await master.api("GET", "/api/v1/runners")
    assert status == 200 and body["count"] == 0


async def test_a_reconnect_under_the_same_id_replaces_the_old_session(
    master: RunningMaster, closing: list[Any]
) -> None:
    old, ack = await enrolled(master, closing)
    new = await RawRunner(master.url).connect(ack["credential"])
    closing.append(new)
    answer = await new.register("box-1", id=ack["id"])
    assert answer == {"success": True, "id": ack["id"], "heartbeat_interval": 10.0}
    await asyncio.wait_for(old.disconnected.wait(), 5)
    assert new.client.connected

    # Commands go to the new session only.
    status, body = await master.api(
        "POST",
        f"/api/v1/runners/{ack['id']}/commands",
        json={"type": "deploy", "deployment": "d1", "package": "echo", "revision": SHA},
    )
    assert status == 202, body
    command = await asyncio.wait_for(new.commands.get(), 5)
    assert command["id"] == body["id"] and command["type"] == "deploy"
    assert command["url"] == f"/api/v1/packages/echo/revisions/{SHA}/download"
    assert old.commands.empty()
    # ... and after every (re)connect the Master sends the desired state.
    reconcile = await asyncio.wait_for(new.reconciles.get(), 5)
    assert reconcile == {"desired": []}

    # A credential may not speak for another runner's id.
    other = await RawRunner(master.url).connect(ack["credential"])
    closing.append(other)
    refused = await other.register("box-1", id="someone-else")
    assert refused["success"] is False and refused["error"]["code"] == "forbidden"


async def test_bad_frames_are_answered_with_codes_and_change_nothing(
    master: RunningMaster, closing: list[Any]
) -> None:
    token = await enrolment_token(master)
    runner = await RawRunner(master.url).connect(token)
    closing.append(runner)

    answer = await runner.call("heartbeat", {})
    assert answer["error"]["code"] == "not_registered"
    answer = await runner.call("register", {"host": "no name"})
    assert answer["error"]["code"] == "invalid_payload" and "name" in answer["error"]["message"]
    answer = await runner.call("register", {"name": "x", "labels": "gpu"})
    assert answer["error"]["code"] == "invalid_payload"
    status, body = await master.api("GET", "/api/v1/runners")
    assert body["count"] == 0  # the token is still unspent: a good register works
    ack = await runner.register("box-1")
    assert ack["success"] is True
    # Each refusal was said on `error` too, before its answer.
    said = [runner.errors.get_nowait()["code"] for _ in range(runner.errors.qsize())]
    assert said == ["not_registered", "invalid_payload", "invalid_payload"]
    before = await runner_view(master, ack["id"])

    bad: list[tuple[str, Any, str]] = [
        ("register", {"name": "again"}, "already_registered"),
        ("launch_missiles", {}, "unknown_event"),
        ("heartbeat", {"resources": {"cpu_percent": "high"}}, "invalid_payload"),
        ("app_state", {"deployment": "d1", "state": "dancing"}, "invalid_payload"),
        ("app_state", {"state": "running"}, "invalid_payload"),
        (
            "log_chunk",
            {"deployment": "d1", "stream": "stdout", "seq": -1, "lines": []},
            "invalid_payload",
        ),
        (
            "log_chunk",
            {"deployment": "d1", "stream": "stdout", "seq": 0, "lines": ["x"] * 201},
            "invalid_payload",
        ),
        (
            "log_chunk",
            {"deployment": "d1", "stream": "stdin", "seq": 0, "lines": []},
            "invalid_payload",
        ),
        ("command_result", {"id": "never-sent", "status": "ok"}, "not_found"),
        ("command_result", {"id": "x", "status": "maybe"}, "invalid_payload"),
        ("heartbeat", "not an object", "invalid_payload"),
        (
            "log_chunk",
            {"deployment": "d1", "stream": "stdout", "seq": 0, "lines": ["x" * 70_000]},
            "payload_too_large",
        ),
    ]
    for event, data, code in bad:
        answer = await runner.call(event, data)
        assert answer["success"] is False and answer["error"]["code"] == code, (event, answer)
        assert answer["error"]["message"]
        error = await asyncio.wait_for(runner.errors.get(), 5)  # said on `error` too
        assert error["code"] == code

    after = await runner_view(master, ack["id"])
    assert after["apps"] == before["apps"] == [] and after["resources"] == {}
    status, _ = await master.api("GET", f"/api/v1/runners/{ack['id']}/apps/d1/logs")
    assert status == 404
    assert runner.client.connected  # bad frames never cost the connection


async def test_app_states_and_log_chunks_with_gaps_are_shown(
    master: RunningMaster, closing: list[Any]
) -> None:
    runner, ack = await enrolled(master, closing)
    runner_id = ack["id"]
    assert (await runner.call("app_state", {"deployment": "d1", "state": "starting"}))["success"]
    await runner.call("app_state", {"deployment": "d1", "state": "running", "pid": 123})
    chunk = {"deployment": "d1", "stream": "stdout", "seq": 0, "lines": ["one", "two"]}
    assert (await runner.call("log_chunk", chunk))["missing"] == 0
    chunk = {"deployment": "d1", "stream": "stdout", "seq": 3, "lines": ["five"]}
    assert (await runner.call("log_chunk", chunk))["missing"] == 2
    chunk = {"deployment": "d1", "stream": "stderr", "seq": 0, "lines": ["oops"]}
    assert (await runner.call("log_chunk", chunk))["missing"] == 0

    [app] = (await runner_view(master, runner_id))["apps"]
    assert app["deployment"] == "d1" and app["state"] == "running" and app["pid"] == 123
    status, logs = await master.api("GET", f"/api/v1/runners/{runner_id}/apps/d1/logs")
    assert status == 200 and logs["gaps"] == 2
    assert [(line["stream"], line["line"]) for line in logs["lines"]] == [
        ("stdout", "one"),
        ("stdout", "two"),
        ("stdout", "five"),
        ("stderr", "oops"),
    ]
    await runner.call("app_state", {"deployment": "d1", "state": "removed"})
    assert (await runner_view(master, runner_id))["apps"] == []


async def test_a_silent_runner_is_lost_after_three_intervals_with_its_apps(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await start_master(runners__heartbeat_interval="0.3")
    runner, ack = await enrolled(master, closing)
    assert ack["heartbeat_interval"] == 0.3
    await runner.call("app_state", {"deployment": "d1", "state": "running"})
    registered = time.monotonic()

    async def lost() -> dict[str, Any] | None:
        view = await runner_view(master, ack["id"])
        return view if view["state"] == "lost" else None

    view = await wait_for(lost, timeout=5)
    silent = time.monotonic() - registered
    assert 0.9 - 0.05 <= silent <= 0.9 + 1.0, silent
    assert view["connected"] is True  # the socket may still be open: silence decides
    assert [app["state"] for app in view["apps"]] == ["lost"]
    assert [app["reported_state"] for app in view["apps"]] == ["running"]

    await runner.call("heartbeat", {"resources": {"cpu_percent": 12.5, "apps": 1}})
    view = await runner_view(master, ack["id"])
    assert view["state"] == "online" and view["resources"] == {"cpu_percent": 12.5, "apps": 1}
    assert [app["state"] for app in view["apps"]] == ["running"]
