"""A package deployed for real: uploaded, installed with pip, run by the supervisor, answering."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from kenkogo_master.deploy.pack import pack
from tests.conftest import StartMaster
from tests.e2e.test_packages import echo_package, install, upload
from tests.support.waiting import eventually

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


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
    # A broken upgrade fails its install in words and leaves the running revision as it is.
    status, broken = await upload(
        master, echo_package(tmp_path / "v2", "1.0.1", "this-package-does-not-exist==1\n")
    )
    assert status == 201, broken
    failed = await install(master, broken["sha256"])
    assert failed["status"] == "failed", failed
    assert "this-package-does-not-exist" in failed["error"], failed
    status, body = await master.api(
        "PATCH", f"/api/v1/deployments/{created['id']}", json={"revision": broken["sha256"]}
    )
    assert status == 409 and body["code"] == "not_installed", body
    body = await deployment()
    assert body["state"] == "running" and body["revision"] == sha, body
    status, simulated = await master.api(
        "POST", "/api/v1/simulate", json={"content": "/echo still here", "wait_ms": 5000}
    )
    assert status == 200 and "still here" in str(simulated["replies"]), simulated
    status, stopped = await master.api("POST", f"/api/v1/deployments/{created['id']}/stop")
    assert status == 200 and stopped["state"] == "stopped" and stopped["exit_code"] == 0


async def deployed_and_running(master: Any, folder: Path, app_id: str, **extra: Any) -> str:
    """Pack an example folder, upload, install and deploy it; return the running deployment's id."""
    archive, _ = pack(folder, folder.parent / f"{app_id}.zip")
    status, revision = await upload(master, archive.read_bytes())
    assert status == 201, revision
    sha = revision["sha256"]
    path = f"/api/v1/packages/{app_id}/revisions/{sha}/install"
    status, body = await master.api("POST", path)
    assert status == 202, body

    async def installed() -> dict[str, Any]:
        return (await master.api("GET", path))[1]

    record = await eventually(installed, lambda b: b["status"] != "installing", 300, 0.5)
    assert record["status"] == "ready", record
    status, created = await master.api(
        "POST", "/api/v1/deployments", json={"app_id": app_id, "revision": sha, **extra}
    )
    assert status == 201, created

    async def deployment() -> dict[str, Any]:
        return (await master.api("GET", f"/api/v1/deployments/{created['id']}"))[1]

    await eventually(deployment, lambda b: b["state"] == "running", 60)
    return str(created["id"])


@pytest.mark.timeout(600)
async def test_the_weather_and_keyword_logger_examples_deploy_as_packages(
    start_master: StartMaster, tmp_path: Path
) -> None:
    """The other SDK examples, packed from their folders as they are, install and answer."""
    master = await start_master()
    master.settings.supervisor.master_url = master.url
    noted = tmp_path / "noted.jsonl"
    copies = tmp_path / "copies"
    for name in ("weather", "keyword_logger"):
        caches = shutil.ignore_patterns("__pycache__")
        shutil.copytree(EXAMPLES / name, copies / name, ignore=caches)
    await asyncio.gather(
        deployed_and_running(master, copies / "weather", "weather"),
        deployed_and_running(
            master, copies / "keyword_logger", "keyword-logger", env={"KEYWORD_LOG": str(noted)}
        ),
    )
    status, simulated = await master.api(
        "POST", "/api/v1/simulate", json={"content": "/weather tokyo", "wait_ms": 5000}
    )
    assert status == 200 and "12" in json.dumps(simulated["replies"]), simulated
    status, simulated = await master.api(
        "POST", "/api/v1/simulate", json={"content": "found a bug", "wait_ms": 500}
    )
    assert status == 200, simulated

    async def noted_lines() -> list[str]:
        return noted.read_text(encoding="utf-8").splitlines() if noted.exists() else []

    lines = await eventually(noted_lines, lambda found: len(found) == 1, 15)
    assert json.loads(lines[0])["words"] == ["bug"]
