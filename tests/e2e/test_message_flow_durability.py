"""Nothing acknowledged is lost: SIGKILL the Master right after the acks, restart, find it all."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.flow_clients import SioDriver, event, start_app

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "durable-driver"
ADMIN = "durable-admin-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class MasterProcess:
    """`python main.py` in a subprocess, configured through KENKOGO_* variables."""

    def __init__(self, data_dir: Path, **settings: str) -> None:
        self.data_dir = data_dir
        self.settings = {f"KENKOGO_{key.upper()}": value for key, value in settings.items()}
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        environ = {
            **os.environ,
            "KENKOGO_SERVER__HOST": "127.0.0.1",
            "KENKOGO_SERVER__PORT": str(self.port),
            "KENKOGO_STORAGE__DATA_DIR": str(self.data_dir),
            "KENKOGO_API__TOKEN": ADMIN,
            "KENKOGO_DRIVERS__TOKENS": f'["{TOKEN}"]',
            "KENKOGO_LOGGING__FILE": "false",
            "KENKOGO_LOGGING__LEVEL": "WARNING",
            **self.settings,
        }
        self.process = subprocess.Popen(
            [sys.executable, "main.py"],
            cwd=ROOT,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as http:
            while True:
                assert self.process.poll() is None, self.process.stderr.read()  # type: ignore[union-attr]
                try:
                    async with http.get(self.url + "/health") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline, "the Master did not come up"
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()


@pytest.fixture
def processes() -> Iterator[list[MasterProcess]]:
    started: list[MasterProcess] = []
    yield started
    for process in started:
        process.stop()


def stored(data_dir: Path) -> dict[str, tuple[str, str]]:
    """Read every message straight from the SQLite file: id -> (platform_message_id, status)."""
    with sqlite3.connect(data_dir / "kenkogo.db") as connection:
        rows = connection.execute("SELECT id, platform_message_id, status FROM messages")
        return {row[0]: (row[1], row[2]) for row in rows}


@pytest.mark.timeout(120)
async def test_acknowledged_messages_survive_a_sigkill(
    tmp_path: Path, processes: list[MasterProcess]
) -> None:
    data_dir = tmp_path / "data"
    first = MasterProcess(data_dir)
    processes.append(first)
    await first.start()
    driver = await SioDriver(first.url).connect(TOKEN)
    assert (await driver.register("qq", "10001"))["success"]
    singles = await asyncio.gather(
        *(driver.call("event", event(f"single {n}", pid=f"s-{n}")) for n in range(300))
    )
    batch = await driver.call(
        "events", {"events": [event(f"batch {n}", pid=f"b-{n}") for n in range(200)]}
    )
    first.kill()  # straight after the last ack: no chance to flush anything else
    acked: dict[str, str] = {}
    for answer, pid in zip(
        [*singles, *batch],
        [*(f"s-{n}" for n in range(300)), *(f"b-{n}" for n in range(200))],
        strict=True,
    ):
        assert answer["success"] is True, answer
        acked[answer["id"]] = pid
    assert len(acked) == 500
    await driver.client.disconnect()

    found = stored(data_dir)
    assert {message_id: found[message_id][0] for message_id in acked} == acked

    second = MasterProcess(data_dir, apps__recovery_delay="0")
    processes.append(second)
    await second.start()
    # Nobody was subscribed, so the messages were settled as unrouted or left pending; the
    # restart schedules what was left pending again, and with nobody subscribed it settles as
    # unrouted too: nothing stays pending.
    deadline = time.monotonic() + 10
    while {status for _, status in stored(data_dir).values()} != {"unrouted"}:
        assert time.monotonic() < deadline, set(stored(data_dir).values())
        await asyncio.sleep(0.1)
    headers = {"Authorization": f"Bearer {ADMIN}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        ids: set[str] = set()
        cursor: Any = None
        while True:
            params = {"limit": "500", **({"cursor": cursor} if cursor else {})}
            async with http.get(second.url + "/api/v1/messages", params=params) as response:
                body = await response.json()
            ids.update(item["id"] for item in body["items"])
            cursor = body["next_cursor"]
            if cursor is None:
                break
    assert set(acked) <= ids
    driver = await SioDriver(second.url).connect(TOKEN)
    assert (await driver.register("qq", "10001"))["success"]
    again = await driver.send("once more", pid="s-7")
    assert again["duplicate"] is True and acked[again["id"]] == "s-7"
    await driver.client.disconnect()


@pytest.mark.timeout(120)
async def test_messages_unhandled_at_a_sigkill_are_delivered_after_the_restart(
    tmp_path: Path, processes: list[MasterProcess]
) -> None:
    data_dir = tmp_path / "data"
    settings = {"apps__ack_timeout": "30", "apps__recovery_delay": "1"}
    first = MasterProcess(data_dir, **settings)
    processes.append(first)
    await first.start()
    driver = await SioDriver(first.url).connect(TOKEN)
    assert (await driver.register("qq", "10001"))["success"]
    slow = await start_app(first.url, "slow")
    slow.answer = slow.never_ack
    acks = [await driver.call("event", event(f"job {n}", pid=f"j-{n}")) for n in range(5)]
    for _ in acks:
        await slow.next_message()  # delivered, never acknowledged
    first.kill()
    await slow.close()
    await driver.close()
    assert {status for _, status in stored(data_dir).values()} == {"pending"}

    second = MasterProcess(data_dir, **settings)
    processes.append(second)
    await second.start()
    back = await start_app(second.url, "slow")
    try:
        again = [await back.next_message(timeout=10) for _ in acks]
    finally:
        await back.close()
    assert [message["id"] for message in again] == [ack["id"] for ack in acks]
    assert [message["content"] for message in again] == [f"job {n}" for n in range(5)]


@pytest.mark.timeout(120)
async def test_recovery_can_be_turned_off(tmp_path: Path, processes: list[MasterProcess]) -> None:
    data_dir = tmp_path / "data"
    settings = {"apps__ack_timeout": "30", "apps__recovery_window": "0"}
    first = MasterProcess(data_dir, **settings)
    processes.append(first)
    await first.start()
    driver = await SioDriver(first.url).connect(TOKEN)
    assert (await driver.register("qq", "10001"))["success"]
    slow = await start_app(first.url, "slow")
    slow.answer = slow.never_ack
    await driver.call("event", event("job", pid="j-1"))
    await slow.next_message()
    first.kill()
    await slow.close()
    await driver.close()

    second = MasterProcess(data_dir, **settings)
    processes.append(second)
    await second.start()
    assert {status for _, status in stored(data_dir).values()} == {"interrupted"}
