"""A driver that sends faster than its apps take is slowed down, and none of its messages lost."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import StartMaster
from tests.support.flow_clients import SioDriver, event, start_app

TOKEN = "driver-token"


async def test_the_ack_of_a_batch_waits_while_the_apps_lag_far_behind(
    start_master: StartMaster, closing: list[Any]
) -> None:
    master = await start_master(
        drivers__tokens=f'["{TOKEN}"]', apps__queue_limit="40", apps__max_in_flight="2"
    )
    gate = asyncio.Event()

    async def held(message: dict[str, Any]) -> dict[str, Any]:
        await gate.wait()
        return {}

    app = await start_app(master.url, "slow", held)
    closing.append(app)
    driver = await SioDriver(master.url).connect(TOKEN)
    closing.append(driver)
    assert (await driver.register("qq", "10001"))["success"]

    # 2 in flight, 23 queued: more than half the queue limit, so the answer waits.
    batch = [event(f"n{n}") for n in range(25)]
    answering = asyncio.create_task(driver.call("events", {"events": batch}))
    await asyncio.sleep(0.5)
    assert not answering.done()
    gate.set()
    answers = await asyncio.wait_for(answering, 5)
    assert all(answer["success"] for answer in answers)
    received = {(await app.next_message())["id"] for _ in range(25)}
    assert received == {answer["id"] for answer in answers}
    assert master.hub.scheduler.counters["dropped"] == 0

    # With the apps keeping up, answers come at once.
    single = await asyncio.wait_for(driver.send("quick"), 2)
    assert single["success"]
