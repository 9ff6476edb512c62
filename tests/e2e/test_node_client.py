"""An app written in JavaScript with the socket.io-client package talks to the live Master."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.texts import shown_text
from tests.support.waiting import eventually

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
SCRIPT = NODE_DIR / "app_client.mjs"
INSTALL_HINT = "install it with `npm ci --prefix tests/node` (the test command does this)"


def node_executable() -> str:
    """Return the node binary, failing (never skipping) when the machine lacks it."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed; the Node socket.io-client test needs Node.js 18+")
    if not (NODE_DIR / "node_modules" / "socket.io-client" / "package.json").is_file():
        pytest.fail(f"tests/node/node_modules has no socket.io-client; {INSTALL_HINT}")
    return node


async def run_node_app(url: str, name: str) -> tuple[int, str, str]:
    """Run the Node app against `url`; return exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        node_executable(),
        str(SCRIPT),
        url,
        name,
        cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 30)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def test_the_installed_client_is_the_pinned_one() -> None:
    node_executable()
    pinned = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]
    installed = json.loads(
        (NODE_DIR / "node_modules" / "socket.io-client" / "package.json").read_text()
    )

    assert installed["version"] == pinned["socket.io-client"], INSTALL_HINT


async def test_node_app_registers_gets_its_state_and_heartbeats(master: Any) -> None:
    code, out, err = await run_node_app(master.url, "node-weather")

    assert code == 0, f"the Node app failed:\n{err}"
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["ack"]["success"] is True
    assert seen["ack"]["state"] == "scheduling"
    assert seen["ack"]["heartbeat_interval"] == 30
    assert seen["state"] == {
        "state": "scheduling",
        "reason": shown_text(master, "state.scheduling_started"),
    }
    assert seen["order"] == ["connect", "register-ack", "state", "heartbeat-ack"]
    assert isinstance(seen["heartbeat"]["time_ms"], int)

    _, body = await eventually(
        lambda: master.api("GET", f"/api/v1/apps/{seen['ack']['id']}"),
        lambda answer: answer[1]["state"] == "disconnected",
    )
    assert body["name"] == "node-weather"
    assert body["transport"] == "socket.io"
    assert body["subscription"]["commands"] == ["/weather"]
    assert [(step["from"], step["to"]) for step in body["transitions"]] == [
        ("connected", "paused"),
        ("paused", "scheduling"),
        ("scheduling", "disconnected"),
    ]


async def test_node_app_is_told_its_name_is_held(master: Any) -> None:
    await master.api("POST", "/api/v1/app-names/node-held/hold")

    code, out, err = await run_node_app(master.url, "node-held")

    assert code == 0, f"the Node app failed:\n{err}"
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["ack"]["state"] == "paused"
    assert seen["state"] == {"state": "paused", "reason": shown_text(master, "state.name_held")}
