"""Placement with bare runners: which runner is chosen, what it is sent, and what it reports."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.conftest import RunningMaster, StartMaster
from tests.e2e.test_packages import echo_package, upload
from tests.runners.clients import RawRunner, enrolment_token, wait_for

DEPLOYMENTS = "/api/v1/deployments"
SECRET = "choice-secret-0815"


async def labelled(
    master: RunningMaster, closing: list[Any], name: str, labels: list[str]
) -> tuple[RawRunner, str]:
    """Enrol and register a bare runner with `labels`; return it and its id."""
    runner = await RawRunner(master.url).connect(await enrolment_token(master, name))
    closing.append(runner)
    ack = await runner.register(name, labels=labels)
    assert ack["success"] is True, ack
    await runner.reconciles.get()  # the (empty) desired state every session begins with
    return runner, str(ack["id"])


async def beating(runner: RawRunner) -> None:
    """Send heartbeats until cancelled (a silent runner is lost after three intervals)."""
    while True:
        await runner.client.emit("heartbeat", {}, namespace="/runner")
        await asyncio.sleep(0.1)


async def next_command(runner: RawRunner) -> dict[str, Any]:
    """Return the next command the Master sent the runner."""
    return await asyncio.wait_for(runner.commands.get(), 5)


async def deploy(master: RunningMaster, sha: str, **fields: Any) -> dict[str, Any]:
    """Create a deployment of the echo revision and return the answer."""
    status, body = await master.api(
        "POST", DEPLOYMENTS, json={"app_id": "echo", "revision": sha, **fields}
    )
    assert status == 201, body
    return body


async def test_the_matching_runner_with_the_fewest_deployments_gets_the_next_one(
    start_master: StartMaster, closing: list[Any], tmp_path: Path
) -> None:
    master = await start_master(runners__heartbeat_interval="0.5")
    status, uploaded = await upload(master, echo_package(tmp_path / "echo", "1.0.0", None))
    assert status == 201, uploaded
    sha = uploaded["sha256"]
    gpu_a, a_id = await labelled(master, closing, "a", ["gpu", "eu"])
    gpu_b, b_id = await labelled(master, closing, "b", ["gpu"])
    beats = {
        name: asyncio.create_task(beating(item)) for name, item in (("a", gpu_a), ("b", gpu_b))
    }

    first = await deploy(
        master, sha, labels=["gpu"], name="one", env={"MODE": "x"}, secrets={"KEY": SECRET}
    )
    assert first["runner"] == a_id  # a tie: the oldest
    sent = await next_command(gpu_a)
    assert sent["type"] == "deploy" and sent["deployment"] == first["id"]
    assert sent["package"] == "echo" and sent["revision"] == sha
    assert sent["url"] == f"/api/v1/packages/echo/revisions/{sha}/download"
    assert sent["env"] == {"MODE": "x"} and sent["secrets"] == {"KEY": SECRET}
    assert (await next_command(gpu_a))["type"] == "start"

    # Its command's answer over REST does not carry the secrets.
    status, record = await master.api("GET", f"/api/v1/runners/{a_id}/commands/{sent['id']}")
    assert status == 200 and SECRET not in str(record), record

    second = await deploy(master, sha, labels=["gpu"], name="two", enabled=False)
    assert second["runner"] == b_id  # a has one already
    assert (await next_command(gpu_b))["type"] == "deploy"
    third = await deploy(master, sha, labels=["eu", "gpu"], name="three", enabled=False)
    assert third["runner"] == a_id  # only a has both

    # What the runner reports is what the deployment shows.
    await gpu_a.client.emit(
        "app_state",
        {"deployment": first["id"], "state": "running", "pid": 4242, "revision": sha},
        namespace="/runner",
    )

    async def shown_running() -> dict[str, Any] | None:
        _, body = await master.api("GET", f"{DEPLOYMENTS}/{first['id']}")
        return body if body["state"] == "running" else None

    running = await wait_for(shown_running)
    assert running["pid"] == 4242 and running["runner_name"] == "a"
    await gpu_a.client.emit(
        "log_chunk",
        {"deployment": first["id"], "stream": "stdout", "seq": 0, "lines": ["hello", "world"]},
        namespace="/runner",
    )

    async def logs() -> dict[str, Any] | None:
        _, body = await master.api("GET", f"{DEPLOYMENTS}/{first['id']}/logs?limit=1")
        return body if body["count"] else None

    last = await wait_for(logs)
    assert [(item["seq"], item["text"]) for item in last["items"]] == [(2, "world")]
    assert last["next_offset"] == 3

    # A runner that goes silent is lost, and so are its apps.
    beats["a"].cancel()

    async def shown_lost() -> dict[str, Any] | None:
        _, body = await master.api("GET", f"{DEPLOYMENTS}/{first['id']}")
        return body if body["state"] == "lost" else None

    await wait_for(shown_lost, timeout=10)
    # Labels only a lost runner has: nothing matches now.
    status, refused = await master.api(
        "POST", DEPLOYMENTS, json={"app_id": "echo", "revision": sha, "labels": ["eu"]}
    )
    assert status == 409 and refused["code"] == "no_runner_matches", refused
    beats["b"].cancel()
    await asyncio.gather(*beats.values(), return_exceptions=True)


async def test_a_runner_named_while_offline_gets_its_deployment_by_reconcile_with_secrets(
    start_master: StartMaster, closing: list[Any], tmp_path: Path
) -> None:
    master = await start_master()
    _, uploaded = await upload(master, echo_package(tmp_path / "echo", "1.0.0", None))
    sha = uploaded["sha256"]
    token = await enrolment_token(master, "away")
    runner = await RawRunner(master.url).connect(token)
    ack = await runner.register("away", labels=[])
    runner_id = ack["id"]
    await runner.close()

    created = await deploy(master, sha, runner=runner_id, secrets={"KEY": SECRET})
    assert created["runner"] == runner_id and created["state"] in ("stopped", "lost")
    status, view = await master.api("GET", f"/api/v1/runners/{runner_id}")
    assert [entry["state"] for entry in view["desired"]] == ["running"]
    assert SECRET not in str(view)

    again = await RawRunner(master.url).connect(ack["credential"])
    closing.append(again)
    assert (await again.register("away"))["success"] is True
    reconcile = await asyncio.wait_for(again.reconciles.get(), 5)
    [entry] = reconcile["desired"]
    assert entry["deployment"] == created["id"] and entry["state"] == "running"
    assert entry["secrets"] == {"KEY": SECRET} and entry["env"] == {}

    # Moved to this Master: the runner is told to remove it; here it is not installed.
    status, body = await master.api(
        "PATCH", f"{DEPLOYMENTS}/{created['id']}", json={"runner": "local"}
    )
    assert status == 409 and body["code"] == "not_installed", body
    status, body = await master.api(
        "PATCH", f"{DEPLOYMENTS}/{created['id']}", json={"labels": ["nowhere"]}
    )
    assert status == 409 and body["code"] == "no_runner_matches", body

    status, _ = await master.api("DELETE", f"{DEPLOYMENTS}/{created['id']}")
    assert status == 200
    removed = await asyncio.wait_for(again.commands.get(), 5)
    assert removed["type"] == "remove" and removed["deployment"] == created["id"]


async def test_a_runner_s_revision_must_have_been_uploaded(
    master: RunningMaster, closing: list[Any]
) -> None:
    _, runner_id = await labelled(master, closing, "box", ["gpu"])
    status, body = await master.api(
        "POST", DEPLOYMENTS, json={"app_id": "echo", "revision": "ab" * 32, "runner": runner_id}
    )
    assert status == 404 and body["code"] == "not_found", body
    _, listing = await master.api("GET", DEPLOYMENTS)
    assert listing["count"] == 0
