"""GET /api/v1/system: the machine, the process and the connections, sampled in the background."""

from __future__ import annotations

import asyncio
import platform
from typing import Any

from kenkogo_master import __version__
from tests.conftest import RunningMaster, StartMaster
from tests.e2e.test_events import stream
from tests.support.flow_clients import SioDriver, start_app

TOKEN = "driver-token"


async def next_sample(master: RunningMaster, after_ms: int) -> dict[str, Any]:
    """Wait for a sample taken after `after_ms`."""
    for _ in range(100):
        status, body = await master.api("GET", "/api/v1/system")
        assert status == 200, body
        if body["time_ms"] > after_ms:
            return body  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError("no new sample")


async def test_static_and_live_figures(start_master: StartMaster) -> None:
    master = await start_master(stats__system_interval="0.2")
    status, body = await master.api("GET", "/api/v1/system")
    assert status == 200, body
    assert body["os"]["system"] == platform.system()
    assert body["python"]["version"] == platform.python_version()
    assert body["master"]["version"] == __version__
    assert body["master"]["uptime_s"] >= 0
    assert 0 <= body["cpu"]["machine_percent"] <= 100
    assert body["cpu_count"] >= 1
    memory = body["memory"]
    assert 0 < memory["machine_used_bytes"] <= memory["machine_total_bytes"]
    assert memory["process_rss_bytes"] > 10_000_000
    assert 0 < body["disk"]["free_bytes"] <= body["disk"]["total_bytes"]
    later = await next_sample(master, body["time_ms"])
    assert later["master"]["uptime_s"] > body["master"]["uptime_s"]


async def test_connections_and_message_rate(start_master: StartMaster) -> None:
    master = await start_master(stats__system_interval="0.3", drivers__tokens=f'["{TOKEN}"]')
    app = await start_app(master.url, "echo")
    driver = await SioDriver(master.url).connect(TOKEN)
    await driver.register("qq", "1")
    _, before = await master.api("GET", "/api/v1/system")
    for n in range(30):
        assert (await driver.send(f"m{n}"))["success"]
    sample = await next_sample(master, before["time_ms"])
    connections = sample["connections"]
    assert connections["apps"]["by_state"] == {"scheduling": 1}
    assert connections["apps"]["by_transport"] == {"socket.io": 1}
    assert connections["drivers"]["by_platform"]["qq"] == 1
    assert sample["messages_per_second"] > 0
    assert sample["telemetry"]["messages_total"] == 30
    await app.close()
    await driver.close()


async def test_samples_are_pushed_on_the_event_stream(start_master: StartMaster) -> None:
    master = await start_master(stats__system_interval="0.1")
    async with stream(master, "?topics=system") as reader:
        first = await reader.event("system.sample")
        second = await reader.event("system.sample")
    assert second["data"]["time_ms"] > first["data"]["time_ms"]
    assert second["data"]["connections"]["event_streams"] == 1
