"""Placement: deployments land on the runner whose labels match, or stay on the local one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningMaster, StartMaster
from tests.e2e.test_packages import echo_package, install, upload
from tests.runners.clients import enrolment_token, wait_for
from tests.runners.test_runner_process import INTERVAL, RunnerProcess, alive, the_runner

DEPLOYMENTS = "/api/v1/deployments"
SECRET = "placement-secret-4711"  # must never come back in an answer or a log


async def shown(master: RunningMaster, deployment_id: str, state: str) -> dict[str, Any] | None:
    """Return GET /api/v1/deployments/{id} once it shows `state`."""
    status, body = await master.api("GET", f"{DEPLOYMENTS}/{deployment_id}")
    assert status == 200, body
    return body if body["state"] == state else None


@pytest.mark.timeout(300)
async def test_labels_place_a_deployment_on_the_matching_runner_and_rest_reaches_it(
    start_master: StartMaster, runner_process: list[RunnerProcess], tmp_path: Path
) -> None:
    master = await start_master(runners__heartbeat_interval=str(INTERVAL))
    master.settings.supervisor.master_url = master.url  # the local app's way back
    status, uploaded = await upload(master, echo_package(tmp_path / "echo", "1.0.0", None))
    assert status == 201, uploaded
    sha = uploaded["sha256"]

    runner = RunnerProcess(master, tmp_path / "runner", executor=None, labels="gpu")
    runner_process.append(runner)
    await runner.start(await enrolment_token(master))
    runner_id = (await wait_for(lambda: the_runner(master, "online"), timeout=20))["id"]

    # Labels no runner has (the local one has none by default): refused, nothing stored.
    for placement in ({"labels": ["nowhere"]}, {"labels": ["gpu", "nowhere"]}, {"runner": "x1"}):
        status, refused = await master.api(
            "POST", DEPLOYMENTS, json={"app_id": "echo", "revision": sha, **placement}
        )
        assert status == 409 and refused["code"] == "no_runner_matches", refused
    _, listing = await master.api("GET", DEPLOYMENTS)
    assert listing["count"] == 0

    status, created = await master.api(
        "POST",
        DEPLOYMENTS,
        json={
            "app_id": "echo",
            "revision": sha,
            "labels": ["gpu"],
            "env": {"GREETING": "hi"},
            "secrets": {"API_KEY": SECRET},
        },
    )
    assert status == 201, created
    assert created["runner"] == runner_id and created["runner_name"] == "box-1"
    assert created["labels"] == ["gpu"] and created["secret_names"] == ["API_KEY"]
    deployment_id = created["id"]

    # The runner fetches, installs with pip and starts it: its state is the runner's.
    running = await wait_for(lambda: shown(master, deployment_id, "running"), timeout=240, step=0.5)
    assert alive(running["pid"]), running
    assert (tmp_path / "runner" / "apps" / "echo" / sha / "READY").is_file()

    async def echo_registered() -> bool:
        return any(session.name == "echo" for session in iter(master.hub.apps.registry))

    await wait_for(echo_registered, timeout=30)
    status, simulated = await master.api(
        "POST", "/api/v1/simulate", json={"content": "/echo placed", "wait_ms": 5000}
    )
    assert status == 200 and "placed" in str(simulated["replies"]), simulated

    # Stop and start over REST reach the runner.
    status, stopped = await master.api("POST", f"{DEPLOYMENTS}/{deployment_id}/stop")
    assert status == 200, stopped
    await wait_for(lambda: shown(master, deployment_id, "stopped"), timeout=20)
    assert not alive(running["pid"])
    status, started = await master.api("POST", f"{DEPLOYMENTS}/{deployment_id}/start")
    assert status == 200, started
    again = await wait_for(lambda: shown(master, deployment_id, "running"), timeout=30)
    assert again["pid"] != running["pid"] and alive(again["pid"])

    # The logs come from the runner's chunks, numbered from 1, read on with next_offset.
    async def logs() -> dict[str, Any] | None:
        _, body = await master.api("GET", f"{DEPLOYMENTS}/{deployment_id}/logs?offset=1")
        return body if body["count"] else None

    first = await wait_for(logs, timeout=20)
    assert first["items"][0]["seq"] == 1 and first["items"][0]["stream"] in ("stdout", "stderr")
    assert first["next_offset"] == first["items"][-1]["seq"] + 1

    # What reconcile carries says so too (the secrets it sends are never stored with it).
    _, view = await master.api("GET", f"/api/v1/runners/{runner_id}")
    assert view["desired"] == [
        {
            "deployment": deployment_id,
            "package": "echo",
            "revision": sha,
            "url": f"/api/v1/packages/echo/revisions/{sha}/download",
            "state": "running",
        }
    ]

    # Without placement, it runs locally, as before.
    assert (await install(master, sha))["status"] == "ready"
    status, local = await master.api(
        "POST", DEPLOYMENTS, json={"app_id": "echo", "revision": sha, "name": "echo-here"}
    )
    assert status == 201 and local["runner"] == "local" and local["runner_name"] is None, local
    here = await wait_for(lambda: shown(master, local["id"], "running"), timeout=60, step=0.2)
    assert master.hub.apps.registry.get(here["instance_id"]).deployment == local["id"]

    # Deleting the remote one removes it from its runner.
    status, _ = await master.api("DELETE", f"{DEPLOYMENTS}/{deployment_id}")
    assert status == 200
    await wait_for(lambda: _no_apps(master, runner_id), timeout=20)
    assert not alive(again["pid"])

    _, listing = await master.api("GET", DEPLOYMENTS)
    assert SECRET not in str(listing) and SECRET.encode() not in runner.output
    assert b"Traceback" not in runner.output, runner.output.decode()[-4000:]


async def _no_apps(master: RunningMaster, runner_id: str) -> bool:
    _, view = await master.api("GET", f"/api/v1/runners/{runner_id}")
    return not view["apps"] and not view["desired"]


async def test_placements_that_cannot_be_read_are_refused(master: RunningMaster) -> None:
    bodies: list[dict[str, Any]] = [
        {"runner": "local", "labels": ["gpu"]},  # one or the other
        {"labels": []},
        {"labels": [""]},
        {"labels": "gpu"},
        {"runner": ""},
        {"runner": "../x"},
        {"labels": ["x"] * 33},
    ]
    for placement in bodies:
        status, body = await master.api(
            "POST", DEPLOYMENTS, json={"app_id": "echo", "revision": "r1", **placement}
        )
        assert status == 400 and body["code"] == "invalid_payload", (placement, body)


async def test_local_labels_come_from_the_config_and_the_local_runner_is_chosen_by_them(
    start_master: StartMaster,
) -> None:
    master = await start_master(supervisor__labels='["cpu"]')
    status, body = await master.api(
        "POST", DEPLOYMENTS, json={"app_id": "echo", "revision": "r1", "labels": ["cpu"]}
    )
    # Placed on the local runner, whose supervisor then finds the revision not installed.
    assert status == 409 and body["code"] == "not_installed", body
    status, body = await master.api(
        "POST", DEPLOYMENTS, json={"app_id": "echo", "revision": "r1", "labels": ["gpu"]}
    )
    assert status == 409 and body["code"] == "no_runner_matches", body
    assert "gpu" in body["message"]
