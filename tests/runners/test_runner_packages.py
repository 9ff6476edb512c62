"""A runner process installs a real package revision in its own data directory and runs it."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import StartMaster
from tests.e2e.test_packages import echo_package, upload
from tests.runners.clients import enrolment_token, wait_for
from tests.runners.test_runner_process import RunnerProcess, alive, app_in, the_runner

INSTALL_SECONDS = 300.0


@pytest.mark.timeout(600)
async def test_a_runner_installs_the_echo_package_with_pip_and_its_app_answers(
    start_master: StartMaster, runner_process: list[RunnerProcess], tmp_path: Path
) -> None:
    master = await start_master()
    data = echo_package(tmp_path / "echo", "1.0.0", None)
    status, uploaded = await upload(master, data)
    assert status == 201, uploaded
    sha = uploaded["sha256"]

    runner = RunnerProcess(master, tmp_path / "runner", executor=None)  # the real executor
    runner_process.append(runner)
    await runner.start(await enrolment_token(master))
    view = await wait_for(lambda: the_runner(master, "online"), timeout=20)
    runner_id = view["id"]
    path = f"/api/v1/runners/{runner_id}/commands"

    async def finished(command_id: str) -> dict[str, Any] | None:
        _, body = await master.api("GET", f"{path}/{command_id}")
        return body if body["state"] in ("ok", "failed") else None

    deploy = {"type": "deploy", "deployment": "d1", "package": "echo", "revision": sha}
    status, sent = await master.api("POST", path, json=deploy)
    assert status == 202, sent  # no wait_ms: accepted, the result comes later
    result = await wait_for(lambda: finished(sent["id"]), timeout=INSTALL_SECONDS)
    assert result["state"] == "ok", (result, runner.output.decode()[-4000:])

    # Fetched by digest and installed with pip in the runner's own data directory.
    installed = tmp_path / "runner" / "apps" / "echo" / sha
    assert (installed / "READY").is_file() and (installed / "venv").is_dir()
    assert (tmp_path / "runner" / "packages" / f"{sha}.pkg").read_bytes() == data

    status, sent = await master.api(
        "POST", path, json={"type": "start", "deployment": "d1", "wait_ms": 30_000}
    )
    assert status == 200 and sent["state"] == "ok", sent
    running = await wait_for(lambda: app_in(master, runner_id, "running"), timeout=20)
    assert alive(running["pid"])

    # The app registered with the Master by itself, and answers a message.
    async def echo_registered() -> bool:
        return any(session.name == "echo" for session in iter(master.hub.apps.registry))

    await wait_for(echo_registered, timeout=30)
    status, simulated = await master.api(
        "POST", "/api/v1/simulate", json={"content": "/echo from a runner", "wait_ms": 5000}
    )
    assert status == 200 and "from a runner" in str(simulated["replies"]), simulated

    # A runner stopped by an operator stops its app with it.
    assert await runner.stop(signal.SIGTERM) == 0
    await asyncio.sleep(0.2)
    assert not alive(running["pid"])
    assert b"Traceback" not in runner.output, runner.output.decode()
