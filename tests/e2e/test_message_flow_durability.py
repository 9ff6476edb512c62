"""Nothing acknowledged is lost: SIGKILL the Master right after the acks, restart, find it all."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.support.flow_clients import SioDriver, event, start_app
from tests.support.process import DRIVER_TOKEN as TOKEN
from tests.support.process import MakeMaster


@pytest.mark.timeout(120)
async def test_acknowledged_messages_survive_a_sigkill(restartable_master: MakeMaster) -> None:
    master = restartable_master()
    await master.start()
    driver = await SioDriver(master.url).connect(TOKEN)
    assert (await driver.register("qq", "10001"))["success"]
    singles = await asyncio.gather(
        *(driver.call("event", event(f"single {n}", pid=f"s-{n}")) for n in range(300))
    )
    batch = await driver.call(
        "events", {"events": [event(f"batch {n}", pid=f"b-{n}") for n in range(200)]}
    )
    await master.kill()  # straight after the last ack: no chance to flush anything else
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

    found = master.messages()
    assert {message_id: found[message_id][0] for message_id in acked} == acked

    await master.start(apps__recovery_delay="0")
    # Nobody was subscribed, so the messages were settled as unrouted or left pending; the
    # restart schedules what was left pending again, and with nobody subscribed it settles as
    # unrouted too: nothing stays pending.
    deadline = time.monotonic() + 10
    while {status for _, status in master.messages().values()} != {"unrouted"}:
        assert time.monotonic() < deadline, set(master.messages().values())
        await asyncio.sleep(0.1)
    ids: set[str] = set()
    cursor: Any = None
    while True:
        params = {"limit": "500", **({"cursor": cursor} if cursor else {})}
        _, body = await master.api("GET", "/api/v1/messages", params=params)
        ids.update(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert set(acked) <= ids
    driver = await SioDriver(master.url).connect(TOKEN)
    assert (await driver.register("qq", "10001"))["success"]
    again = await driver.send("once more", pid="s-7")
    assert again["duplicate"] is True and acked[again["id"]] == "s-7"
    await driver.client.disconnect()


@pytest.mark.timeout(120)
async def test_messages_unhandled_at_a_sigkill_are_delivered_after_the_restart(
    restartable_master: MakeMaster,
) -> None:
    master = restartable_master(apps__ack_timeout="30", apps__recovery_delay="1")
    await master.start()
    driver = await SioDriver(master.url).connect(TOKEN)
    assert (await driver.register("qq", "10001"))["success"]
    slow = await start_app(master.url, "slow")
    slow.answer = slow.never_ack
    acks = [await driver.call("event", event(f"job {n}", pid=f"j-{n}")) for n in range(5)]
    for _ in acks:
        await slow.next_message()  # delivered, never acknowledged
    await master.kill()
    await slow.close()
    await driver.close()
    assert {status for _, status in master.messages().values()} == {"pending"}

    await master.start()
    back = await start_app(master.url, "slow")
    try:
        again = [await back.next_message(timeout=10) for _ in acks]
    finally:
        await back.close()
    assert [message["id"] for message in again] == [ack["id"] for ack in acks]
    assert [message["content"] for message in again] == [f"job {n}" for n in range(5)]


@pytest.mark.timeout(120)
async def test_recovery_can_be_turned_off(restartable_master: MakeMaster) -> None:
    master = restartable_master(apps__ack_timeout="30", apps__recovery_window="0")
    await master.start()
    driver = await SioDriver(master.url).connect(TOKEN)
    assert (await driver.register("qq", "10001"))["success"]
    slow = await start_app(master.url, "slow")
    slow.answer = slow.never_ack
    await driver.call("event", event("job", pid="j-1"))
    await slow.next_message()
    await master.kill()
    await slow.close()
    await driver.close()

    await master.start()
    assert {status for _, status in master.messages().values()} == {"interrupted"}
