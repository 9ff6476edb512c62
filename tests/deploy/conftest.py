"""Masters that run deployments of hand-made launch specs, and helpers to drive them."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from kenkogo_master.app import create_app
from kenkogo_master.deploy.spec import LaunchSpec
from kenkogo_master.keys import LAUNCH_RESOLVER
from tests.conftest import RunningMaster, make_settings, stop_master
from tests.support.process import free_port
from tests.support.waiting import eventually

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable


@dataclass
class Apps:
    """The installed revisions the test's Masters resolve."""

    specs: dict[tuple[str, str], LaunchSpec] = field(default_factory=dict)

    def add(self, spec: LaunchSpec) -> None:
        self.specs[(spec.app_id, spec.revision)] = spec

    def resolve(self, app_id: str, revision: str) -> LaunchSpec | None:
        return self.specs.get((app_id, revision))


Start = Callable[..., Awaitable[RunningMaster]]


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Start]:
    """Start Masters (on a known port, which the apps are given) that resolve `apps`."""
    running: list[RunningMaster] = []

    async def go(
        apps: Apps, data_dir: Path | None = None, port: int | None = None, **overrides: str
    ) -> RunningMaster:
        port = port or free_port()
        settings = make_settings(data_dir or tmp_path / "data", server__port=str(port), **overrides)
        app = create_app(settings)
        app[LAUNCH_RESOLVER] = apps.resolve
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        master = RunningMaster(settings, runner, port, aiohttp.ClientSession())
        running.append(master)
        return master

    yield go
    for master in running:
        await stop_master(master)


def script(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def spec(app_id: str, argv: tuple[str, ...], cwd: Path, **policies: Any) -> LaunchSpec:
    return LaunchSpec(
        app_id=app_id,
        revision="r1",
        argv=argv,
        cwd=cwd,
        env={"PYTHONPATH": str(REPO)},
        **policies,
    )


async def state_of(master: RunningMaster, deployment_id: str) -> dict[str, Any]:
    status, body = await master.api("GET", f"/api/v1/deployments/{deployment_id}")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


async def wait_state(
    master: RunningMaster, deployment_id: str, state: str, timeout: float = 15
) -> dict[str, Any]:
    return await eventually(
        lambda: state_of(master, deployment_id), lambda b: b["state"] == state, timeout
    )


async def create(master: RunningMaster, app_id: str, **extra: Any) -> dict[str, Any]:
    status, body = await master.api(
        "POST", "/api/v1/deployments", json={"app_id": app_id, "revision": "r1", **extra}
    )
    assert status == 201, body
    return body  # type: ignore[no-any-return]


async def logs(master: RunningMaster, deployment_id: str, query: str = "") -> list[dict[str, Any]]:
    status, body = await master.api("GET", f"/api/v1/deployments/{deployment_id}/logs{query}")
    assert status == 200, body
    return body["items"]  # type: ignore[no-any-return]
