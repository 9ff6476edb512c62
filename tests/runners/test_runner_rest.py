"""REST of runners: admin-only enrolment, commands and their refusals, revoking, the events."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio

from tests.conftest import RunningMaster
from tests.e2e.test_events import stream
from tests.runners.clients import SHA, RawRunner, enrolled, runner_view


async def test_enrolment_tokens_are_admin_only_audited_and_revocable(master: RunningMaster) -> None:
    status, read = await master.api("POST", "/api/v1/tokens", json={"name": "r", "scope": "read"})
    assert status == 201
    headers = {"Authorization": f"Bearer {read['token']}"}
    status, body = await master.api(
        "POST", "/api/v1/runner-enrolments", json={"name": "x"}, headers=headers
    )
    assert (status, body["code"]) == (403, "forbidden")
    status, body = await master.api("GET", "/api/v1/runner-enrolments", headers=headers)
    assert (status, body["code"]) == (403, "forbidden")
    status, body = await master.api("GET", "/api/v1/runners", headers=headers)
    assert status == 200  # reading the runners is for any token

    for bad in ({}, {"name": ""}, {"name": "x" * 101}, {"name": "x", "extra": 1}, []):
        status, body = await master.api("POST", "/api/v1/runner-enrolments", json=bad)
        assert (status, body["code"]) == (400, "invalid_payload"), bad

    status, made = await master.api("POST", "/api/v1/runner-enrolments", json={"name": "box"})
    assert status == 201 and made["token"].startswith("kgre_")
    status, body = await master.api("DELETE", f"/api/v1/runner-enrolments/{made['id']}")
    assert status == 200 and body == {"id": made["id"], "deleted": True}
    status, body = await master.api("DELETE", f"/api/v1/runner-enrolments/{made['id']}")
    assert (status, body["code"]) == (404, "not_found")
    with pytest.raises(socketio.exceptions.ConnectionError):  # a revoked token is refused
        await RawRunner(master.url).connect(made["token"])

    status, audit = await master.api("GET", "/api/v1/audit")
    actions = [row["action"] for row in audit["items"]]
    assert "create_runner_enrolment" in actions and "delete_runner_enrolment" in actions
    assert made["token"] not in str(audit)


async def test_commands_are_refused_with_codes_when_they_cannot_be_sent(
    master: RunningMaster, closing: list[Any]
) -> None:
    runner, ack = await enrolled(master, closing)
    path = f"/api/v1/runners/{ack['id']}/commands"
    status, body = await master.api(
        "POST", "/api/v1/runners/nobody/commands", json={"type": "start", "deployment": "d1"}
    )
    assert (status, body["code"]) == (404, "not_found")
    bad_bodies: list[Any] = [
        {"type": "launch", "deployment": "d1"},
        {"type": "start"},
        {"type": "deploy", "deployment": "d1", "package": "p", "revision": "not-a-sha"},
        {"type": "deploy", "deployment": "d1"},  # no package nor revision
        {"type": "start", "deployment": "a b"},
        {"type": "logs", "deployment": "d1", "lines": 0},
        {"type": "start", "deployment": "d1", "wait_ms": -1},
    ]
    for bad in bad_bodies:
        status, body = await master.api("POST", path, json=bad)
        assert (status, body["code"]) == (400, "invalid_payload"), bad
    status, body = await master.api("POST", path, json={"type": "start", "deployment": "d1"})
    assert (status, body["code"]) == (404, "not_found")  # never deployed

    deploy = {"id": "c-1", "type": "deploy", "deployment": "d1", "package": "p", "revision": SHA}
    status, body = await master.api("POST", path, json=deploy)
    assert status == 202 and body["state"] in ("sent", "acked") and body["sends"] == 1
    status, body = await master.api("POST", path, json={**deploy, "type": "remove"})
    assert (status, body["code"]) == (409, "already_exists")  # the id names another command
    assert runner.commands.qsize() == 1
    view = await runner_view(master, ack["id"])
    assert [entry["deployment"] for entry in view["desired"]] == ["d1"]

    # The runner answers; the result is kept under the command's id.
    await asyncio.wait_for(runner.commands.get(), 5)
    assert (await runner.call("command_result", {"id": "c-1", "status": "ok"}))["success"]
    status, body = await master.api("GET", f"/api/v1/runners/{ack['id']}/commands/c-1")
    assert status == 200 and body["state"] == "ok" and body["acked_ms"] is not None
    status, body = await master.api("GET", f"/api/v1/runners/{ack['id']}/commands/c-2")
    assert (status, body["code"]) == (404, "not_found")

    await runner.close()
    await asyncio.sleep(0.2)
    status, body = await master.api("POST", path, json={"type": "stop", "deployment": "d1"})
    assert (status, body["code"]) == (409, "runner_offline")
    assert "not connected" in body["message"]
    view = await runner_view(master, ack["id"])
    assert view["desired"][0]["state"] == "stopped"  # nothing changed: it was never started


async def test_revoking_a_runner_cuts_it_off_and_refuses_its_credential(
    master: RunningMaster, closing: list[Any]
) -> None:
    runner, ack = await enrolled(master, closing)
    status, body = await master.api("DELETE", f"/api/v1/runners/{ack['id']}")
    assert status == 200 and body == {"id": ack["id"], "deleted": True}
    await asyncio.wait_for(runner.disconnected.wait(), 5)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await RawRunner(master.url).connect(ack["credential"])
    status, body = await master.api("GET", f"/api/v1/runners/{ack['id']}")
    assert (status, body["code"]) == (404, "not_found")
    status, body = await master.api("DELETE", f"/api/v1/runners/{ack['id']}")
    assert (status, body["code"]) == (404, "not_found")


async def test_runner_changes_are_published_on_the_runners_topic(
    master: RunningMaster, closing: list[Any]
) -> None:
    async with stream(master, "?topics=runners") as reader:
        runner, ack = await enrolled(master, closing)
        enrolled_event = await reader.event("runners.enrolled")
        assert enrolled_event["data"]["id"] == ack["id"]
        state = await reader.event("runners.state")
        assert state["data"]["id"] == ack["id"] and state["data"]["state"] == "online"
        await runner.call("app_state", {"deployment": "d1", "state": "running"})
        app = await reader.event("runners.app_state")
        assert app["data"] == {
            "runner": ack["id"],
            "deployment": "d1",
            "state": "running",
            "detail": "",
            "pid": None,
            "exit_code": None,
        }
        await runner.call(
            "log_chunk", {"deployment": "d1", "stream": "stdout", "seq": 0, "lines": ["hi"]}
        )
        chunk = await reader.event("runners.log")
        assert chunk["data"]["lines"] == ["hi"] and chunk["data"]["missing"] == 0
