"""Failures in the statistics: retries and timeouts, failed, dropped and expired deliveries."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from tests.conftest import RunningMaster, StartMaster
from tests.support.flow_clients import FlowApp, SioDriver, event, start_app

TOKEN = "driver-token"


async def setup(
    start_master: StartMaster, name: str, **overrides: str
) -> tuple[RunningMaster, SioDriver, FlowApp]:
    master = await start_master(drivers__tokens=f'["{TOKEN}"]', **overrides)
    driver = await SioDriver(master.url).connect(TOKEN)
    await driver.register("qq", "1")
    app = await start_app(master.url, name)
    app.answer = app.never_ack
    return master, driver, app


async def app_figures(master: RunningMaster, name: str, **expected: int) -> dict[str, Any]:
    """Poll /stats/apps until the app's line shows `expected`; return it."""
    line: dict[str, Any] = {}
    for _ in range(100):
        status, body = await master.api("GET", "/api/v1/stats/apps")
        assert status == 200, body
        line = next((item for item in body["items"] if item["app"] == name), {})
        if all(line.get(key) == value for key, value in expected.items()):
            return line
        await asyncio.sleep(0.05)
    raise AssertionError(f"{name}: {line} is not {expected}")


async def test_a_message_never_acknowledged_is_retried_then_failed(
    start_master: StartMaster,
) -> None:
    master, driver, app = await setup(
        start_master, "mute", apps__ack_timeout="0.2", apps__max_attempts="2"
    )
    await driver.send("anyone?")
    assert (await app.next_message())["attempt"] == 1
    assert (await app.next_message())["attempt"] == 2
    line = await app_figures(master, "mute", failed=1)
    assert (line["deliveries"], line["retries"], line["timeouts"]) == (1, 1, 1)
    assert (line["dropped"], line["expired"]) == (0, 0)
    _, overview = await master.api("GET", "/api/v1/stats/overview")
    assert overview["today"]["failed"] == 1
    await app.close()
    await driver.close()


async def test_a_full_queue_drops_its_oldest_message(start_master: StartMaster) -> None:
    master, driver, app = await setup(
        start_master, "slow", apps__max_in_flight="1", apps__queue_limit="1"
    )
    # One in flight, one queued, and the third pushes the queued one out. One batch: a driver
    # waiting for each answer would be held back while the queue is full.
    batch = [event(f"m{n}") for n in range(3)]
    sending = asyncio.create_task(driver.call("events", {"events": batch}))
    line = await app_figures(master, "slow", dropped=1)
    assert (line["deliveries"], line["failed"], line["expired"]) == (1, 0, 0)
    sending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sending
    await app.close()
    await driver.close()


async def test_a_message_whose_app_never_comes_back_expires(start_master: StartMaster) -> None:
    master, driver, app = await setup(start_master, "gone", apps__away_window="0.3")
    await driver.send("are you there?")
    await app.next_message()
    await app.close()  # its in-flight message waits for an instance of the name, in vain
    line = await app_figures(master, "gone", expired=1)
    assert (line["deliveries"], line["timeouts"], line["failed"]) == (1, 1, 0)
    await driver.close()
