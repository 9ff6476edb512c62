"""A JavaScript app on the socket.io-client package takes part in the message flow."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import StartMaster
from tests.support.flow_clients import SioDriver, start_app

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
TOKEN = "driver-token"


def node() -> str:
    """Return the node binary, failing (never skipping) when the machine lacks it."""
    found = shutil.which("node")
    if found is None or not (NODE_DIR / "node_modules" / "socket.io-client").is_dir():
        pytest.fail("Node.js and `npm ci --prefix tests/node` are needed for this test")
    return found


async def test_a_javascript_app_receives_messages_and_replies(start_master: StartMaster) -> None:
    master = await start_master(drivers__tokens=f'["{TOKEN}"]')
    process = await asyncio.create_subprocess_exec(
        node(),
        str(NODE_DIR / "flow_app.mjs"),
        master.url,
        "js-echo",
        "4",
        cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    driver = await SioDriver(master.url).connect(TOKEN)
    python_app = await start_app(master.url, "py-listener", subscribe={"commands": ["/js"]})
    try:
        ready = json.loads(await asyncio.wait_for(process.stdout.readline(), 15))
        assert "ready" in ready, ready
        await driver.register()
        acks = [await driver.send(f"/js {n}") for n in range(4)]
        seen: list[dict[str, Any]] = []
        for _ in range(4):
            line = await asyncio.wait_for(process.stdout.readline(), 15)
            assert line, (await process.stderr.read()).decode()
            seen.append(json.loads(line))
        seen.sort(key=lambda item: item["index"])  # lines may be printed out of arrival order
        assert [item["message"]["id"] for item in seen] == [ack["id"] for ack in acks]
        assert all(item["message"]["attempt"] == 1 for item in seen)
        assert [item["replied"] is not None and item["replied"]["success"] for item in seen] == [
            False,
            True,
            False,
            True,
        ]
        contents = sorted([(await driver.next_action())["content"] for _ in range(6)])
        assert contents == sorted(
            [f"js ack reply to /js {n}" for n in range(4)]
            + ["js event reply to /js 1", "js event reply to /js 3"]
        )
        # The Python app of another name got the same messages alongside.
        assert [(await python_app.next_message())["id"] for _ in range(4)] == [
            ack["id"] for ack in acks
        ]
        assert await asyncio.wait_for(process.wait(), 15) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await python_app.close()
        await driver.close()
