"""A package deployed for real: uploaded, installed with pip, run by the supervisor, answering."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import StartMaster
from tests.e2e.test_packages import echo_package, install, upload
from tests.support.waiting import eventually


@pytest.mark.timeout(600)
async def test_an_installed_package_deployed_registers_and_answers(
    start_master: StartMaster, tmp_path: Path
) -> None:
    master = await start_master()
    # The fixture listens on a free port, not on server.port: tell the apps where it is.
    master.settings.supervisor.master_url = master.url
    status, revision = await upload(master, echo_package(tmp_path / "v1", "1.0.0", None))
    assert status == 201, revision
    sha = revision["sha256"]
    assert (await install(master, sha))["status"] == "ready"

    status, created = await master.api(
        "POST", "/api/v1/deployments", json={"app_id": "echo", "revision": sha}
    )
    assert status == 201, created

    async def deployment() -> dict[str, Any]:
        return (await master.api("GET", f"/api/v1/deployments/{created['id']}"))[1]

    # [ready] when = "registered": running means the app registered as itself.
    body = await eventually(deployment, lambda b: b["state"] == "running", 60)
    session = master.hub.apps.registry.get(body["instance_id"])
    assert session.name == "echo" and session.deployment == created["id"]
    status, simulated = await master.api(
        "POST", "/api/v1/simulate", json={"content": "/echo deployed", "wait_ms": 5000}
    )
    assert status == 200 and "deployed" in str(simulated["replies"]), simulated
    status, stopped = await master.api("POST", f"/api/v1/deployments/{created['id']}/stop")
    assert status == 200 and stopped["state"] == "stopped" and stopped["exit_code"] == 0
