"""A bare runner over Socket.IO for protocol tests: it sends what the test says, nothing else."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

from tests.conftest import RunningMaster

SHA = "ab" * 32  # a well-formed revision


class RawRunner:
    """A /runner client that records what the Master sends it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = socketio.AsyncClient(reconnection=False)
        self.commands: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.reconciles: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.errors: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.disconnected = asyncio.Event()
        self.client.on("command", self._on_command, namespace="/runner")
        self.client.on("reconcile", self.reconciles.put_nowait, namespace="/runner")
        self.client.on("error", self.errors.put_nowait, namespace="/runner")
        self.client.on("disconnect", lambda *_: self.disconnected.set(), namespace="/runner")

    async def _on_command(self, data: dict[str, Any]) -> dict[str, Any]:
        self.commands.put_nowait(data)
        return {"received": True}

    async def connect(self, token: str | None) -> RawRunner:
        """Connect with a token (an enrolment token or a credential)."""
        await self.client.connect(
            self.url,
            namespaces=["/runner"],
            transports=["websocket"],
            auth={"token": token} if token is not None else None,
            wait_timeout=5,
        )
        return self

    async def call(self, event: str, data: Any = None) -> Any:
        """Emit an event and return its ack."""
        return await self.client.call(event, data, namespace="/runner", timeout=5)

    async def register(self, name: str = "box-1", **fields: Any) -> dict[str, Any]:
        """Register and return the ack."""
        answer: dict[str, Any] = await self.call(
            "register", {"name": name, "host": "box", "os": "Linux", "arch": "x86_64", **fields}
        )
        return answer

    async def close(self) -> None:
        """Disconnect."""
        await self.client.disconnect()


async def enrolment_token(master: RunningMaster, name: str = "box-1") -> str:
    """Create an enrolment token over REST and return its secret."""
    status, body = await master.api("POST", "/api/v1/runner-enrolments", json={"name": name})
    assert status == 201, body
    token: str = body["token"]
    return token


async def enrolled(
    master: RunningMaster, closing: list[Any], name: str = "box-1"
) -> tuple[RawRunner, dict[str, Any]]:
    """Enrol and register a bare runner; return it and its register ack."""
    runner = await RawRunner(master.url).connect(await enrolment_token(master, name))
    closing.append(runner)
    ack = await runner.register(name)
    assert ack["success"] is True, ack
    return runner, ack


async def runner_view(master: RunningMaster, runner_id: str) -> dict[str, Any]:
    """Return GET /api/v1/runners/{id}."""
    status, body = await master.api("GET", f"/api/v1/runners/{runner_id}")
    assert status == 200, body
    return body


async def wait_for(check: Any, timeout: float = 10, step: float = 0.05) -> Any:
    """Poll an async `check()` until it returns something truthy; fail after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true within {timeout} s: last {result!r}")
        await asyncio.sleep(step)
