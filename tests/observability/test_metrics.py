"""Prometheus /metrics: the counters and gauges after real traffic, and its token."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import RunningMaster, StartMaster
from tests.support.flow_clients import SioDriver, start_app

TOKEN = "driver-token"
METRICS_TOKEN = "scrape-secret-1"


async def scrape(master: RunningMaster, token: str | None = METRICS_TOKEN) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with master.http.get(f"{master.url}/metrics", headers=headers) as response:
        return response.status, await response.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_counters_and_gauges_after_traffic(start_master: StartMaster) -> None:
    master = await start_master(drivers__tokens=f'["{TOKEN}"]', metrics__token=METRICS_TOKEN)
    app = await start_app(master.url, "weather", lambda m: {"reply": "sunny"})
    driver = await SioDriver(master.url).connect(TOKEN)
    await driver.register("qq", "1")
    for n in range(4):
        assert (await driver.send(f"m{n}"))["success"]
    for _ in range(4):
        await driver.next_action()
    await asyncio.sleep(1.3)  # counters reach the totals with the once-a-second flush
    status, text = await scrape(master)
    assert status == 200
    found = samples(text)
    assert found[("kenkogo_messages_received_total", (("platform", "qq"),))] == 4
    assert found[("kenkogo_deliveries_total", (("app", "weather"),))] == 4
    assert found[("kenkogo_replies_total", (("app", "weather"),))] == 4
    assert found[("kenkogo_apps", (("state", "scheduling"),))] == 1
    assert found[("kenkogo_drivers", (("platform", "qq"),))] == 1
    assert found[("kenkogo_build_info", (("version", "0.1.0"),))] == 1
    assert ("process_resident_memory_bytes", ()) in found
    await app.close()
    await driver.close()


async def test_the_token_guards_metrics(start_master: StartMaster) -> None:
    master = await start_master(metrics__token=METRICS_TOKEN)
    assert (await scrape(master, None))[0] == 401
    assert (await scrape(master, "wrong-token"))[0] == 401
    assert (await scrape(master))[0] == 200


async def test_metrics_are_open_without_a_token_and_gone_when_disabled(
    start_master: StartMaster, tmp_path: Path
) -> None:
    open_master = await start_master()
    status, text = await scrape(open_master, None)
    assert status == 200 and "kenkogo_uptime_seconds" in text
    closed = await start_master(tmp_path / "other", metrics__enabled="false")
    assert (await scrape(closed, None))[0] == 404
